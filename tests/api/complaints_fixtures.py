"""Helpers for the complaints API tests: a client, request builders, offices announced through
the in-process bus, and what the store and the outbox hold."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import grpc
import pytest
import yaml
from sqlalchemy import func, select

from services.common import credit_code
from services.common.auth import issue_token
from services.common.clock import SHANGHAI
from services.common.events import Envelope
from services.complaints.models import Complaint, ComplaintDeadline, ComplaintHistory, Outbox
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.complaints.v1 import complaints_pb2 as pb
from supervision.complaints.v1 import complaints_pb2_grpc as pb_grpc
from tests.support import Clock, RunningService, violations

DISTRICT_FILE = Path(__file__).resolve().parents[2] / "services/command_center/demo/district.yaml"
NAME, PHONE, ID_NUMBER = "欧阳娜娜", "13912345678", "11010519491231002X"
TODAY = Clock().today
SECRET = "complaints-test-secret-of-32-bytes!"


class ComplaintsClient:
    def __init__(self, running: RunningService):
        self.running = running
        self.stub = pb_grpc.ComplaintServiceStub(running.channel)
        self.indicators = indicators_pb2_grpc.IndicatorSourceStub(running.channel)
        self._office_versions: dict[str, int] = {}

    def announce_office(self, office_id: str, streets: list[str], event_type: str = "OfficeRegistered") -> None:
        """An office event as command_center publishes it, delivered through the bus."""
        version = self._office_versions.get(office_id, 0) + 1
        self._office_versions[office_id] = version
        envelope = Envelope(id=str(uuid.uuid4()), source="command_center", type=event_type,
                            subject=f"office/{office_id}", time=dt.datetime.now(dt.UTC), office_id=office_id,
                            aggregate_id=office_id, aggregate_version=version,
                            data={"id": office_id, "name": f"{office_id} 市场监督管理所", "district": "闵行区",
                                  "streets": streets})
        self.running.bus.publish(envelope.to_wire())

    def create(self, request_id: str = "", **changes) -> pb.Complaint:
        return self.stub.CreateComplaint(pb.CreateComplaintRequest(request_id=request_id,
                                                                   complaint=complaint(**changes)))

    def get(self, complaint_id: str) -> pb.Complaint:
        return self.stub.GetComplaint(pb.GetComplaintRequest(id=complaint_id))

    def readings(self, office_id: str) -> dict[str, tuple[float, float]]:
        self.running.settle()
        answer = self.indicators.ListIndicators(indicators_pb2.ListIndicatorsRequest(office_ids=[office_id]))
        return {i.key: (i.numerator, i.denominator) for i in answer.indicators}

    def counts(self) -> dict[str, int]:
        self.running.settle()  # indicator refreshes still pending would add outbox rows later
        with self.running.store.read() as session:
            return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                    for model in (Complaint, ComplaintDeadline, ComplaintHistory, Outbox)}

    def events(self, event_type: str) -> list[dict]:
        with self.running.store.read() as session:
            rows = session.scalars(select(Outbox).where(Outbox.event_type == event_type).order_by(Outbox.id))
            return [row.envelope for row in rows]


def uscc(body: str = "91310112MA1G00001") -> str:
    return body + credit_code.check_character(body)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), SHANGHAI)


def complaint(kind=pb.COMPLAINT_KIND_COMPLAINT, channel=pb.CHANNEL_HOTLINE_12315,
              received_at: dt.datetime | None = None, name=NAME, phone=PHONE, id_number="", anonymous=False,
              respondent="七宝鲜丰超市有限公司", credit=None, address="闵行区七宝镇漕宝路100号", street="七宝镇",
              category="食品安全",
              description="购买的酸奶已过保质期，要求退货赔偿。", amount_yuan="38.50") -> pb.Complaint:
    """A valid complaint received on the test clock's default day, changed as asked."""
    message = pb.Complaint(kind=kind, channel=channel,
                           complainant=pb.Complainant(name=name, phone=phone, id_number=id_number,
                                                      anonymous=anonymous),
                           respondent=pb.Respondent(name=respondent, uscc=uscc() if credit is None else credit,
                                                    address=address, street=street),
                           category=category, description=description, amount_yuan=amount_yuan)
    message.received_at.FromDatetime(received_at or at(TODAY, 9))
    return message


def expect_error(call, code: grpc.StatusCode) -> dict[str, str]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == code, info.value.details()
    return violations(info.value)


def district_offices() -> list[dict]:
    return yaml.safe_load(DISTRICT_FILE.read_text(encoding="utf-8"))["offices"]


def as_user(*roles: str, office_id: str = ""):
    """Call metadata with a token for these roles (AUTH_MODE=jwt with SECRET)."""
    token = issue_token(SECRET, subject=f"{'-'.join(roles)}@{office_id or 'district'}", roles=list(roles),
                        office_id=office_id)
    return (("authorization", f"Bearer {token}"),)


def carries_personal_data(message) -> bool:
    wire = message.SerializeToString()
    return any(value.encode() in wire for value in (NAME, PHONE, ID_NUMBER))
