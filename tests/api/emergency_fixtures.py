"""Builders and helpers for emergency's API tests: requests, command_center's events, store counts."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest
from google.protobuf import timestamp_pb2
from sqlalchemy import func, select

from services.common.events import Envelope
from services.emergency.models import Drill, Incident, IncidentAction, Outbox, TimelineEntry
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.emergency.v1 import emergency_pb2 as pb
from supervision.emergency.v1 import emergency_pb2_grpc as pb_grpc
from tests.support import violations

HOUR = dt.timedelta(hours=1)


class EmergencyClient:
    def __init__(self, running):
        self.running = running
        self.incidents = pb_grpc.IncidentServiceStub(running.channel)
        self.indicators = indicators_pb2_grpc.IndicatorSourceStub(running.channel)

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


def deliver(running, event_type: str, data: dict, version: int = 1) -> str:
    """An event of command_center, applied by emergency's consumer as the bus would; returns its id."""
    aggregate = "officer" if event_type.startswith("Officer") else "office"
    envelope = Envelope(id=str(uuid.uuid4()), source="command_center", type=event_type,
                        subject=f"{aggregate}/{data['id']}", time=now(),
                        office_id=data.get("office_id", data["id"]), aggregate_id=data["id"],
                        aggregate_version=version, data=data)
    running.bus.publish(envelope.to_wire())
    return envelope.id


def office_data(office_id: str, name: str = "") -> dict:
    return {"id": office_id, "name": name or f"{office_id}市场监督管理所", "district": "闵行区",
            "streets": [f"{office_id}镇"]}


def officer_data(officer_id: str, office_id: str, name: str = "王伟") -> dict:
    return {"id": officer_id, "name": name, "office_id": office_id, "group": "SUPERVISION",
            "certificate_no": "SH0101", "certificate_expires": "2027-06-30"}


def rows(client: EmergencyClient) -> dict[str, int]:
    """Row counts once the indicator refresher has caught up (it writes IndicatorsChanged later)."""
    client.running.settle()
    with client.running.store.read() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Incident, IncidentAction, TimelineEntry, Drill, Outbox)}


def events(client: EmergencyClient, event_type: str) -> list[dict]:
    with client.running.store.read() as session:
        return [row.envelope for row in session.scalars(select(Outbox).where(Outbox.event_type == event_type)
                                                        .order_by(Outbox.id))]


def expect_error(call, code: grpc.StatusCode) -> dict[str, str]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == code, info.value.details()
    return violations(info.value)


def action(message: pb.Incident, code: str) -> pb.Action:
    return next(a for a in message.actions if a.code == code)
