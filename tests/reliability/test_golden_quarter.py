"""The golden quarter in microservices mode: every service as its own API process and nameko worker
on PostgreSQL, events through RabbitMQ, the gateway's live model fed by its broadcast listener; the
figures several services compute together equal the ones computed by hand
(tests/integration/golden_quarter.py), as they do in the monolith.

Time is one file (CLOCK_FILE) that every process reads; the deadline sweeps, which the workers run
only every SWEEP_INTERVAL_SECONDS, are run by this test on each service's own runtime against the
same store, as the worker would run them.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time

import grpc
import pytest

from services.common import registry
from services.common.clock import FileClock
from services.common.config import Settings
from services.common.consumer import run_timer
from services.common.db import Store
from tests.integration import golden_quarter as golden
from tests.reliability import catalog
from tests.reliability.cluster import migrate, plain_url, queue_depths, unsent, wait_until
from tests.support import free_port

SETTLE_SECONDS = 60


class MicroCenter:
    """Seven services, each with its API process and worker, one clock file between them."""

    def __init__(self, cluster, databases, amqp_uri: str, clock_path: str):
        self.amqp_uri = amqp_uri
        self.clock = FileClock(clock_path)
        self.clock.set(golden.at("2026-08-03", 7))
        env = {"CLOCK_FILE": clock_path, "AUTH_MODE": "jwt", "JWT_SECRET": golden.SECRET}
        self.urls = {name: databases.create(name) for name in registry.names()}
        for name, url in self.urls.items():
            migrate(name, plain_url(url))
        ports = {name: free_port() for name in registry.names()}
        sources = ",".join(f"{name}=127.0.0.1:{port}" for name, port in ports.items() if name != "gateway")
        self.workers = [cluster.worker(name, url, amqp_uri=amqp_uri, wait=False, **env)
                        for name, url in self.urls.items() if catalog.spec(name).subscriptions
                        and not catalog.spec(name).broadcast]
        self.apis = {name: cluster.serve(name, url, amqp_uri=amqp_uri, grpc_port=ports[name], wait=False,
                                         INDICATOR_SOURCES=sources, **env)
                     for name, url in self.urls.items()}
        for process in self.apis.values():
            process.wait_serving()
        for process in self.workers:
            process.wait_consuming(amqp_uri)
        # The sweeps, on each service's own runtime (the worker's code) against its store.
        settings = Settings.from_env({"LOG_FORMAT": "text", "DEMO_DATA": "false", **env})
        self.runtimes = []
        for name, url in self.urls.items():
            build = importlib.import_module(f"services.{name}.service").build
            self.runtimes.append(build(settings, Store(plain_url(url)), **self.clock.build_options(build)))
        self.queues = [queue for name in self.urls for queue in catalog.worker_queues(name)]

    def channel(self, service: str) -> grpc.Channel:
        return self.apis[service].channel

    def set_time(self, instant: dt.datetime) -> None:
        self.clock.set(instant)

    def sweep(self) -> None:
        for runtime in self.runtimes:
            for timer in runtime.timers:
                run_timer(runtime.name, timer, runtime.store)
            if runtime.indicators is not None:
                runtime.indicators.flush()

    def settle(self) -> None:
        """Every outbox sent and every queue empty, twice in a row a moment apart (a consumer's own
        events, or an indicator refresh after its commit, may still be on their way)."""
        def quiet() -> bool:
            return (all(unsent(url) == 0 for url in self.urls.values())
                    and all(depth <= 0 for depth in queue_depths(self.amqp_uri, self.queues).values()))

        for _ in range(2):
            wait_until(quiet, SETTLE_SECONDS, "events delivered")
            time.sleep(0.5)

    def close(self) -> None:
        for runtime in self.runtimes:
            runtime.store.dispose()


@pytest.fixture
def quarter(cluster, databases, vhost, tmp_path):
    center = MicroCenter(cluster, databases, vhost, str(tmp_path / "clock"))
    try:
        golden.play(center)
        yield center
    finally:
        center.close()


def test_the_golden_quarter_adds_up_in_microservices_mode(quarter):
    expected = golden.expected_index(golden.expected_indicators())
    assert golden.indices(quarter) == (pytest.approx(expected, abs=1e-9), pytest.approx(expected, abs=1e-9))

    period, officers = golden.close_the_quarter(quarter)

    coefficients = golden.expected_coefficients()
    for office_id, inputs in golden.expected_workload().items():
        assert dict(period[office_id].workload) == pytest.approx(inputs), office_id
        assert period[office_id].coefficient == pytest.approx(coefficients[office_id], abs=1e-9), office_id
    assert officers == golden.expected_officers()
