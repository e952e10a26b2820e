"""What the mobile_enforcement API tests share: hosting the service with a clock that moves both
today and now, offices and officers made by command_center's own use cases and their events relayed
through the real in-process bus, the client the `client` fixture (conftest.py) hands out with its
helpers to read the store and the outbox, and the spot-check plan helpers several test modules use."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf.message import Message
from google.type import date_pb2, latlng_pb2
from sqlalchemy import func, select

from services.command_center.domain.officers import OfficerInput, Officers
from services.command_center.domain.offices import OfficeInput, Offices
from services.command_center.domain.workspace import Workspace as CenterWorkspace
from services.command_center.models import Office as CenterOffice
from services.command_center.models import Officer as CenterOfficer
from services.command_center.models import Outbox as CenterOutbox
from services.common import contracts, migrate
from services.common.context import SYSTEM_CALLER
from services.common.credit_code import check_character
from services.common.db import Store
from services.common.events import Envelope, Event
from services.common.relay import OutboxRelay
from services.common.working_days import WorkingDayCalendar
from services.mobile_enforcement import service
from services.mobile_enforcement.models import Case, Conflict, DeadLetter, Entity, Finding, Inspection, Outbox, Plan
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.common.v1.events_pb2 import IndicatorsChanged
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc
from tests import support
from tests.conftest import make_settings
from tests.support import RunningService, host, violations

ROOT = Path(__file__).resolve().parents[3]
M = TypeVar("M", bound=Message)

# 10:00 on Monday 2 November 2026 in Shanghai.
START = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
OFFICES = {"MH01": "莘庄镇", "MH02": "七宝镇"}
INVALID, PRECONDITION, NOT_FOUND = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                                    grpc.StatusCode.NOT_FOUND)
TODAY = dt.date(2026, 11, 2)


@dataclass
class InstantClock(support.InstantClock):
    """The test's instant, starting at START."""

    instant: dt.datetime = field(default=START)


def uscc(number: int, kind: str = "91") -> str:
    first_17 = f"{kind}310112MA1{number:06d}"
    return first_17 + check_character(first_17)


def date(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def as_date(value: date_pb2.Date) -> dt.date:
    return dt.date(value.year, value.month, value.day)


def location() -> pb.Location:
    return pb.Location(point=latlng_pb2.LatLng(latitude=31.11, longitude=121.38), address="莘庄镇莘松路1号")


def expect_error(call, code: grpc.StatusCode) -> dict[str, str]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == code, info.value.details()
    return violations(info.value)


def host_mobile_enforcement(store_url: str, clock: InstantClock, **settings_overrides: str) -> RunningService:
    """The service's `now` wired to the test clock as well as `today`."""
    return host(service.NAME, store_url, make_settings(**settings_overrides), clock, now=clock.now)


class CommandCenterDirectory:
    """command_center's own office and officer use cases on a store of their own: the events
    mobile_enforcement consumes, written by the publisher's code and relayed from its outbox to
    mobile_enforcement's bus, as in production."""

    def __init__(self, running: RunningService, store_url: str):
        self.store = Store(store_url)
        migrate.upgrade("command_center", ROOT / "services/command_center/migrations", self.store.url)
        center = CenterWorkspace(self.store, running.clock, WorkingDayCalendar.load())
        self.offices, self.officers = Offices(center), Officers(center)
        self.relay = OutboxRelay("command_center", self.store, CenterOutbox, running.bus)

    def office(self, office_id: str, streets: list[str]) -> None:
        """Creates the office, or gives it these streets (command_center refuses a street another
        office still covers), then delivers the event."""
        with self.store.read() as session:
            known = session.get(CenterOffice, office_id) is not None
        if known:
            self.offices.update_office(SYSTEM_CALLER, OfficeInput(office_id, "", "", streets), ["streets"], 0)
        else:
            self.offices.create_office(SYSTEM_CALLER, "", OfficeInput(office_id, f"{office_id}所", "闵行区", streets))
        self.deliver()

    def officer(self, officer_id: str, office_id: str, expires: dt.date) -> None:
        """Registers the officer, or renews (or lets lapse) the certificate, then delivers the event."""
        data = OfficerInput(officer_id, "王伟", office_id, "SUPERVISION", f"SH{officer_id[-3:]}", expires)
        with self.store.read() as session:
            known = session.get(CenterOfficer, officer_id) is not None
        if known:
            self.officers.update_officer(SYSTEM_CALLER, data, ["office_id", "certificate_expires"], 0)
        else:
            self.officers.register_officer(SYSTEM_CALLER, "", data)
        self.deliver()

    def deliver(self) -> None:
        while self.relay.relay_once():
            pass

    def published(self, message_class: type[Message]) -> list[dict[str, Any]]:
        """The wires of command_center's events of this type, oldest first (to deliver one again)."""
        with self.store.read() as session:
            rows = session.scalars(select(CenterOutbox).where(CenterOutbox.event_type == contracts.type_name(
                message_class)).order_by(CenterOutbox.id))
            return [row.envelope for row in rows]

    def close(self) -> None:
        self.store.dispose()


class Client:
    def __init__(self, running: RunningService, command_center_store_url: str):
        self.running = running
        # Indicators are refreshed by settle() alone: a background pass that has taken the dirty
        # marks but not committed yet would make settle() return before the snapshot is written.
        running.runtime.indicators.stop()
        self.clock: InstantClock = running.clock
        self.command_center = CommandCenterDirectory(running, command_center_store_url)
        self.entities = pb_grpc.EntityServiceStub(running.channel)
        self.checklists = pb_grpc.ChecklistServiceStub(running.channel)
        self.spot_checks = pb_grpc.SpotCheckServiceStub(running.channel)
        self.inspections = pb_grpc.InspectionServiceStub(running.channel)
        self.cases = pb_grpc.CaseServiceStub(running.channel)
        self.trails = pb_grpc.AuditTrailServiceStub(running.channel)
        self.indicators = indicators_pb2_grpc.IndicatorSourceStub(running.channel)

    def close(self) -> None:
        self.command_center.close()
        self.running.close()

    # ------------------------------------------------------------ command_center's offices and officers

    def office(self, office_id: str, streets: list[str]) -> None:
        self.command_center.office(office_id, streets)

    def officer(self, officer_id: str, office_id: str = "MH01", expires: dt.date | None = None) -> None:
        self.command_center.officer(officer_id, office_id, expires or self.clock.today + dt.timedelta(days=365))

    # ------------------------------------------------------------ making things

    def entity(self, number: int, category=pb.ENTITY_CATEGORY_CATERING, street: str = "莘庄镇",
               risk=pb.RISK_LEVEL_LOW, key: bool = False) -> pb.Entity:
        return self.entities.RegisterEntity(pb.RegisterEntityRequest(entity=pb.Entity(
            uscc=uscc(number), name=f"小杨生煎（{number}店）", category=category, address=f"莘松路{number}号",
            street=street, risk_level=risk, key_supervision=key)))

    def routine(self, entity_id: str) -> pb.Inspection:
        return self.inspections.ScheduleInspection(pb.ScheduleInspectionRequest(
            inspection=pb.Inspection(entity_id=entity_id, kind=pb.INSPECTION_KIND_ROUTINE)))

    def started(self, entity_id: str, officers=("MH01-001", "MH01-002")) -> pb.Inspection:
        inspection = self.routine(entity_id)
        return self.inspections.StartInspection(pb.StartInspectionRequest(
            id=inspection.id, officer_ids=list(officers), location=location()))

    def answer_all(self, inspection: pb.Inspection, failing: dict[str, tuple[str, list[str]]] | None = None):
        failing = failing or {}
        findings = [pb.Finding(item_code=code, result=pb.ITEM_RESULT_FAIL, note=failing[code][0],
                               evidence_refs=failing[code][1]) if code in failing
                    else pb.Finding(item_code=code, result=pb.ITEM_RESULT_PASS)
                    for code in inspection.unanswered_items]
        return self.inspections.RecordFindings(pb.RecordFindingsRequest(id=inspection.id, findings=findings))

    def lead(self, entity_id: str = "", source=pb.LEAD_SOURCE_REFERRAL, ref: str = "", received=None,
             office_id: str = "", party: pb.Party | None = None, request_id: str = "") -> pb.Case:
        lead = pb.Case(entity_id=entity_id, office_id=office_id, source=source, source_ref=ref,
                       description="涉嫌销售过期食品", party=party)
        if received is not None:
            lead.received_time.FromDatetime(received)
        return self.cases.OpenLead(pb.OpenLeadRequest(request_id=request_id, lead=lead))

    # ------------------------------------------------------------ reading the service

    def readings(self, office_id: str = "MH01") -> dict[str, tuple[float, float]]:
        self.running.settle()
        response = self.indicators.ListIndicators(indicators_pb2.ListIndicatorsRequest(office_ids=[office_id]))
        return {i.key.removeprefix("mobile_enforcement."): (i.numerator, i.denominator) for i in response.indicators}

    def events(self, message_class: type[M]) -> list[Event[M]]:
        """The published events of this type, decoded from the outbox as a consumer decodes them."""
        self.running.settle()
        with self.running.store.read() as session:
            rows = list(session.scalars(select(Outbox).where(Outbox.event_type == contracts.type_name(message_class))
                                        .order_by(Outbox.id)))
        return [Event(envelope, contracts.decode(message_class, envelope.type, envelope.data))
                for envelope in (Envelope.from_wire(row.envelope) for row in rows)]

    def counts(self) -> dict[str, int]:
        """Rows of every table a refused request could have touched, and the events but indicators."""
        self.running.settle()
        with self.running.store.read() as session:
            counted = {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                       for model in (Entity, Conflict, Plan, Inspection, Finding, Case, DeadLetter)}
            counted["versions"] = session.scalar(select(func.sum(Inspection.version))) or 0
            counted["case_versions"] = session.scalar(select(func.sum(Case.version))) or 0
            counted["events"] = session.scalar(select(func.count()).select_from(Outbox).where(
                Outbox.event_type != contracts.type_name(IndicatorsChanged)))
        return counted

    def sweep(self) -> None:
        self.running.runtime.timers[0].run()


def connect(running: RunningService, tmp_path: Path) -> Client:
    """A client of the hosted service, with command_center's offices and officers on a SQLite store
    of their own (whichever store mobile_enforcement runs on)."""
    return Client(running, f"sqlite:///{tmp_path / 'command_center.db'}")


def staffed_client(store_url: str, tmp_path: Path) -> Client:
    """The service with two offices and four certified officers at MH01 (one more at MH02); the
    caller closes it."""
    return _staffed(connect(host_mobile_enforcement(store_url, InstantClock()), tmp_path))


def _staffed(client: Client) -> Client:
    """`client` after its two offices, four certified officers at MH01 and one at MH02 are announced;
    closed if that fails."""
    try:
        for office_id, street in OFFICES.items():
            client.office(office_id, [street])
        for number in range(1, 5):
            client.officer(f"MH01-{number:03d}")
        client.officer("MH02-001", "MH02")
    except BaseException:
        client.close()
        raise
    return client


# ---------------------------------------------------------------- spot-check plans


def directory(client: Client, count: int = 40) -> None:
    tiers = [pb.RISK_LEVEL_LOW, pb.RISK_LEVEL_MEDIUM, pb.RISK_LEVEL_HIGH, pb.RISK_LEVEL_VERY_HIGH]
    rows = ["uscc,name,category,address,street,risk_level,key_supervision"]
    for number in range(1, count + 1):
        tier = pb.RiskLevel.Name(tiers[number % 4]).removeprefix("RISK_LEVEL_")
        rows.append(f"{uscc(number)},店{number},CATERING,x,莘庄镇,{tier},{'true' if number % 10 == 0 else 'false'}")
    client.entities.ImportEntities(pb.ImportEntitiesRequest(content="\n".join(rows).encode()))


def plan_request(**fields) -> pb.DrawPlanRequest:
    plan = pb.SpotCheckPlan(office_id="MH01", name="2026年第四季度双随机抽查", seed="公开种子-2026-11",
                            tier_ratios=[pb.TierRatio(risk_level=pb.RISK_LEVEL_VERY_HIGH, ratio_basis_points=3000),
                                         pb.TierRatio(risk_level=pb.RISK_LEVEL_HIGH, ratio_basis_points=1000),
                                         pb.TierRatio(risk_level=pb.RISK_LEVEL_MEDIUM, ratio_basis_points=200),
                                         pb.TierRatio(risk_level=pb.RISK_LEVEL_LOW, ratio_basis_points=100)])
    request_id = fields.pop("request_id", "")
    for name, value in fields.items():
        if isinstance(value, list):
            del getattr(plan, name)[:]
            getattr(plan, name).extend(value)
        elif name == "due_date":
            plan.due_date.CopyFrom(value)
        else:
            setattr(plan, name, value)
    return pb.DrawPlanRequest(request_id=request_id, plan=plan)


def targets_of(client: Client, plan_id: str) -> list[pb.PlanTarget]:
    found, token = [], ""
    while True:
        page = client.spot_checks.ListPlanTargets(pb.ListPlanTargetsRequest(plan_id=plan_id, page_size=3,
                                                                             page_token=token))
        found += page.targets
        token = page.next_page_token
        if not token:
            return found


# ---------------------------------------------------------------- penalty procedure

FACTS = "当事人于2026年10月销售超过保质期的食品共计30件，货值金额1200元，有现场检查笔录、进货单据为证。"
LEGAL_BASIS = "《中华人民共和国食品安全法》第三十四条第（十）项、第一百二十四条第一款第（五）项"


def sanction(kind: int, yuan: int = 0, fen: int = 0, detail: str = "", days: int = 0,
             currency: str = "CNY") -> pb.Sanction:
    """One sanction; an amount only when yuan or fen is given."""
    given = pb.Sanction(kind=kind, detail=detail, duration_days=days)
    if yuan or fen:
        given.amount.currency_code, given.amount.units, given.amount.nanos = currency, yuan, fen * 10_000_000
    return given


def penalty(*sanctions: pb.Sanction, party: int = pb.PARTY_KIND_ORGANISATION, simplified: bool = False) -> pb.Penalty:
    return pb.Penalty(party_kind=party, simplified=simplified, sanctions=list(sanctions))


def fine(yuan: int, fen: int = 0, party: int = pb.PARTY_KIND_ORGANISATION, simplified: bool = False) -> pb.Penalty:
    return penalty(sanction(pb.PENALTY_KIND_FINE, yuan, fen), party=party, simplified=simplified)


def filed_case(client: Client, entity_id: str, ref: str, officers=("MH01-001", "MH01-002")) -> pb.Case:
    """A lead opened and filed with the team, today."""
    lead = client.lead(entity_id, ref=ref)
    return client.cases.FileCase(pb.FileCaseRequest(id=lead.id, officer_ids=list(officers)))


def conclude(client: Client, case_id: str, proposed: pb.Penalty) -> pb.Case:
    return client.cases.ConcludeInvestigation(pb.ConcludeInvestigationRequest(
        id=case_id, facts=FACTS, legal_basis=LEGAL_BASIS, proposed_penalty=proposed))


def notified(client: Client, case_id: str, proposed: pb.Penalty, reviewer: str = "MH01-004",
             waive: bool = True) -> pb.Case:
    """A filed case taken to the advance notice today, through the legal review and the collective
    discussion when the intended penalty requires them; the party waives the statement period unless
    told otherwise."""
    case = conclude(client, case_id, proposed)
    if case.legal_review_required:
        client.cases.SubmitForLegalReview(pb.SubmitForLegalReviewRequest(id=case_id))
        client.cases.RecordLegalReview(pb.RecordLegalReviewRequest(id=case_id, reviewer_id=reviewer, approved=True,
                                                                   opinion="事实清楚，证据确凿，适用依据正确"))
    if case.collective_discussion_required:
        client.cases.RecordCollectiveDiscussion(pb.RecordCollectiveDiscussionRequest(
            id=case_id, record="局长办公会集体讨论，同意拟处罚意见"))
    case = client.cases.IssueAdvanceNotice(pb.IssueAdvanceNoticeRequest(id=case_id))
    if waive:
        case = client.cases.RecordStatement(pb.RecordStatementRequest(id=case_id, statement="放弃陈述申辩",
                                                                      waived=True))
    return case


def decided_case(client: Client, case_id: str, decided: pb.Penalty) -> pb.Case:
    """A filed case decided today with this penalty, notified of the same one and the period waived."""
    notified(client, case_id, decided)
    return client.cases.DecideCase(pb.DecideCaseRequest(id=case_id, penalty=decided))


# ---------------------------------------------------------------- callers with tokens (AUTH_MODE=jwt)

FIELD_SECRET = "field-api-test-secret-of-32-bytes!!"


def bearer(subject: str, roles: tuple[str, ...] = ("officer",), office_id: str = "") -> tuple[tuple[str, str]]:
    """gRPC metadata carrying a token for this caller, signed with FIELD_SECRET."""
    from services.common.auth import issue_token

    token = issue_token(FIELD_SECRET, subject=subject, roles=list(roles), office_id=office_id)
    return (("authorization", f"Bearer {token}"),)


class DefaultCaller(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Calls made without metadata go with `metadata`, so the shared helpers work under AUTH_MODE=jwt."""

    def __init__(self, metadata: tuple[tuple[str, str]]):
        self.metadata = list(metadata)

    def _with_token(self, details):
        return details if details.metadata else details._replace(metadata=self.metadata)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)


def field_client(store_url: str, tmp_path: Path) -> Client:
    """The service with AUTH_MODE=jwt, the calls without metadata made by the bureau leader, two
    offices, four certified officers at MH01 and one at MH02; also a DocumentService stub."""
    running = host_mobile_enforcement(store_url, InstantClock(), AUTH_MODE="jwt", JWT_SECRET=FIELD_SECRET)
    running.channel = grpc.intercept_channel(running.channel, DefaultCaller(bearer("leader", ("bureau_leader",))))
    client = _staffed(connect(running, tmp_path))
    client.documents = pb_grpc.DocumentServiceStub(running.channel)
    return client
