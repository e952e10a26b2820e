"""Consumer.handle on a real SQLite store: applied exactly once, stale versions ignored, what cannot be
applied parked in the dead-letter table and replayable."""

from __future__ import annotations

import threading

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from sqlalchemy.exc import DataError, OperationalError

from services.common import errors
from services.common.consumer import APPLIED, DUPLICATE, REJECTED, STALE, Consumer, Subscription
from supervision.command_center.v1.events_pb2 import OfficeUpdated


class Recorder:
    """A handler that writes one Effect row per call; can be told to fail."""

    def __init__(self, models, fail_with: BaseException | None = None):
        self.models = models
        self.fail_with = fail_with
        self.calls: list[str] = []

    def __call__(self, session, event) -> None:
        self.calls.append(event.id)
        session.add(self.models.Effect(event_id=event.id, note=event.message.name))
        if self.fail_with is not None:
            session.flush()  # the partial write really reached the database before the failure
            raise self.fail_with


@pytest.fixture
def consumer(store, models) -> Consumer:
    return Consumer("inspection", store, models.Inbox, models.AppliedVersion, models.DeadLetter)


def _effects(store, models) -> list[str]:
    with store.read() as session:
        return list(session.scalars(select(models.Effect.event_id).order_by(models.Effect.id)))


def _inbox(store, models) -> list[str]:
    with store.read() as session:
        return sorted(session.scalars(select(models.Inbox.event_id)))


def _parked(store, models) -> list[tuple[str, str, str]]:
    with store.read() as session:
        return [(r.event_id, r.reason, r.subscription) for r in session.scalars(
            select(models.DeadLetter).where(models.DeadLetter.replayed_at.is_(None)).order_by(models.DeadLetter.id))]


def _parked_ids(store, models) -> list[int]:
    with store.read() as session:
        return list(session.scalars(select(models.DeadLetter.id).order_by(models.DeadLetter.id)))


def _dead_lettered(reason: str) -> float:
    value = REGISTRY.get_sample_value("supervision_events_dead_lettered_total", {
        "service": "inspection", "source": "command_center", "event_type": "OfficeUpdated", "reason": reason})
    return value or 0.0


def _versions(store, models) -> dict[str, int]:
    with store.read() as session:
        return dict(session.execute(select(models.AppliedVersion.aggregate, models.AppliedVersion.version)).all())


def test_first_delivery_is_applied_and_recorded(consumer, store, models, make_wire):
    handler = Recorder(models)
    wire = make_wire(aggregate_version=3)

    outcome = consumer.handle(Subscription("command_center", OfficeUpdated, handler), wire)

    assert outcome == APPLIED
    assert handler.calls == [wire["id"]]
    assert _effects(store, models) == [wire["id"]]
    assert _inbox(store, models) == [wire["id"]]
    assert _versions(store, models) == {"command_center/office/shop-1": 3}


def test_redelivery_is_a_duplicate_and_the_effect_happens_once(consumer, store, models, make_wire):
    handler = Recorder(models)
    subscription = Subscription("command_center", OfficeUpdated, handler)
    wire = make_wire()

    outcomes = [consumer.handle(subscription, dict(wire)) for _ in range(3)]

    assert outcomes == [APPLIED, DUPLICATE, DUPLICATE]
    assert handler.calls == [wire["id"]]
    assert _effects(store, models) == [wire["id"]]


def test_older_version_after_newer_is_stale_with_no_effect(consumer, store, models, make_wire):
    handler = Recorder(models)
    subscription = Subscription("command_center", OfficeUpdated, handler)
    newer, older, same = make_wire(aggregate_version=5), make_wire(aggregate_version=4), make_wire(aggregate_version=5)

    assert consumer.handle(subscription, newer) == APPLIED
    assert consumer.handle(subscription, older) == STALE
    assert consumer.handle(subscription, same) == STALE

    assert handler.calls == [newer["id"]]
    assert _effects(store, models) == [newer["id"]]
    assert _versions(store, models) == {"command_center/office/shop-1": 5}
    # A stale event is recorded too, so its redelivery is a plain duplicate.
    assert consumer.handle(subscription, older) == DUPLICATE


def test_versions_advance_and_are_kept_per_aggregate(consumer, store, models, make_wire):
    subscription = Subscription("command_center", OfficeUpdated, Recorder(models))

    assert consumer.handle(subscription, make_wire(aggregate_version=1)) == APPLIED
    assert consumer.handle(subscription, make_wire(aggregate_version=2)) == APPLIED
    assert consumer.handle(subscription, make_wire(aggregate_id="shop-2", aggregate_version=1)) == APPLIED

    assert _versions(store, models) == {"command_center/office/shop-1": 2, "command_center/office/shop-2": 1}


def test_unversioned_subscription_applies_regardless_of_version(consumer, store, models, make_wire):
    handler = Recorder(models)
    subscription = Subscription("command_center", OfficeUpdated, handler, versioned=False)
    newer, older = make_wire(aggregate_version=5), make_wire(aggregate_version=1)

    assert consumer.handle(subscription, newer) == APPLIED
    assert consumer.handle(subscription, older) == APPLIED

    assert _effects(store, models) == [newer["id"], older["id"]]
    assert _versions(store, models) == {}
    assert consumer.handle(subscription, older) == DUPLICATE  # still deduplicated by id


def test_event_without_aggregate_is_not_version_checked(consumer, store, models, make_wire):
    subscription = Subscription("command_center", OfficeUpdated, Recorder(models))

    assert consumer.handle(subscription, make_wire(aggregate_id="", aggregate_version=0)) == APPLIED
    assert consumer.handle(subscription, make_wire(aggregate_id="", aggregate_version=0)) == APPLIED
    assert _versions(store, models) == {}


def test_domain_refusal_is_rejected_recorded_parked_and_rolled_back(consumer, store, models, make_wire):
    handler = Recorder(models, fail_with=errors.FailedPrecondition("shop is closed"))
    subscription = Subscription("command_center", OfficeUpdated, handler)
    wire = make_wire()

    assert consumer.handle(subscription, wire) == REJECTED

    assert _effects(store, models) == []          # the partial write is gone
    assert _inbox(store, models) == [wire["id"]]  # but the event is recorded
    assert _parked(store, models) == [(wire["id"], "refused", "on_command_center_OfficeUpdated")]
    assert consumer.handle(subscription, wire) == DUPLICATE
    assert handler.calls == [wire["id"]]          # not re-run on redelivery

    # The operator fixes what the refusal named and replays it: applied once, marked replayed.
    handler.fail_with = None
    dead_letter_id = _parked_ids(store, models)[0]
    assert consumer.replay([subscription], dead_letter_id) == APPLIED
    assert _effects(store, models) == [wire["id"]]
    assert _parked(store, models) == []
    assert consumer.replay([subscription], dead_letter_id) == DUPLICATE  # a second replay changes nothing
    assert _effects(store, models) == [wire["id"]]


def test_a_value_the_store_cannot_hold_is_parked_not_redelivered_for_ever(consumer, store, models, make_wire):
    """PostgreSQL refuses a text longer than its column with a DataError: the same on every retry."""
    too_long = DataError("INSERT INTO offices ...", {}, ValueError("value too long for type character varying(50)"))
    handler = Recorder(models, fail_with=too_long)
    subscription = Subscription("command_center", OfficeUpdated, handler)
    wire = make_wire()

    assert consumer.handle(subscription, wire) == REJECTED

    assert _effects(store, models) == []
    assert _parked(store, models) == [(wire["id"], "refused", "on_command_center_OfficeUpdated")]
    assert consumer.handle(subscription, wire) == DUPLICATE


def test_a_store_failure_propagates_for_redelivery_and_leaves_nothing(consumer, store, models, make_wire):
    handler = Recorder(models, fail_with=OperationalError("UPDATE offices ...", {}, OSError("server closed")))
    subscription = Subscription("command_center", OfficeUpdated, handler)
    wire = make_wire(aggregate_version=2)

    with pytest.raises(OperationalError, match="server closed"):
        consumer.handle(subscription, wire)

    assert _effects(store, models) == []
    assert _inbox(store, models) == []
    assert _versions(store, models) == {}

    handler.fail_with = None  # the transport redelivers once things are well again
    assert consumer.handle(subscription, wire) == APPLIED
    assert _effects(store, models) == [wire["id"]]
    assert _versions(store, models) == {"command_center/office/shop-1": 2}


def test_a_handlers_own_failure_is_parked_not_redelivered_for_ever(consumer, store, models, make_wire):
    """A bug that fails on one event must not loop on it (nor, in monolithic mode, hold back every
    later event of its publisher): parked with the error; after the fix, a replay applies it once."""
    handler = Recorder(models, fail_with=KeyError("streets"))
    subscription = Subscription("command_center", OfficeUpdated, handler)
    wire, later = make_wire(aggregate_version=2), make_wire(aggregate_id="shop-2")

    assert consumer.handle(subscription, wire) == REJECTED
    assert consumer.handle(subscription, wire) == DUPLICATE  # a redelivery does not run it again

    assert _effects(store, models) == []
    assert _parked(store, models) == [(wire["id"], "failed", "on_command_center_OfficeUpdated")]
    with store.read() as session:
        assert session.scalars(select(models.DeadLetter.error)).one() == "KeyError: 'streets'"
    handler.fail_with = None
    assert consumer.handle(subscription, later) == APPLIED  # the next event is not held back
    assert consumer.replay([subscription], _parked_ids(store, models)[0]) == APPLIED
    assert _effects(store, models) == [later["id"], wire["id"]]


@pytest.mark.parametrize("mutate", [
    lambda w: w.pop("id"),
    lambda w: w.update(time="not a time"),
    lambda w: w.update(time="2026-03-02T08:00:00"),
    lambda w: w.update(aggregate_version="v2"),
], ids=["no-id", "bad-time", "naive-time", "bad-version"])
def test_malformed_wire_is_parked_without_running_the_handler(consumer, store, models, make_wire, mutate):
    handler = Recorder(models)
    wire = make_wire()
    mutate(wire)

    assert consumer.handle(Subscription("command_center", OfficeUpdated, handler), wire) == REJECTED

    assert handler.calls == []
    assert _inbox(store, models) == []
    assert [reason for _, reason, _ in _parked(store, models)] == ["malformed"]


@pytest.mark.parametrize(("change", "reason"), [
    (dict(type="supervision.command_center.v2.OfficeUpdated"), "unknown_type"),
    (dict(type="supervision.command_center.v1.OfficerUpdated"), "unknown_type"),
    (dict(data={"office_id": ["not", "text"]}), "undecodable"),
    (dict(data={"version": "three"}), "undecodable"),
    (dict(data=[1, 2]), "malformed"),
    (dict(type="OfficeUpdated", data={"streets": "not a list"}), "undecodable"),
], ids=["newer-version", "other-message", "wrong-field-type", "bad-int", "list-data", "bad-pre-contract"])
def test_an_event_that_does_not_decode_is_parked_counted_and_never_applied(consumer, store, models, make_wire,
                                                                          change, reason):
    handler = Recorder(models)
    subscription = Subscription("command_center", OfficeUpdated, handler)
    wire = make_wire(**change)
    before = _dead_lettered(reason)

    assert consumer.handle(subscription, wire) == REJECTED
    assert consumer.handle(subscription, wire) == REJECTED  # a redelivery is parked once

    assert handler.calls == []
    assert _inbox(store, models) == []
    assert _parked(store, models) == [(wire["id"], reason, "on_command_center_OfficeUpdated")]
    assert _dead_lettered(reason) == before + 2
    with store.read() as session:
        assert session.scalars(select(models.DeadLetter.envelope)).one() == wire  # kept whole, for replay


def test_fields_the_consumer_does_not_know_are_ignored(consumer, store, models, make_wire):
    """A publisher one version ahead adds a field: older consumers keep working (protobuf's rule)."""
    handler = Recorder(models)
    wire = make_wire()
    wire["data"]["opened_on"] = "2026-03-02"

    assert consumer.handle(Subscription("command_center", OfficeUpdated, handler), wire) == APPLIED
    assert _effects(store, models) == [wire["id"]]


def test_an_event_in_the_pre_contract_form_is_read_into_the_message(consumer, store, models, make_wire):
    """Events written before the contracts were typed: bare type name, the publisher's own keys."""
    seen = []
    subscription = Subscription("command_center", OfficeUpdated, lambda session, event: seen.append(event.message))
    wire = make_wire(type="OfficeUpdated", aggregate_id="MH01", aggregate_version=7,
                     data={"id": "MH01", "name": "莘庄所", "district": "闵行区", "streets": ["莘庄镇", "春申"]})

    assert consumer.handle(subscription, wire) == APPLIED

    assert seen == [OfficeUpdated(office_id="MH01", version=7, name="莘庄所", district="闵行区",
                                  streets=["莘庄镇", "春申"])]


def test_subscription_names_the_message_it_consumes():
    subscription = Subscription("command_center", OfficeUpdated, lambda s, e: None)
    assert subscription.name == "on_command_center_OfficeUpdated"
    assert subscription.event_type == "OfficeUpdated"
    assert subscription.type_name == "supervision.command_center.v1.OfficeUpdated"


def test_concurrent_redeliveries_apply_once(consumer, store, models, make_wire):
    handler = Recorder(models)
    subscription = Subscription("command_center", OfficeUpdated, handler)
    wire = make_wire()
    start = threading.Barrier(4)
    outcomes: list[str] = []

    def deliver() -> None:
        start.wait(timeout=2)
        outcomes.append(consumer.handle(subscription, dict(wire)))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)

    assert sorted(outcomes) == [APPLIED, DUPLICATE, DUPLICATE, DUPLICATE]
    assert _effects(store, models) == [wire["id"]]

