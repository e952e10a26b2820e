"""Plain helpers of the complaints API tests (their fixtures are in conftest.py): a client,
request builders, offices registered by command_center's own code and delivered through the
in-process bus, and what the store and the outbox hold."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import TypeVar

import grpc
import pytest
import yaml
from google.protobuf.message import Message
from sqlalchemy import func, select

from services.command_center.domain.officers import OfficerInput, Officers
from services.command_center.domain.offices import OfficeInput, Offices
from services.command_center.domain.workspace import Workspace as CenterWorkspace
from services.command_center.models import Office as CenterOffice
from services.command_center.models import Officer as CenterOfficer
from services.command_center.models import Outbox as CenterOutbox
from services.common import contracts, credit_code, migrate
from services.common.auth import issue_token
from services.common.clock import SHANGHAI
from services.common.context import SYSTEM_CALLER
from services.common.db import Store
from services.common.relay import OutboxRelay
from services.common.working_days import WorkingDayCalendar
from services.complaints.models import Complaint, ComplaintDeadline, ComplaintHistory, Outbox
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.complaints.v1 import complaints_pb2 as pb
from supervision.complaints.v1 import complaints_pb2_grpc as pb_grpc
from tests.support import Clock, RunningService, violations

ROOT = Path(__file__).resolve().parents[3]
DISTRICT_FILE = ROOT / "services/command_center/demo/district.yaml"
NAME, PHONE, ID_NUMBER = "欧阳娜娜", "13912345678", "11010519491231002X"
TODAY = Clock().today
SECRET = "complaints-test-secret-of-32-bytes!"
M = TypeVar("M", bound=Message)


class OfficeRegistry:
    """command_center's own office use cases on a store of its own: the office events complaints
    consumes, written by the publisher's code and relayed from its outbox to complaints' bus."""

    def __init__(self, running: RunningService):
        self._directory = tempfile.TemporaryDirectory(prefix="command-center-")
        self.store = Store(f"sqlite:///{Path(self._directory.name) / 'command_center.db'}")
        migrate.upgrade("command_center", ROOT / "services/command_center/migrations", self.store.url)
        self.offices = Offices(CenterWorkspace(self.store, running.clock, WorkingDayCalendar.load()))
        self.officers = Officers(self.offices.workspace)
        self.relay = OutboxRelay("command_center", self.store, CenterOutbox, running.bus)

    def announce(self, office_id: str, streets: list[str]) -> None:
        """Registers the office, or changes its streets, then delivers the event it published."""
        with self.store.read() as session:
            known = session.get(CenterOffice, office_id) is not None
        if known:
            self.offices.update_office(SYSTEM_CALLER, OfficeInput(office_id, "", "", streets), ["streets"], 0)
        else:
            self.offices.create_office(SYSTEM_CALLER, "", OfficeInput(office_id, f"{office_id} 市场监督管理所",
                                                                     "闵行区", streets))
        while self.relay.relay_once():
            pass

    def announce_officer(self, officer_id: str, office_id: str, group: str) -> None:
        """Registers the officer, or moves them to this office and group, then delivers the event."""
        with self.store.read() as session:
            known = session.get(CenterOfficer, officer_id)
            version = known.version if known is not None else 0
        data = OfficerInput(officer_id, f"干部{officer_id}", office_id, group, "", None)
        if version:
            self.officers.update_officer(SYSTEM_CALLER, data, ["office_id", "group"], version)
        else:
            self.officers.register_officer(SYSTEM_CALLER, "", data)
        while self.relay.relay_once():
            pass

    def close(self) -> None:
        self.store.dispose()
        self._directory.cleanup()


class ComplaintsClient:
    def __init__(self, running: RunningService):
        self.running = running
        self.stub = pb_grpc.ComplaintServiceStub(running.channel)
        self.indicators = indicators_pb2_grpc.IndicatorSourceStub(running.channel)
        self._offices: OfficeRegistry | None = None

    def announce_office(self, office_id: str, streets: list[str]) -> None:
        """The office registered (or its streets changed) in command_center; its event delivered
        through the bus. command_center refuses a street another office still covers."""
        if self._offices is None:
            self._offices = OfficeRegistry(self.running)
        self._offices.announce(office_id, streets)

    def announce_officer(self, officer_id: str, office_id: str, group: str = "COMPLAINT_HANDLING") -> None:
        """The officer registered (or moved) in command_center; its event delivered through the bus."""
        if self._offices is None:
            self._offices = OfficeRegistry(self.running)
        self._offices.announce_officer(officer_id, office_id, group)

    def close(self) -> None:
        if self._offices is not None:
            self._offices.close()
        self.running.close()

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

    def events(self, message_class: type[M]) -> list[M]:
        """The published events of this type, decoded from the outbox as a consumer decodes them."""
        return [contracts.decode(message_class, wire["type"], wire["data"]) for wire in self.envelopes(message_class)]

    def envelopes(self, message_class: type[Message]) -> list[dict]:
        """The outbox's envelopes of this event type, as they go on the wire."""
        with self.running.store.read() as session:
            rows = session.scalars(select(Outbox).where(Outbox.event_type == contracts.type_name(message_class))
                                   .order_by(Outbox.id))
            return [row.envelope for row in rows]


def uscc(body: str = "91310112MA1G00001") -> str:
    return body + credit_code.check_character(body)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), SHANGHAI)


def complaint(kind=pb.COMPLAINT_KIND_COMPLAINT, channel=pb.CHANNEL_HOTLINE_12315,
              received_at: dt.datetime | None = None, name=NAME, phone=PHONE, id_number="", anonymous=False,
              respondent="七宝鲜丰超市有限公司", credit=None, address="闵行区七宝镇漕宝路100号", street="七宝镇",
              category="食品安全", description="购买的酸奶已过保质期，要求退货赔偿。", amount_yuan="38.50",
              category_code="") -> pb.Complaint:
    """A valid complaint received on the test clock's default day, changed as asked."""
    message = pb.Complaint(kind=kind, channel=channel,
                           complainant=pb.Complainant(name=name, phone=phone, id_number=id_number,
                                                      anonymous=anonymous),
                           respondent=pb.Respondent(name=respondent, uscc=uscc() if credit is None else credit,
                                                    address=address, street=street),
                           category=category, description=description, amount_yuan=amount_yuan,
                           category_code=category_code)
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
