"""A real worker process exposes, before it has handled anything, every series its alerts watch.

Prometheus sees a counter only from its first scrape: a series born at 1 shows no increase, so
EventConsumerRejecting and DeadlineSweepFailing could not fire for a worker's first rejection or
failed sweep unless the worker writes those series at 0 when it starts."""

from __future__ import annotations

import importlib
import tempfile

import pytest

from services.common.config import Settings
from services.common.db import Store
from tests.integration.conftest import scrape
from tests.processes import start_worker, stop
from tests.support import free_port

pytestmark = pytest.mark.nameko



def declared(service: str):
    """The subscriptions and timers the service's handlers declare (read from its wiring)."""
    with tempfile.TemporaryDirectory() as scratch:
        store = Store(f"sqlite:///{scratch}/wiring.db")
        try:
            runtime = importlib.import_module(f"services.{service}.service").build(Settings.from_env({}), store)
            return runtime.subscriptions, runtime.timers
        finally:
            store.dispose()


def samples(metrics_port: int) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value for s in scrape(metrics_port)}


def test_a_started_worker_exposes_rejections_and_failed_sweeps_at_zero(command_center_postgres, amqp_uri):
    subscriptions, timers = declared("command_center")
    assert subscriptions and timers  # the wiring this test relies on
    metrics_port = free_port()
    process = start_worker("command_center", DATABASE_URL=command_center_postgres.url, AMQP_URI=amqp_uri,
                           METRICS_PORT=str(metrics_port))
    try:
        exposed = samples(metrics_port)
    finally:
        stop(process)
    for subscription in subscriptions:
        labels = {"service": "command_center", "source": subscription.source,
                  "event_type": subscription.event_type, "outcome": "rejected"}
        assert exposed.get(("supervision_events_consumed_total", frozenset(labels.items()))) == 0.0, labels
    for timer in timers:
        labels = {"service": "command_center", "timer": timer.name, "outcome": "error"}
        assert exposed.get(("supervision_timer_runs_total", frozenset(labels.items()))) == 0.0, labels
