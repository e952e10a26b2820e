"""Plain helpers of the assessment API tests (their fixtures are in conftest.py): a client, events
as their publishers send them (delivered through the in-process bus), what the store and the outbox
hold, and the scheme edit and quarter of work several of them share."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TypeVar

import grpc
import pytest
from google.protobuf.message import Message
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
from services.common import contracts
from services.common.clock import SHANGHAI
from services.common.events import Envelope, Event
from services.common.indicators import Reading, reading_message
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc
from supervision.command_center.v1 import events_pb2 as cc_events
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.common.v1.events_pb2 import IndicatorsChanged, StatutoryClock
from supervision.complaints.v1 import events_pb2 as complaints_events
from supervision.mobile_enforcement.v1 import events_pb2 as me_events
from tests.support import RunningService, violations

M = TypeVar("M", bound=Message)
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

    def publish(self, source: str, message: Message, aggregate_type: str, *, time: dt.datetime | None = None,
                version: int | None = None) -> Envelope:
        """The publisher's message in the envelope its EventWriter gives it, through the bus. The
        aggregate is the message's first field (its record), as every publisher's contract says."""
        aggregate_id = getattr(message, message.DESCRIPTOR.fields[0].name)
        key = f"{source}/{aggregate_type}/{aggregate_id}"
        version = version if version is not None else self._versions.get(key, 0) + 1
        self._versions[key] = max(version, self._versions.get(key, 0))
        if "version" in message.DESCRIPTOR.fields_by_name:
            message.version = version
        envelope = Envelope(id=str(uuid.uuid4()), source=source, type=contracts.type_name(message),
                            subject=f"{aggregate_type}/{aggregate_id}",
                            time=(time or dt.datetime.now(dt.UTC)).astimezone(dt.UTC),
                            office_id=getattr(message, "office_id", ""), aggregate_id=aggregate_id,
                            aggregate_version=version, data=contracts.encode(message))
        self.running.bus.publish(envelope.to_wire())
        return envelope

    def office(self, office_id: str, name: str = "") -> None:
        self.publish("command_center", cc_events.OfficeRegistered(
            office_id=office_id, name=name or f"{office_id} 市场监督管理所", district="闵行区", streets=[office_id]),
            "office")

    def officer(self, officer_id: str, office_id: str, group: str = "SUPERVISION",
                event: type[Message] = cc_events.OfficerRegistered) -> None:
        self.publish("command_center", event(
            officer_id=officer_id, name=f"干部{officer_id}", office_id=office_id, group=group,
            certificate_no="SH0001", certificate_expires=date_pb2.Date(year=2030, month=1, day=1)), "officer")

    def values(self, source: str, office_id: str, at: dt.datetime, readings: dict[str, tuple[float, float]],
               version: int | None = None) -> None:
        """IndicatorsChanged as a service's IndicatorRefresher writes it: every indicator of the office."""
        self.publish(source, IndicatorsChanged(
            office_id=office_id, as_of=contracts.timestamp_of(at),
            indicators=[reading_message(Reading(office_id, key, n, d)) for key, (n, d) in readings.items()]),
            "indicators", time=at, version=version)

    def work(self, source: str, message: Message, on: dt.date) -> Envelope:
        """A piece of work done on `on` (its completion day set on the message when it has none)."""
        for name in ("completed_on", "resolved_on", "closed_on"):
            if name in message.DESCRIPTOR.fields_by_name and not message.HasField(name):
                getattr(message, name).CopyFrom(contracts.date_of(on))
        return self.publish(source, message, "record", time=shanghai(on.year, on.month, on.day))

    # ------------------------------------------------------------ reading back

    def events(self, message_class: type[M]) -> list[Event[M]]:
        """assessment's events of one type, read back from its outbox as a consumer decodes them."""
        self.running.settle()
        name = contracts.type_name(message_class)
        with self.running.store.read() as session:
            envelopes = [Envelope.from_wire(row.envelope) for row in session.scalars(
                select(Outbox).where(Outbox.event_type == name).order_by(Outbox.id))]
        return [Event(e, contracts.decode(message_class, e.type, e.data)) for e in envelopes]

    # ------------------------------------------------------------ reading back

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
        client.work("mobile_enforcement", case_closed(f"c1-{number}", "MH01", ["MH01-01", "X"], met=True), q3)
    for number in range(11):
        client.work(CC, task_completed(f"t2-{number}", "MH01", "MH01-02", met=True), q3)
    for number in range(16):
        client.work("complaints", complaint_resolved(f"p3-{number}", "MH01", "MH01-03", on_time=True), q3)
    client.work("mobile_enforcement", case_closed("c4-1", "MH01", ["MH01-04"], met=True), q3)
    client.work("mobile_enforcement", case_closed("c4-2", "MH01", ["MH01-04"], met=False), q3)
    # A redelivery by another event id of a record already counted, and work outside the quarter.
    client.work("mobile_enforcement", case_closed("c4-2", "MH01", ["MH01-04"], met=False), q3)
    client.work("mobile_enforcement", case_closed("c4-3", "MH01", ["MH01-04"]), dt.date(2026, 10, 1))


# ---------------------------------------------------------------- the publishers' messages of work done


def clocks(met: bool | None, *names: str) -> list[StatutoryClock]:
    """The statutory clocks of a piece of work, all met or not; none when `met` is None."""
    return [] if met is None else [StatutoryClock(clock=name, met=met) for name in names]


def case_closed(case_id: str, office_id: str, officer_ids: list[str], *, met: bool | None = None,
                entity_id: str = "") -> me_events.CaseClosed:
    return me_events.CaseClosed(case_id=case_id, office_id=office_id, entity_id=entity_id, party_name="某某超市",
                                penalty="WARNING", officer_ids=officer_ids,
                                clocks=clocks(met, "filing", "closing"))


def inspection_completed(inspection_id: str, office_id: str, officer_ids: list[str], *, met: bool | None = None,
                         entity_id: str = "") -> me_events.InspectionCompleted:
    return me_events.InspectionCompleted(inspection_id=inspection_id, office_id=office_id, entity_id=entity_id,
                                         kind="ROUTINE", outcome="COMPLIANT", officer_ids=officer_ids,
                                         category="SUPERMARKET", clocks=clocks(met, "due_date"))


def task_completed(task_id: str, office_id: str, officer_id: str, *, met: bool | None = None
                   ) -> cc_events.TaskCompleted:
    return cc_events.TaskCompleted(task_id=task_id, office_id=office_id, title=f"督办 {task_id}", source="bureau",
                                   state="COMPLETED", overdue=met is False, completed_by=officer_id,
                                   officer_ids=[officer_id], clocks=clocks(met, "due_date"))


def complaint_resolved(complaint_id: str, office_id: str, officer_id: str, *, on_time: bool
                       ) -> complaints_events.ComplaintResolved:
    return complaints_events.ComplaintResolved(
        complaint_id=complaint_id, office_id=office_id, kind="COMPLAINT", state="RESOLVED", outcome="RESOLVED",
        handled_by=officer_id, on_time=on_time, officer_ids=[officer_id], clocks=clocks(on_time, "acceptance"))
