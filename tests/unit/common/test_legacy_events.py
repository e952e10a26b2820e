"""Events written before the contracts were typed are read into the contract messages."""

from __future__ import annotations

import datetime as dt

import pytest
from google.type import date_pb2

from services.common import contracts
from services.common.consumer import Subscription
from services.common.errors import InvalidArgument
from services.common.events import Envelope
from supervision.command_center.v1.events_pb2 import OfficeUpdated, TaskCompleted
from supervision.complaints.v1.events_pb2 import ComplaintResolved
from tests.contracts.pre_contract import captured, envelope, message_class


def _decode(wire: dict):
    message = message_class(wire["source"], wire["type"])
    return Subscription(wire["source"], message, lambda session, event: None).decode(Envelope.from_wire(wire))


@pytest.mark.parametrize("event", captured(), ids=lambda e: f"{e['source']}.{e['type']}")
def test_every_captured_pre_contract_event_reads_into_its_message(event):
    wire = envelope(event["source"], event["type"])

    message = _decode(wire).message

    first = message.DESCRIPTOR.fields[0].name
    assert getattr(message, first), f"{first} is empty"
    for key, value in event["data"].items():
        # A key the message has under the same name carries its value across (dates and instants
        # become google.type.Date and Timestamp; numbers, texts, flags and lists stay what they were).
        if key in message.DESCRIPTOR.fields_by_name and isinstance(value, str | bool) and value != "":
            field = message.DESCRIPTOR.fields_by_name[key]
            if field.message_type is None and not field.is_repeated:
                assert getattr(message, key) == value, key


def test_a_pre_contract_task_completion_credits_its_officer_and_its_clock():
    data = {"id": "T-1", "office_id": "MH02", "title": "督办", "source": "bureau", "source_ref": "",
            "due_date": "2026-08-20", "state": "COMPLETED", "overdue": True, "completed_by": "MH02-01"}
    wire = envelope("command_center", "TaskCompleted", data, time=dt.datetime(2026, 8, 21, 17, tzinfo=dt.UTC))

    message = _decode(wire).message

    assert isinstance(message, TaskCompleted)
    assert (message.task_id, list(message.officer_ids)) == ("T-1", ["MH02-01"])
    assert contracts.day_of(message.completed_on) == dt.date(2026, 8, 22)  # 01:00 in Shanghai
    assert [(c.clock, contracts.day_of(c.due_date), c.met) for c in message.clocks] == [
        ("due_date", dt.date(2026, 8, 20), False)]


def test_the_system_is_never_credited_as_an_officer():
    data = {"complaint_id": "C-1", "office_id": "MH02", "kind": "REPORT", "state": "NOT_FILED",
            "outcome": "NOT_FILED", "handled_by": "system", "on_time": True}

    message = _decode(envelope("complaints", "ComplaintResolved", data)).message

    assert isinstance(message, ComplaintResolved)
    assert list(message.officer_ids) == [] and message.on_time is True


@pytest.mark.parametrize("data", [
    {"id": "MH01", "streets": "莘庄镇"},
    {"id": "MH01", "name": {"zh": "莘庄所"}},
    "not an object",
], ids=["text-for-list", "object-for-text", "not-an-object"])
def test_a_pre_contract_event_of_the_wrong_shape_is_undecodable(data):
    wire = envelope("command_center", "OfficeUpdated", {"id": "MH01"})
    wire["data"] = data

    with pytest.raises(contracts.UndecodableEvent):
        Subscription("command_center", OfficeUpdated, lambda session, event: None).decode(Envelope(
            **{**Envelope.from_wire({**wire, "data": {}}).__dict__, "data": data}))


def test_a_day_that_does_not_exist_is_refused_so_the_event_is_parked():
    assert contracts.day_of(date_pb2.Date()) is None
    assert contracts.day_of(date_pb2.Date(year=2026, month=8, day=3)) == dt.date(2026, 8, 3)
    with pytest.raises(InvalidArgument):
        contracts.day_of(date_pb2.Date(year=2027, month=2, day=30), "due_date")
