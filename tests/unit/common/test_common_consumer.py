"""Consumer.handle on a real SQLite store: applied exactly once, stale versions ignored, refusals recorded."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from services.common import errors
from services.common.consumer import APPLIED, DUPLICATE, REJECTED, STALE, Consumer, Subscription


class Recorder:
    """A handler that writes one Effect row per call; can be told to fail."""

    def __init__(self, models, fail_with: BaseException | None = None):
        self.models = models
        self.fail_with = fail_with
        self.calls: list[str] = []

    def __call__(self, session, envelope) -> None:
        self.calls.append(envelope.id)
        session.add(self.models.Effect(event_id=envelope.id, note=str(envelope.data.get("name", ""))))
        if self.fail_with is not None:
            session.flush()  # the partial write really reached the database before the failure
            raise self.fail_with


@pytest.fixture
def consumer(store, models) -> Consumer:
    return Consumer("inspection", store, models.Inbox, models.AppliedVersion)


def _effects(store, models) -> list[str]:
    with store.read() as session:
        return list(session.scalars(select(models.Effect.event_id).order_by(models.Effect.id)))


def _inbox(store, models) -> list[str]:
    with store.read() as session:
        return sorted(session.scalars(select(models.Inbox.event_id)))


def _versions(store, models) -> dict[str, int]:
    with store.read() as session:
        return dict(session.execute(select(models.AppliedVersion.aggregate, models.AppliedVersion.version)).all())


def test_first_delivery_is_applied_and_recorded(consumer, store, models, make_wire):
    handler = Recorder(models)
    wire = make_wire(aggregate_version=3)

    outcome = consumer.handle(Subscription("registry", "shop.updated", handler), wire)

    assert outcome == APPLIED
    assert handler.calls == [wire["id"]]
    assert _effects(store, models) == [wire["id"]]
    assert _inbox(store, models) == [wire["id"]]
    assert _versions(store, models) == {"registry/shop/shop-1": 3}


def test_redelivery_is_a_duplicate_and_the_effect_happens_once(consumer, store, models, make_wire):
    handler = Recorder(models)
    subscription = Subscription("registry", "shop.updated", handler)
    wire = make_wire()

    outcomes = [consumer.handle(subscription, dict(wire)) for _ in range(3)]

    assert outcomes == [APPLIED, DUPLICATE, DUPLICATE]
    assert handler.calls == [wire["id"]]
    assert _effects(store, models) == [wire["id"]]


def test_older_version_after_newer_is_stale_with_no_effect(consumer, store, models, make_wire):
    handler = Recorder(models)
    subscription = Subscription("registry", "shop.updated", handler)
    newer, older, same = make_wire(aggregate_version=5), make_wire(aggregate_version=4), make_wire(aggregate_version=5)

    assert consumer.handle(subscription, newer) == APPLIED
    assert consumer.handle(subscription, older) == STALE
    assert consumer.handle(subscription, same) == STALE

    assert handler.calls == [newer["id"]]
    assert _effects(store, models) == [newer["id"]]
    assert _versions(store, models) == {"registry/shop/shop-1": 5}
    # A stale event is recorded too, so its redelivery is a plain duplicate.
    assert consumer.handle(subscription, older) == DUPLICATE


def test_versions_advance_and_are_kept_per_aggregate(consumer, store, models, make_wire):
    subscription = Subscription("registry", "shop.updated", Recorder(models))

    assert consumer.handle(subscription, make_wire(aggregate_version=1)) == APPLIED
    assert consumer.handle(subscription, make_wire(aggregate_version=2)) == APPLIED
    assert consumer.handle(subscription, make_wire(aggregate_id="shop-2", aggregate_version=1)) == APPLIED

    assert _versions(store, models) == {"registry/shop/shop-1": 2, "registry/shop/shop-2": 1}


def test_unversioned_subscription_applies_regardless_of_version(consumer, store, models, make_wire):
    handler = Recorder(models)
    subscription = Subscription("registry", "shop.updated", handler, versioned=False)
    newer, older = make_wire(aggregate_version=5), make_wire(aggregate_version=1)

    assert consumer.handle(subscription, newer) == APPLIED
    assert consumer.handle(subscription, older) == APPLIED

    assert _effects(store, models) == [newer["id"], older["id"]]
    assert _versions(store, models) == {}
    assert consumer.handle(subscription, older) == DUPLICATE  # still deduplicated by id


def test_event_without_aggregate_is_not_version_checked(consumer, store, models, make_wire):
    subscription = Subscription("registry", "shop.updated", Recorder(models))

    assert consumer.handle(subscription, make_wire(aggregate_id="", aggregate_version=0)) == APPLIED
    assert consumer.handle(subscription, make_wire(aggregate_id="", aggregate_version=0)) == APPLIED
    assert _versions(store, models) == {}


def test_domain_refusal_is_rejected_recorded_and_rolled_back(consumer, store, models, make_wire):
    handler = Recorder(models, fail_with=errors.FailedPrecondition("shop is closed"))
    subscription = Subscription("registry", "shop.updated", handler)
    wire = make_wire()

    assert consumer.handle(subscription, wire) == REJECTED

    assert _effects(store, models) == []          # the partial write is gone
    assert _inbox(store, models) == [wire["id"]]  # but the event is recorded
    assert consumer.handle(subscription, wire) == DUPLICATE
    assert handler.calls == [wire["id"]]          # not re-run on redelivery


def test_unexpected_failure_propagates_and_leaves_nothing(consumer, store, models, make_wire):
    handler = Recorder(models, fail_with=RuntimeError("store hiccup"))
    subscription = Subscription("registry", "shop.updated", handler)
    wire = make_wire(aggregate_version=2)

    with pytest.raises(RuntimeError, match="store hiccup"):
        consumer.handle(subscription, wire)

    assert _effects(store, models) == []
    assert _inbox(store, models) == []
    assert _versions(store, models) == {}

    handler.fail_with = None  # the transport redelivers once things are well again
    assert consumer.handle(subscription, wire) == APPLIED
    assert _effects(store, models) == [wire["id"]]
    assert _versions(store, models) == {"registry/shop/shop-1": 2}


@pytest.mark.parametrize("mutate", [
    lambda w: w.pop("id"),
    lambda w: w.update(time="not a time"),
    lambda w: w.update(time="2026-03-02T08:00:00"),
    lambda w: w.update(aggregate_version="v2"),
], ids=["no-id", "bad-time", "naive-time", "bad-version"])
def test_malformed_wire_is_rejected_without_running_the_handler(consumer, store, models, make_wire, mutate):
    handler = Recorder(models)
    wire = make_wire()
    mutate(wire)

    assert consumer.handle(Subscription("registry", "shop.updated", handler), wire) == REJECTED

    assert handler.calls == []
    assert _inbox(store, models) == []


def test_subscription_name():
    assert Subscription("registry", "shop.updated", lambda s, e: None).name == "on_registry_shop.updated"


def test_concurrent_redeliveries_apply_once(consumer, store, models, make_wire):
    handler = Recorder(models)
    subscription = Subscription("registry", "shop.updated", handler)
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

