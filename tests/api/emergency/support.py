"""Builders and helpers for emergency's API tests: requests, command_center's events, store counts."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message
from google.type import date_pb2
from sqlalchemy import func, select

from services.command_center.models import Outbox as CommandCenterOutbox
from services.common import contracts
from services.common.events import Envelope, Event
from services.emergency.models import Drill, Incident, IncidentAction, Outbox, TimelineEntry
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.emergency.v1 import emergency_pb2 as pb
from supervision.emergency.v1 import emergency_pb2_grpc as pb_grpc
from tests.support import RunningService, violations

HOUR = dt.timedelta(hours=1)


class EmergencyClient:
    def __init__(self, running):
        self.running = running
        self.incidents = pb_grpc.IncidentServiceStub(running.channel)
        self.indicators = indicators_pb2_grpc.IndicatorSourceStub(running.channel)
        # command_center beside it, when the test hosts one.
        self.directory: CommandCenter | None = None

    def indicator(self, office_id: str, key: str) -> tuple[float, float]:
        self.running.settle()
        for value in self.indicators.ListIndicators(indicators_pb2.ListIndicatorsRequest(office_ids=[office_id])) \
                .indicators:
            if value.key == key:
                return value.numerator, value.denominator
        raise AssertionError(f"{key} not published for {office_id}")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def ts(instant: dt.datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(instant)
    return stamp


def incident(incident_type=pb.INCIDENT_TYPE_FOOD_SAFETY, office_id="MH01", learned_ago=HOUR, **fields) -> pb.Incident:
    learned = now() - learned_ago
    defaults = {"title": "某小学食堂学生腹泻", "entity_name": "某小学食堂", "address": "莘庄镇（测试）",
                "occurred_at": ts(learned - HOUR), "learned_at": ts(learned)}
    # A field given as None is left unset.
    return pb.Incident(type=incident_type, office_id=office_id,
                       **{name: value for name, value in (defaults | fields).items() if value is not None})


class CommandCenter:
    """command_center hosted beside emergency: offices and officers are made through its gRPC API, and
    the events its own code wrote to its outbox are handed to emergency's consumer as the bus would
    (in order, or in the order a test gives to play a late delivery)."""

    def __init__(self, running: RunningService, emergency: RunningService):
        self.running = running
        self.emergency = emergency
        self.offices = cc_grpc.OfficeServiceStub(running.channel)
        self.officers = cc_grpc.OfficerServiceStub(running.channel)
        self.forwarded = 0

    def office(self, office_id: str, name: str = "") -> None:
        self.offices.CreateOffice(cc_pb.CreateOfficeRequest(office=cc_pb.Office(
            id=office_id, name=name or f"{office_id}市场监督管理所", district="闵行区", streets=[f"{office_id}镇"])))
        self.forward()

    def officer(self, officer_id: str, office_id: str, name: str = "王伟", *, forward: bool = True) -> None:
        self.officers.RegisterOfficer(cc_pb.RegisterOfficerRequest(officer=cc_pb.Officer(
            id=officer_id, name=name, office_id=office_id, group=cc_pb.GROUP_KIND_SUPERVISION,
            certificate_no="SH0101", certificate_expires=date_pb2.Date(year=2027, month=6, day=30))))
        if forward:
            self.forward()

    def move_officer(self, officer_id: str, office_id: str, *, forward: bool = True) -> None:
        self.officers.UpdateOfficer(cc_pb.UpdateOfficerRequest(
            officer=cc_pb.Officer(id=officer_id, office_id=office_id), update_mask=FieldMask(paths=["office_id"])))
        if forward:
            self.forward()

    def pending(self) -> list[dict]:
        """The events command_center wrote since the last forward, as their outbox rows hold them."""
        with self.running.store.read() as session:
            rows = list(session.execute(select(CommandCenterOutbox.id, CommandCenterOutbox.envelope)
                                        .where(CommandCenterOutbox.id > self.forwarded)
                                        .order_by(CommandCenterOutbox.id)))
        if rows:
            self.forwarded = rows[-1].id
        return [row.envelope for row in rows]

    def forward(self, wires: list[dict] | None = None) -> None:
        """Hands the pending events (or `wires`) to emergency's consumer."""
        for wire in self.pending() if wires is None else wires:
            self.emergency.bus.publish(wire)


def rows(client: EmergencyClient) -> dict[str, int]:
    """Row counts once the indicator refresher has caught up (it writes IndicatorsChanged later)."""
    client.running.settle()
    with client.running.store.read() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Incident, IncidentAction, TimelineEntry, Drill, Outbox)}


def events(client: EmergencyClient, message_class: type[Message]) -> list[Event]:
    """emergency's events of one type, read back from its outbox as a consumer decodes them."""
    name = contracts.type_name(message_class)
    with client.running.store.read() as session:
        envelopes = [Envelope.from_wire(row.envelope) for row in session.scalars(
            select(Outbox).where(Outbox.event_type == name).order_by(Outbox.id))]
    return [Event(e, contracts.decode(message_class, e.type, e.data)) for e in envelopes]


def expect_error(call, code: grpc.StatusCode) -> dict[str, str]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == code, info.value.details()
    return violations(info.value)


def action(message: pb.Incident, code: str) -> pb.Action:
    return next(a for a in message.actions if a.code == code)
