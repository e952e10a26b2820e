"""Group commit in monolithic mode: the in-process bus hands a consumer a batch of events, which it
applies in few transactions with the same outcomes as one at a time: exactly once, in order, stale
versions ignored, refusals parked, and a failure worth a redelivery leaves the rest for it."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from services.common import errors
from services.common.bus import DeliveryFailed, InProcessBus
from services.common.consumer import (
    APPLIED,
    DUPLICATE,
    MAX_GROUP,
    REJECTED,
    STALE,
    Consumer,
    PartialDelivery,
    Subscription,
)
from services.common.events import EventWriter
from services.common.relay import OutboxRelay
from supervision.command_center.v1.events_pb2 import OfficeUpdated


class Handler:
    """Writes one Effect row per event; refuses or fails on the events it is told to."""

    def __init__(self, models, refuse: set[str] = frozenset(), fail: set[str] = frozenset()):
        self.models, self.refuse, self.fail = models, set(refuse), set(fail)
        self.calls: list[str] = []

    def __call__(self, session, event) -> None:
        self.calls.append(event.id)
        session.add(self.models.Effect(event_id=event.id, note=event.message.office_id))
        if event.id in self.refuse:
            raise errors.FailedPrecondition("office is closed")
        if event.id in self.fail:
            raise OperationalError("INSERT ...", {}, OSError("store unavailable"))


class Commits:
    """Counts the store's commits (its after-commit listeners run once per committed transaction)."""

    def __init__(self, store) -> None:
        self.count = 0
        store.after_commit.append(self._committed)
        self._lock = threading.Lock()

    def _committed(self, _notes: dict[str, Any]) -> None:
        with self._lock:
            self.count += 1


def noted(session) -> None:
    session.info["noted"] = True  # after_commit runs only for a transaction that noted something


def effects(store, models) -> list[str]:
    with store.read() as session:
        return list(session.scalars(select(models.Effect.event_id).order_by(models.Effect.id)))


def inbox(store, models) -> set[str]:
    with store.read() as session:
        return set(session.scalars(select(models.Inbox.event_id)))


@pytest.fixture
def consumer(store, models) -> Consumer:
    return Consumer("grouped", store, models.Inbox, models.AppliedVersion, models.DeadLetter)


def test_a_batch_is_applied_in_groups_in_order_once_each(consumer, store, models, make_wire):
    handler = Handler(models)
    commits = Commits(store)

    def handle(session, event) -> None:
        handler(session, event)
        noted(session)

    subscription = Subscription("command_center", OfficeUpdated, handle)
    wires = [make_wire(aggregate_id=f"shop-{n}") for n in range(MAX_GROUP + 5)]

    assert consumer.handle_many([(subscription, wire) for wire in wires]) == [APPLIED] * len(wires)

    assert effects(store, models) == [wire["id"] for wire in wires]
    assert commits.count == 2  # a group of MAX_GROUP and one of five, not a transaction per event
    # Delivered again (a relay that crashed before marking them sent): nothing happens twice.
    assert consumer.handle_many([(subscription, wire) for wire in wires]) == [DUPLICATE] * len(wires)
    assert effects(store, models) == [wire["id"] for wire in wires]


def test_versions_within_one_group_keep_the_newest_and_ignore_the_older(consumer, store, models, make_wire):
    subscription = Subscription("command_center", OfficeUpdated, Handler(models))
    first, second, older = (make_wire(aggregate_version=1), make_wire(aggregate_version=2),
                            make_wire(aggregate_version=1))

    outcomes = consumer.handle_many([(subscription, first), (subscription, second), (subscription, older)])

    assert outcomes == [APPLIED, APPLIED, STALE]
    assert effects(store, models) == [first["id"], second["id"]]
    assert inbox(store, models) == {first["id"], second["id"], older["id"]}


def test_a_refusal_in_a_group_is_parked_alone_and_the_others_are_applied(consumer, store, models, make_wire):
    wires = [make_wire(aggregate_id=f"shop-{n}") for n in range(4)]
    handler = Handler(models, refuse={wires[2]["id"]})
    subscription = Subscription("command_center", OfficeUpdated, handler)

    outcomes = consumer.handle_many([(subscription, wire) for wire in wires])

    assert outcomes == [APPLIED, APPLIED, REJECTED, APPLIED]
    assert effects(store, models) == [wires[0]["id"], wires[1]["id"], wires[3]["id"]]
    with store.read() as session:
        assert list(session.scalars(select(models.DeadLetter.event_id))) == [wires[2]["id"]]


def test_a_store_failure_stops_at_the_failing_event_and_keeps_what_came_before(consumer, store, models,
                                                                                make_wire):
    wires = [make_wire(aggregate_id=f"shop-{n}") for n in range(5)]
    handler = Handler(models, fail={wires[3]["id"]})
    subscription = Subscription("command_center", OfficeUpdated, handler)

    with pytest.raises(PartialDelivery) as stopped:
        consumer.handle_many([(subscription, wire) for wire in wires])

    assert stopped.value.applied == 3
    assert isinstance(stopped.value.cause, OperationalError)
    assert effects(store, models) == [wire["id"] for wire in wires[:3]]
    handler.fail.clear()  # the store is back: the redelivery of the whole batch applies the rest once
    assert consumer.handle_many([(subscription, wire) for wire in wires]) == [DUPLICATE] * 3 + [APPLIED] * 2
    assert effects(store, models) == [wire["id"] for wire in wires]


def test_the_bus_reports_how_many_leading_events_every_service_applied(make_store, models, make_wire):
    bus = InProcessBus()
    steady, flaky = make_store("steady"), make_store("flaky")
    wires = [make_wire(aggregate_id=f"shop-{n}") for n in range(6)]
    flaky_handler = Handler(models, fail={wires[4]["id"]})
    bus.subscribe(Consumer("steady", steady, models.Inbox, models.AppliedVersion, models.DeadLetter),
                  [Subscription("command_center", OfficeUpdated, Handler(models))])
    bus.subscribe(Consumer("flaky", flaky, models.Inbox, models.AppliedVersion, models.DeadLetter),
                  [Subscription("command_center", OfficeUpdated, flaky_handler)])

    with pytest.raises(DeliveryFailed) as failed:
        bus.publish_many(wires)

    assert failed.value.delivered == 4
    assert effects(steady, models) == [wire["id"] for wire in wires]  # the steady service got them all
    assert effects(flaky, models) == [wire["id"] for wire in wires[:4]]


def test_the_relay_marks_sent_what_every_service_applied_and_records_the_failure(make_store, models):
    source, target = make_store("source"), make_store("target")
    writer = EventWriter("command_center", models.Outbox)
    with source.transaction() as session:
        ids = [writer.record(session, OfficeUpdated(office_id=f"shop-{n}", version=1), aggregate_type="office",
                             aggregate_id=f"shop-{n}", version=1).id for n in range(5)]
    handler = Handler(models, fail={ids[2]})
    bus = InProcessBus()
    bus.subscribe(Consumer("target", target, models.Inbox, models.AppliedVersion, models.DeadLetter),
                  [Subscription("command_center", OfficeUpdated, handler)])
    relay = OutboxRelay("command_center", source, models.Outbox, bus)

    with pytest.raises(DeliveryFailed):
        relay.relay_once()

    with source.read() as session:
        rows = [(row.event_id, row.sent_at is not None, row.attempts)
                for row in session.scalars(select(models.Outbox).order_by(models.Outbox.id))]
    assert rows == [(ids[0], True, 0), (ids[1], True, 0), (ids[2], False, 1), (ids[3], False, 0), (ids[4], False, 0)]
    handler.fail.clear()
    assert relay.relay_once() == 3
    assert effects(target, models) == ids
