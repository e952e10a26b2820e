"""Helpers for the assessment API tests: a client, events as their publishers send them (delivered
through the in-process bus), what the store and the outbox hold, the `client` fixture the test modules
import, and the scheme edit and quarter of work several of them share."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest
from google.type import date_pb2
from sqlalchemy import func, select

from services.assessment.models import (
    Evidence,
    ImprovementPlan,
    IndicatorHistory,
    OfficerAssessment,
    Outbox,
    Period,
    PeriodScore,
    SchemeVersion,
)
from services.common.clock import SHANGHAI
from services.common.events import Envelope
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from tests.conftest import make_settings
from tests.support import Clock, RunningService, host, violations

TODAY = dt.date(2026, 11, 2)
CC = "command_center"
DUTY, STAFFING, TASKS, CERTIFICATES = (f"{CC}.duty_coverage", f"{CC}.group_staffing", f"{CC}.task_on_time",
                                       f"{CC}.certificates_valid")
TABLES = (SchemeVersion, IndicatorHistory, Period, PeriodScore, ImprovementPlan, Evidence, OfficerAssessment, Outbox)


def shanghai(year: int, month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=SHANGHAI)


class AssessmentClient:
    def __init__(self, running: RunningService):
        self.running = running
        # Indicators are refreshed by settle() alone, so a test reads them when it has settled.
        running.runtime.indicators.stop()
        self.schemes = pb_grpc.SchemeServiceStub(running.channel)
        self.scores = pb_grpc.ScoreServiceStub(running.channel)
        self.plans = pb_grpc.ImprovementServiceStub(running.channel)
        self.staff = pb_grpc.StaffAssessmentServiceStub(running.channel)
        self.indicators = indicators_pb2_grpc.IndicatorSourceStub(running.channel)
        self._versions: dict[str, int] = {}

    @property
    def clock(self):
        return self.running.clock

    # ------------------------------------------------------------ events as their publishers send them

    def publish(self, source: str, event_type: str, aggregate: str, data: dict, *, office_id: str = "",
                time: dt.datetime | None = None, version: int | None = None) -> Envelope:
        key = f"{source}/{aggregate}"
        version = version if version is not None else self._versions.get(key, 0) + 1
        self._versions[key] = max(version, self._versions.get(key, 0))
        aggregate_id = aggregate.partition("/")[2]
        envelope = Envelope(id=str(uuid.uuid4()), source=source, type=event_type, subject=aggregate,
                            time=(time or dt.datetime.now(dt.UTC)).astimezone(dt.UTC), office_id=office_id,
                            aggregate_id=aggregate_id, aggregate_version=version, data=data)
        self.running.bus.publish(envelope.to_wire())
        return envelope

    def office(self, office_id: str, name: str = "") -> None:
        self.publish("command_center", "OfficeRegistered", f"office/{office_id}",
                     {"id": office_id, "name": name or f"{office_id} 市场监督管理所", "district": "闵行区",
                      "streets": [office_id]}, office_id=office_id)

    def officer(self, officer_id: str, office_id: str, group: str = "SUPERVISION", event: str = "OfficerRegistered"):
        self.publish("command_center", event, f"officer/{officer_id}",
                     {"id": officer_id, "name": f"干部{officer_id}", "office_id": office_id, "group": group,
                      "certificate_no": "SH0001", "certificate_expires": "2030-01-01"}, office_id=office_id)

    def values(self, source: str, office_id: str, at: dt.datetime, readings: dict[str, tuple[float, float]],
               version: int | None = None) -> None:
        """IndicatorsChanged as a service publishes it: every indicator of the office, as of `at`."""
        self.publish(source, "IndicatorsChanged", f"indicators/{office_id}", {
            "office_id": office_id, "as_of": at.astimezone(dt.UTC).isoformat(),
            "indicators": [{"key": key, "numerator": n, "denominator": d, "value": n / d if d else 0.0,
                            "has_data": d > 0} for key, (n, d) in readings.items()]},
            office_id=office_id, time=at, version=version)

    def work(self, source: str, event_type: str, record_id: str, office_id: str, on: dt.date, **data) -> Envelope:
        return self.publish(source, event_type, f"record/{record_id}",
                            {"id": record_id, "office_id": office_id, **data}, office_id=office_id,
                            time=shanghai(on.year, on.month, on.day))

    # ------------------------------------------------------------ reading back

    def outbox(self, event_type: str) -> list[dict]:
        self.running.settle()
        with self.running.store.read() as session:
            return [row.envelope for row in session.scalars(
                select(Outbox).where(Outbox.event_type == event_type).order_by(Outbox.id))]

    def counts(self) -> dict[str, int]:
        self.running.settle()
        with self.running.store.read() as session:
            return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) for model in TABLES}

    def readings(self, office_id: str) -> dict[str, tuple[float, float]]:
        self.running.settle()
        answer = self.indicators.ListIndicators(indicators_pb2.ListIndicatorsRequest(office_ids=[office_id]))
        return {i.key: (i.numerator, i.denominator) for i in answer.indicators}

    def close(self, period: str, request_id: str = "") -> pb.Period:
        closed = self.scores.ClosePeriod(pb.ClosePeriodRequest(request_id=request_id, period=period))
        self.running.settle()
        return closed


def expect_error(call, code: grpc.StatusCode) -> dict[str, str]:
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == code, info.value.details()
    return violations(info.value)


def by_key(score: pb.OfficeScore) -> dict[str, pb.IndicatorScore]:
    return {i.key: i for i in score.indicators}


@pytest.fixture
def client(store_url, monkeypatch):
    monkeypatch.setenv("INDICATOR_SOURCES", "")
    running = host("assessment", store_url, make_settings(), Clock(TODAY))
    yield AssessmentClient(running)
    running.close()


def date(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


# ---------------------------------------------------------------- shared by several test modules


def starting_scheme(client) -> pb.Scheme:
    return client.schemes.GetScheme(pb.GetSchemeRequest())


def edited(client, *, target: float = 0.9, effective=TODAY, note="提高督办按期率要求") -> pb.Scheme:
    scheme = pb.Scheme()
    scheme.CopyFrom(starting_scheme(client))
    next(r for r in scheme.indicators if r.key == TASKS).target = target
    scheme.effective_from.CopyFrom(date(effective))
    scheme.note = note
    return scheme


def quarter_of_work(client) -> None:
    """Office MH01 with five officers and the third quarter's work, as the services report it."""
    client.office("MH01")
    for number in range(1, 6):
        client.officer(f"MH01-0{number}", "MH01")
    q3 = dt.date(2026, 8, 10)
    # MH01-01: 8 cases on time (32) -> GOOD. MH01-02: 11 tasks on time (33) -> GOOD.
    # MH01-03: 16 complaints within limits (32) -> GOOD by the rules, but the quota is 2 of 5
    # and it has the fewest points of the three. MH01-04: 2 cases, one late (4 + 1 = 5)
    # -> AVERAGE. MH01-05: nothing recorded -> AVERAGE (not judged on volume).
    for number in range(8):
        client.work("mobile_enforcement", "CaseClosed", f"c1-{number}", "MH01", q3, officer_ids=["MH01-01", "X"])
    for number in range(11):
        client.work(CC, "TaskCompleted", f"t2-{number}", "MH01", q3, completed_by="MH01-02", overdue=False)
    for number in range(16):
        client.work("complaints", "ComplaintResolved", f"p3-{number}", "MH01", q3, handled_by="MH01-03")
    client.work("mobile_enforcement", "CaseClosed", "c4-1", "MH01", q3, officer_id="MH01-04", on_time=True)
    client.work("mobile_enforcement", "CaseClosed", "c4-2", "MH01", q3, officer_id="MH01-04", on_time=False)
    # A redelivery by another event id of a record already counted, and work outside the quarter.
    client.work("mobile_enforcement", "CaseClosed", "c4-2", "MH01", q3, officer_id="MH01-04", on_time=False)
    client.work("mobile_enforcement", "CaseClosed", "c4-3", "MH01", dt.date(2026, 10, 1), officer_id="MH01-04")
