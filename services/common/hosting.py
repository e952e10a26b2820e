"""Hosting a ServiceRuntime in a process: gRPC server, outbox relay, timers.

Used by the monolith (many runtimes, in-process bus), by `serve` (one runtime, RabbitMQ) and by
the tests, so all three run the same start-up and shutdown sequence.
"""

from __future__ import annotations

import logging
import threading

from services.common.business_metrics import BusinessCollector
from services.common.business_metrics import register as register_business_metrics
from services.common.config import Settings
from services.common.consumer import Timer, run_timer
from services.common.db import Store
from services.common.grpc_server import RunningServer, start_server
from services.common.paging import page_token_key, use_page_token_key
from services.common.relay import OutboxRelay, Transport
from services.common.runtime import ServiceRuntime

log = logging.getLogger(__name__)


class TimerThread:
    """Runs a timer every interval in a plain thread (monolithic mode; the worker uses nameko's)."""

    def __init__(self, service: str, timer: Timer, interval_seconds: float, store: Store | None = None):
        self.service = service
        self.store = store
        self.timer = timer
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"timer-{service}-{timer.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            run_timer(self.service, self.timer, self.store, self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


class HostedService:
    def __init__(self, runtime: ServiceRuntime, settings: Settings, transport: Transport, *,
                 port: int, host: str = "[::]", run_timers: bool = True):
        self.runtime = runtime
        self.settings = settings
        # Before anything serves: every List call seals and checks page tokens with this key.
        use_page_token_key(page_token_key(settings))
        self.port = port
        self.host = host
        self.relay = OutboxRelay(runtime.name, runtime.store, runtime.outbox_model, transport,
                                 poll_seconds=settings.relay_poll_seconds)
        self.timers = [TimerThread(runtime.name, t, settings.sweep_interval_seconds, runtime.store)
                       for t in runtime.timers] if run_timers else []
        self.server: RunningServer | None = None
        self._unregister_metrics = None

    def start(self) -> RunningServer:
        if self.runtime.indicators is not None:
            self.runtime.indicators.start()
        self.relay.start()
        if self.runtime.item_counts is not None:
            collector = BusinessCollector(self.runtime.name, self.runtime.store, self.runtime.item_counts)
            self._unregister_metrics = register_business_metrics(collector)
        for timer in self.timers:
            timer.start()
        self.server = start_server(self.runtime.grpc_registrations(), self.runtime.grpc_service_names,
                                   self.settings, self.port, self.host)
        log.info("serving", extra={"service": self.runtime.name, "port": self.server.port})
        return self.server

    def settle(self) -> None:
        """Refreshes pending indicators and publishes everything committed so far, before returning
        (start-up ordering of the demo data, tests)."""
        if self.runtime.indicators is not None:
            self.runtime.indicators.flush()
        while self.relay.relay_once():
            pass

    def stop(self, grace_seconds: float | None = None) -> None:
        grace = self.settings.drain_grace_seconds if grace_seconds is None else grace_seconds
        if self.server is not None:
            self.server.drain(grace)
        for timer in self.timers:
            timer.stop()
        if self.runtime.indicators is not None:
            self.runtime.indicators.stop()
            self.runtime.indicators.flush()
        # After the drain, so events of the calls that finished during it are still published.
        self.relay.stop()
        if self._unregister_metrics is not None:
            self._unregister_metrics()
            self._unregister_metrics = None
