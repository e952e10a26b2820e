"""InProcessBus: routing by (source, message) and synchronous, all-or-retry delivery."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from services.common.bus import DeliveryFailed, InProcessBus
from services.common.consumer import Consumer, Subscription
from supervision.command_center.v1.events_pb2 import OfficeRegistered, OfficerRegistered, OfficerUpdated


def _effects(store, models) -> list[str]:
    with store.read() as session:
        return list(session.scalars(select(models.Effect.note).order_by(models.Effect.id)))


def _writer(models, note: str):
    def handle(session, event) -> None:
        session.add(models.Effect(event_id=event.id, note=note))

    return handle


def test_events_reach_only_subscriptions_of_matching_source_and_type(make_store, models, make_wire):
    bus = InProcessBus()
    store_a, store_b = make_store("a"), make_store("b")
    bus.subscribe(Consumer("a", store_a, models.Inbox, models.AppliedVersion, models.DeadLetter), [
        Subscription("command_center", OfficeRegistered, _writer(models, "a.registered"), versioned=False)])
    bus.subscribe(Consumer("b", store_b, models.Inbox, models.AppliedVersion, models.DeadLetter), [
        Subscription("command_center", OfficerRegistered, _writer(models, "b.closed"), versioned=False),
        Subscription("mobile_enforcement", OfficeRegistered, _writer(models, "b.inspection"), versioned=False),
        Subscription("command_center", OfficeRegistered, _writer(models, "b.registered"), versioned=False),
    ])
    for source, message in [("command_center", OfficeRegistered), ("command_center", OfficerRegistered),
                            ("mobile_enforcement", OfficeRegistered), ("command_center", OfficerUpdated)]:
        bus.publish(make_wire(message, source=source))

    assert _effects(store_a, models) == ["a.registered"]
    assert _effects(store_b, models) == ["b.registered", "b.closed", "b.inspection"]


def test_a_failing_consumer_fails_the_delivery_and_a_retry_applies_each_once(make_store, models, make_wire):
    bus = InProcessBus()
    healthy, flaky = make_store("healthy"), make_store("flaky")
    failures = {"left": 1}

    def sometimes(session, envelope) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("INSERT ...", {}, OSError("store unavailable"))
        session.add(models.Effect(event_id=envelope.id, note="flaky"))

    bus.subscribe(Consumer("healthy", healthy, models.Inbox, models.AppliedVersion, models.DeadLetter),
                  [Subscription("command_center", OfficeRegistered, _writer(models, "healthy"), versioned=False)])
    bus.subscribe(Consumer("flaky", flaky, models.Inbox, models.AppliedVersion, models.DeadLetter),
                  [Subscription("command_center", OfficeRegistered, sometimes, versioned=False)])
    wire = make_wire(OfficeRegistered)

    with pytest.raises(DeliveryFailed, match="flaky: OperationalError"):
        bus.publish(wire)
    assert _effects(healthy, models) == ["healthy"]  # the others still got it
    assert _effects(flaky, models) == []

    bus.publish(wire)  # the relay's retry of the same outbox row
    assert _effects(healthy, models) == ["healthy"]
    assert _effects(flaky, models) == ["flaky"]


def test_publishing_with_no_subscriber_is_a_no_op(make_wire):
    InProcessBus().publish(make_wire(source="nobody"))
