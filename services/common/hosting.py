"""Hosting a ServiceRuntime in a process: gRPC server, outbox relay, timers.

Used by the monolith (many runtimes, in-process bus), by `serve` (one runtime, RabbitMQ) and by
the tests, so all three run the same start-up and shutdown sequence. Each asks the runtime for its
host (`ServiceRuntime.hosted`): a HostedService, or a subclass of it for a service that runs more
beside its gRPC server (the gateway's HTTP server and live index), told about the process around it
by a HostContext.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.common.business_metrics import BusinessCollector
from services.common.business_metrics import register as register_business_metrics
from services.common.config import Settings
from services.common.consumer import Timer, run_timer
from services.common.db import Store
from services.common.grpc_server import RunningServer, start_server
from services.common.paging import page_token_key, use_page_token_key
from services.common.relay import OutboxRelay, Transport
from services.common.startup import StartupProgress

if TYPE_CHECKING:  # the runtime makes its host (ServiceRuntime.hosted): imported the other way at run time
    from services.common.runtime import ServiceRuntime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HostContext:
    """What the process around a service offers its host beyond a gRPC port; a plain HostedService
    needs none of it, the gateway's host reads all of it."""

    # The public HTTP port of a service that serves HTTP: None for HTTP_PORT, 0 for any free port.
    http_port: int | None = None
    # The services hosted before it in the same process (monolithic mode), at the ports they got.
    peers: Sequence[HostedService] = ()
    # The demo district's loading in the same process (monolithic mode); None: nothing loads here.
    startup: StartupProgress | None = None
    # Microservices mode: the broker (AMQP_URI) from which the API process itself consumes the
    # service's broadcast subscriptions; empty where the events come otherwise (in-process bus).
    broker: str = ""


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
        """Runs the timer every interval from now on."""
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            run_timer(self.service, self.timer, self.store, self.interval)

    def stop(self) -> None:
        """Stops after the run in progress, waiting for it up to 5 s."""
        self._stop.set()
        self._thread.join(5)


class HostedService:
    """A service running in this process: its gRPC server, outbox relay, indicator refresher,
    business gauges and (unless the worker runs them) timers, started and stopped in one order."""

    # The event-consumer loops this host runs in the API process (services.common.worker_health),
    # which `serve` watches on /livez and /readyz; none for a service whose worker consumes.
    consumer_loops: tuple[str, ...] = ()

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
        self._unregister_metrics: Callable[[], None] | None = None

    def start(self) -> RunningServer:
        """Starts everything and serves gRPC; returns the running server (its port, when 0 was asked)."""
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

    def announce(self, hostname: str) -> list[str]:
        """The start banner's lines for what this host serves beyond gRPC (none here; the gateway's
        HTTP API and dashboard), at `hostname`."""
        return []

    def stop(self, grace_seconds: float | None = None) -> None:
        """Drains the calls in flight (DRAIN_GRACE_SECONDS unless given), then publishes what they committed."""
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
