"""Trace context through events on a real SQLite store: the outbox row keeps the trace of the change
that wrote it, the relay publishes it in that trace, and a consumer's handler writes its own events
in the trace of the delivery, so one trace runs from a call to every effect of its events."""

from __future__ import annotations

from typing import Any

from services.common.consumer import APPLIED, Consumer, Subscription
from services.common.context import traceparent_var
from services.common.events import EventWriter
from services.common.relay import OutboxRelay
from supervision.command_center.v1.events_pb2 import OfficeUpdated

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


def _fields(traceparent: str) -> list[str]:
    return traceparent.split("-")


class Transport:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, wire: dict[str, Any]) -> None:
        self.published.append(wire)


def _written_by_handler(store, models, make_wire, **wire_overrides) -> tuple[str, dict]:
    """Delivers one event to a handler that writes an event of its own; returns the outcome and the
    envelope of the event it wrote."""
    writer = EventWriter("inspection", models.Outbox)

    def handler(session, event) -> None:
        writer.record(session, OfficeUpdated(office_id="shop-9", name="照着写", version=1), aggregate_type="shop",
                      aggregate_id="shop-9", version=1)

    consumer = Consumer("inspection", store, models.Inbox, models.AppliedVersion, models.DeadLetter)
    outcome = consumer.handle(Subscription("command_center", OfficeUpdated, handler), make_wire(**wire_overrides))
    with store.read() as session:
        [row] = session.query(models.Outbox).all()
        return outcome, row.envelope


def test_events_a_handler_writes_continue_the_trace_of_the_delivery(store, models, make_wire):
    outcome, written = _written_by_handler(store, models, make_wire, traceparent=TRACEPARENT)

    assert outcome == APPLIED
    version, trace_id, span_id, flags = _fields(written["traceparent"])
    assert (version, trace_id, flags) == ("00", TRACE_ID, "01")
    assert span_id != PARENT_ID  # the consumer's own span is the parent of what it caused
    assert len(span_id) == 16 and int(span_id, 16) > 0


def test_a_delivery_without_trace_context_or_with_a_broken_one_starts_a_trace(store, models, make_wire, make_store):
    _, without = _written_by_handler(store, models, make_wire)
    _, broken = _written_by_handler(make_store("broken"), models, make_wire, traceparent="00-zz-not-a-trace-01")

    for written in (without, broken):
        trace_id = _fields(written["traceparent"])[1]
        assert len(trace_id) == 32 and int(trace_id, 16) > 0
    assert _fields(without["traceparent"])[1] != _fields(broken["traceparent"])[1]


def test_the_relay_publishes_an_event_in_the_trace_that_wrote_it_and_leaves_the_row_as_it_was(store, models):
    writer = EventWriter("inspection", models.Outbox)

    token = traceparent_var.set(TRACEPARENT)  # what a gRPC call's span sets
    try:
        with store.transaction() as session:
            writer.record(session, OfficeUpdated(office_id="shop-1", name="菜场", version=1), aggregate_type="shop",
                          aggregate_id="shop-1", version=1)
    finally:
        traceparent_var.reset(token)
    transport = Transport()

    assert OutboxRelay("inspection", store, models.Outbox, transport).relay_once() == 1

    [published] = transport.published
    assert _fields(published["traceparent"])[1] == TRACE_ID
    with store.read() as session:
        [row] = session.query(models.Outbox).all()
        assert row.envelope["traceparent"] == TRACEPARENT
