"""The event envelope on the wire, and EventWriter putting events into the outbox."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from services.common import contracts
from services.common.context import traceparent_var
from services.common.events import Envelope, EventWriter, MalformedEvent
from supervision.command_center.v1.events_pb2 import OfficeRegistered

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _envelope(**overrides) -> Envelope:
    fields = dict(id="0b7c2f6e-1b7e-4c36-9d6f-1f0f5e3a2c11", source="registry", type="shop.registered",
                  subject="shop/s-1", time=dt.datetime(2026, 3, 2, 16, 30, 5, 123456, tzinfo=SHANGHAI),
                  office_id="office-3", aggregate_id="s-1", aggregate_version=4,
                  traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                  data={"name": "黄浦菜场", "stalls": [1, 2]})
    fields.update(overrides)
    return Envelope(**fields)


def test_to_wire_writes_utc_time_with_z_and_every_field():
    wire = _envelope().to_wire()

    assert wire == {
        "id": "0b7c2f6e-1b7e-4c36-9d6f-1f0f5e3a2c11", "source": "registry", "type": "shop.registered",
        "subject": "shop/s-1", "time": "2026-03-02T08:30:05.123456Z", "office_id": "office-3",
        "aggregate_id": "s-1", "aggregate_version": 4,
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "data": {"name": "黄浦菜场", "stalls": [1, 2]},
    }
    json.dumps(wire)  # JSON-serialisable as is


def test_round_trip_keeps_every_field_and_gives_aware_utc_time():
    original = _envelope()

    back = Envelope.from_wire(json.loads(json.dumps(original.to_wire())))

    assert back == original
    assert back.time.utcoffset() == dt.timedelta(0)
    assert back.time == dt.datetime(2026, 3, 2, 8, 30, 5, 123456, tzinfo=dt.UTC)


def test_from_wire_fills_optional_fields_with_defaults():
    back = Envelope.from_wire({"id": "e-1", "source": "registry", "type": "shop.closed",
                               "time": "2026-03-02T08:00:00Z"})

    assert back == Envelope(id="e-1", source="registry", type="shop.closed", subject="",
                            time=dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC))


def _wire(**overrides):
    wire = _envelope().to_wire()
    wire.update(overrides)
    return wire


def _without(key):
    wire = _wire()
    del wire[key]
    return wire


@pytest.mark.parametrize("wire", [
    _without("id"),
    _without("source"),
    _without("type"),
    _without("time"),
    _wire(time="last tuesday"),
    _wire(time="2026-03-02T08:00:00"),          # naive
    _wire(time=None),
    _wire(aggregate_version="four"),
    _wire(data="not an object"),
    None,
    ["a", "list"],
], ids=["no-id", "no-source", "no-type", "no-time", "bad-time", "naive-time", "null-time", "bad-version",
        "bad-data", "null", "list"])
def test_malformed_wire_raises_malformed_event(wire):
    with pytest.raises(MalformedEvent) as raised:
        Envelope.from_wire(wire)

    assert str(raised.value).startswith("malformed event envelope")
    assert isinstance(raised.value, ValueError)


def test_naive_time_message_says_why():
    with pytest.raises(MalformedEvent, match="time without zone"):
        Envelope.from_wire(_wire(time="2026-03-02T08:00:00"))


def test_event_writer_records_outbox_row_in_the_callers_transaction(store, models):
    writer = EventWriter("registry", models.Outbox)
    token = traceparent_var.set("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    try:
        with store.transaction() as session:
            envelope = writer.record(session, OfficeRegistered(office_id="s-1", version=1, name="菜场",
                                                               streets=["莘庄镇"]),
                                     aggregate_type="shop", aggregate_id="s-1", version=1, office_id="office-3")
    finally:
        traceparent_var.reset(token)

    assert envelope.source == "registry"
    assert envelope.subject == "shop/s-1"
    assert envelope.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert envelope.time.utcoffset() == dt.timedelta(0)
    with store.read() as session:
        row = session.scalars(select(models.Outbox)).one()
        assert row.event_id == envelope.id
        assert row.event_type == envelope.type == "supervision.command_center.v1.OfficeRegistered"
        assert envelope.routing_key == "OfficeRegistered"
        # The data is the message's proto3 JSON form, and decodes back to the same message.
        assert row.envelope["data"] == {"office_id": "s-1", "version": "1", "name": "菜场", "streets": ["莘庄镇"]}
        decoded = contracts.decode(OfficeRegistered, row.envelope["type"], row.envelope["data"])
        assert decoded == OfficeRegistered(office_id="s-1", version=1, name="菜场", streets=["莘庄镇"])
        assert row.envelope == envelope.to_wire()
        assert Envelope.from_wire(row.envelope) == envelope
        assert row.created_at == envelope.time
        assert row.sent_at is None
        assert row.attempts == 0


def test_event_writer_row_disappears_with_a_rolled_back_change(store, models):
    writer = EventWriter("registry", models.Outbox)

    with pytest.raises(RuntimeError), store.transaction() as session:
        writer.record(session, OfficeRegistered(office_id="s-1"), aggregate_type="shop", aggregate_id="s-1",
                      version=1)
        raise RuntimeError("the change failed")

    with store.read() as session:
        assert session.scalars(select(models.Outbox)).all() == []


@pytest.mark.parametrize("event_id", [None, ""])
def test_null_or_empty_id_is_malformed(event_id):
    with pytest.raises(MalformedEvent):
        Envelope.from_wire(_wire(id=event_id))


def test_event_writer_refuses_a_dictionary(store, models):
    writer = EventWriter("registry", models.Outbox)

    with pytest.raises(TypeError, match="protobuf message"), store.transaction() as session:
        writer.record(session, {"name": "菜场"}, aggregate_type="shop", aggregate_id="s-1", version=1)

    with store.read() as session:
        assert session.scalars(select(models.Outbox)).all() == []
