"""The series an alert watches exist at 0 as soon as the part that counts them is built."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import REGISTRY

from services.common.db import Store
from services.common.metrics import initialise_consumer_series
from services.common.relay import OutboxRelay


@dataclass(frozen=True)
class Declared:
    source: str
    event_type: str


@dataclass(frozen=True)
class Sweep:
    name: str


def test_every_declared_subscription_and_timer_starts_at_zero():
    initialise_consumer_series("series_probe", [Declared("complaints", "ComplaintOverdue")], [Sweep("overdue")])
    for outcome in ("applied", "rejected"):
        assert REGISTRY.get_sample_value("supervision_events_consumed_total", {
            "service": "series_probe", "source": "complaints", "event_type": "ComplaintOverdue",
            "outcome": outcome}) == 0.0
    for outcome in ("ok", "error"):
        assert REGISTRY.get_sample_value("supervision_timer_runs_total", {
            "service": "series_probe", "timer": "overdue", "outcome": outcome}) == 0.0
    # Nothing is written for what the service did not declare.
    assert REGISTRY.get_sample_value("supervision_events_consumed_total", {
        "service": "series_probe", "source": "emergency", "event_type": "ComplaintOverdue",
        "outcome": "rejected"}) is None


def test_a_built_relay_exposes_its_failure_counter_at_zero(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/relay.db")
    try:
        OutboxRelay("relay_probe", store, object, transport=None)
    finally:
        store.dispose()
    assert REGISTRY.get_sample_value("supervision_events_publish_failed_total", {"service": "relay_probe"}) == 0.0
