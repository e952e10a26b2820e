"""Hosting mobile_enforcement for the API tests: a clock that moves both today and now, command_center's
offices and officers announced through the real in-process bus, helpers to read the store, the `client`
fixture the test modules import, and the spot-check plan helpers several of them share."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import grpc
import pytest
from google.type import date_pb2, latlng_pb2
from sqlalchemy import func, select

from services.common.clock import shanghai_date
from services.common.credit_code import check_character
from services.common.events import Envelope
from services.mobile_enforcement import service
from services.mobile_enforcement.models import Case, Conflict, Entity, Finding, Inspection, Outbox, Plan
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc
from tests.conftest import make_settings
from tests.support import RunningService, host, violations

# 10:00 on Monday 2 November 2026 in Shanghai.
START = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
OFFICES = {"MH01": "莘庄镇", "MH02": "七宝镇"}
INVALID, PRECONDITION, NOT_FOUND = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                                    grpc.StatusCode.NOT_FOUND)
TODAY = dt.date(2026, 11, 2)


@dataclass
class InstantClock:
    """One instant the test moves; the service reads now (UTC) and today (Asia/Shanghai) from it."""

    instant: dt.datetime = field(default=START)

    def now(self) -> dt.datetime:
        return self.instant

    def __call__(self) -> dt.date:
        return shanghai_date(self.instant)

    @property
    def today(self) -> dt.date:
        return self()

    def advance(self, **delta: float) -> None:
        self.instant += dt.timedelta(**delta)


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


class Client:
    def __init__(self, running: RunningService):
        self.running = running
        # Indicators are refreshed by settle() alone: a background pass that has taken the dirty
        # marks but not committed yet would make settle() return before the snapshot is written.
        running.runtime.indicators.stop()
        self.clock: InstantClock = running.clock
        self.entities = pb_grpc.EntityServiceStub(running.channel)
        self.checklists = pb_grpc.ChecklistServiceStub(running.channel)
        self.spot_checks = pb_grpc.SpotCheckServiceStub(running.channel)
        self.inspections = pb_grpc.InspectionServiceStub(running.channel)
        self.cases = pb_grpc.CaseServiceStub(running.channel)
        self.trails = pb_grpc.AuditTrailServiceStub(running.channel)
        self.indicators = indicators_pb2_grpc.IndicatorSourceStub(running.channel)

    # ------------------------------------------------------------ other services' events

    def announce(self, source: str, event_type: str, subject: str, version: int, data: dict,
                 office_id: str = "", event_id: str = "") -> dict:
        wire = Envelope(id=event_id or str(uuid.uuid4()), source=source, type=event_type, subject=subject,
                        time=self.clock.instant, office_id=office_id, aggregate_id=subject.split("/", 1)[1],
                        aggregate_version=version, data=data).to_wire()
        self.running.bus.publish(wire)
        return wire

    def office(self, office_id: str, streets: list[str], version: int = 1,
               event_type: str = "OfficeRegistered") -> None:
        self.announce("command_center", event_type, f"office/{office_id}", version,
                      {"id": office_id, "name": f"{office_id}所", "district": "闵行区", "streets": streets}, office_id)

    def officer(self, officer_id: str, office_id: str = "MH01", expires: dt.date | None = None, version: int = 1,
                event_type: str = "OfficerRegistered") -> None:
        expires = expires or self.clock.today + dt.timedelta(days=365)
        self.announce("command_center", event_type, f"officer/{officer_id}", version,
                      {"id": officer_id, "name": "王伟", "office_id": office_id, "group": "SUPERVISION",
                       "certificate_no": f"SH{officer_id[-3:]}", "certificate_expires": expires.isoformat()},
                      office_id)

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

    def events(self, event_type: str) -> list[dict]:
        self.running.settle()
        with self.running.store.read() as session:
            rows = session.scalars(select(Outbox).where(Outbox.event_type == event_type).order_by(Outbox.id))
            return [row.envelope for row in rows]

    def counts(self) -> dict[str, int]:
        """Rows of every table a refused request could have touched, and the events but indicators."""
        self.running.settle()
        with self.running.store.read() as session:
            counted = {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                       for model in (Entity, Conflict, Plan, Inspection, Finding, Case)}
            counted["versions"] = session.scalar(select(func.sum(Inspection.version))) or 0
            counted["case_versions"] = session.scalar(select(func.sum(Case.version))) or 0
            counted["events"] = session.scalar(select(func.count()).select_from(Outbox)
                                               .where(Outbox.event_type != "IndicatorsChanged"))
        return counted

    def sweep(self) -> None:
        self.running.runtime.timers[0].run()


@pytest.fixture
def client(store_url):
    """The service with two offices and four certified officers at MH01 (one more at MH02)."""
    running = host_mobile_enforcement(store_url, InstantClock())
    client = Client(running)
    for office_id, street in OFFICES.items():
        client.office(office_id, [street])
    for number in range(1, 5):
        client.officer(f"MH01-{number:03d}")
    client.officer("MH02-001", "MH02")
    yield client
    running.close()


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
