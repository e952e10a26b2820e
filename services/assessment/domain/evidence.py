"""Evidence of work, learned from other services' events: the basis of officers' grades (平时考核)
and of the offices' workload (考核系数).

Each event names its record, its office, the officers who did the work, the day it was done and
the statutory clocks it ran (supervision.common.v1.StatutoryClock): the work is on time when every
clock was met.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from google.protobuf.message import Message
from google.type import date_pb2
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.assessment.models import Evidence, EvidenceOfficer
from services.common.contracts import day_of
from services.common.errors import Violations
from supervision.command_center.v1 import events_pb2 as command_center_pb2
from supervision.common.v1.events_pb2 import StatutoryClock
from supervision.complaints.v1 import events_pb2 as complaints_pb2
from supervision.mobile_enforcement.v1 import events_pb2 as mobile_enforcement_pb2

TASK, INSPECTION, COMPLAINT, CASE = "TASK", "INSPECTION", "COMPLAINT", "CASE"
KINDS = (TASK, INSPECTION, COMPLAINT, CASE)
MAX_OFFICERS = 20
MAX_ID, MAX_REFERENCE, MAX_ENTITY, MAX_TITLE = 32, 64, 64, 200


@dataclass(frozen=True)
class EvidenceInput:
    """A piece of work as an event reports it, checked and ready to be counted once."""

    kind: str
    source: str
    reference: str
    office_id: str
    occurred_on: dt.date
    officer_ids: tuple[str, ...] = ()
    on_time: bool | None = None
    entity_id: str = ""
    title: str = ""

    @property
    def id(self) -> str:
        """The evidence's own id: its publisher, its kind and the publisher's record."""
        return f"{self.source}/{self.kind}/{self.reference}"


@dataclass(frozen=True)
class EvidenceView:
    """A stored piece of evidence with the officers credited with it."""

    evidence: Evidence
    officer_ids: list[str] = field(default_factory=list)


def of_task(source: str, message: command_center_pb2.TaskCompleted, event_day: dt.date) -> EvidenceInput:
    """A completed supervision task (督办): on time when its due-date clock was met."""
    return _evidence(TASK, source, message.task_id, "task_id", message.office_id, message.completed_on, event_day,
                     message.officer_ids, _clocks_met(message.clocks), title=message.title)


def of_inspection(source: str, message: mobile_enforcement_pb2.InspectionCompleted,
                  event_day: dt.date) -> EvidenceInput:
    """A completed inspection, credited to every officer of its team."""
    return _evidence(INSPECTION, source, message.inspection_id, "inspection_id", message.office_id,
                     message.completed_on, event_day, message.officer_ids, _clocks_met(message.clocks),
                     entity_id=message.entity_id, title=" ".join(filter(None, (message.kind, message.category))))


def of_complaint(source: str, message: complaints_pb2.ComplaintResolved, event_day: dt.date) -> EvidenceInput:
    """A complaint or report whose handling ended; complaints judges its timeliness itself (on_time)."""
    return _evidence(COMPLAINT, source, message.complaint_id, "complaint_id", message.office_id,
                     message.resolved_on, event_day, message.officer_ids, message.on_time,
                     title=" ".join(filter(None, (message.kind, message.outcome or message.state))))


def of_case(source: str, message: mobile_enforcement_pb2.CaseClosed, event_day: dt.date) -> EvidenceInput:
    """A closed penalty case, credited to its assigned officers: on time when every clock it ran was met."""
    return _evidence(CASE, source, message.case_id, "case_id", message.office_id, message.closed_on, event_day,
                     message.officer_ids, _clocks_met(message.clocks), entity_id=message.entity_id,
                     title=message.party_name)


def from_message(source: str, message: Message, event_day: dt.date) -> EvidenceInput:
    """The evidence an event carries. `event_day` (the event's Asia/Shanghai day) stands in for the
    day of the work only when the message lacks it."""
    if isinstance(message, command_center_pb2.TaskCompleted):
        return of_task(source, message, event_day)
    if isinstance(message, mobile_enforcement_pb2.InspectionCompleted):
        return of_inspection(source, message, event_day)
    if isinstance(message, complaints_pb2.ComplaintResolved):
        return of_complaint(source, message, event_day)
    if isinstance(message, mobile_enforcement_pb2.CaseClosed):
        return of_case(source, message, event_day)
    raise TypeError(f"{message.DESCRIPTOR.full_name} is no evidence of work")


def _clocks_met(clocks: Sequence[StatutoryClock]) -> bool | None:
    """On time when every clock was met; None (not judged) when the work ran no clock."""
    return all(clock.met for clock in clocks) if clocks else None


def _evidence(kind: str, source: str, reference: str, reference_field: str, office_id: str, day: date_pb2.Date,
              event_day: dt.date, officer_ids: Iterable[str], on_time: bool | None, *, entity_id: str = "",
              title: str = "") -> EvidenceInput:
    violations = Violations()
    if not 0 < len(reference) <= MAX_REFERENCE:
        violations.add(reference_field, f"the record's id is required (at most {MAX_REFERENCE} characters)")
    if not 0 < len(office_id) <= MAX_ID:
        violations.add("office_id", f"the office is required (at most {MAX_ID} characters)")
    officers: list[str] = []
    for officer_id in officer_ids:
        if len(officer_id) > MAX_ID:
            violations.add("officer_ids", f"{officer_id[:MAX_ID]}... is longer than {MAX_ID} characters")
        elif officer_id and officer_id not in officers:
            officers.append(officer_id)
    if len(officers) > MAX_OFFICERS:
        violations.add("officer_ids", f"{len(officers)} officers; at most {MAX_OFFICERS} share one piece of work")
    violations.raise_if_any(f"{kind.lower()} evidence {reference[:MAX_REFERENCE]!r} from {source} cannot be counted")
    return EvidenceInput(kind=kind, source=source, reference=reference, office_id=office_id,
                         occurred_on=day_of(day) or event_day, officer_ids=tuple(officers), on_time=on_time,
                         entity_id=entity_id[:MAX_ENTITY], title=title[:MAX_TITLE])


def record(session: Session, item: EvidenceInput) -> bool:
    """Stores the evidence once; False when this record was already counted."""
    if session.get(Evidence, item.id) is not None:
        return False
    session.add(Evidence(id=item.id, kind=item.kind, office_id=item.office_id, occurred_on=item.occurred_on,
                         on_time=item.on_time, source=item.source, reference=item.reference,
                         entity_id=item.entity_id, title=item.title))
    session.flush()
    for officer_id in item.officer_ids:
        session.add(EvidenceOfficer(evidence_id=item.id, officer_id=officer_id))
    return True


def counts(session: Session, start: dt.date, end: dt.date, office_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """Per office, how many pieces of work of each kind it did in the period (for its workload)."""
    offices = list(office_ids)
    result: dict[str, dict[str, int]] = {office: dict.fromkeys(KINDS, 0) for office in offices}
    for office_id, kind, count in session.execute(
            select(Evidence.office_id, Evidence.kind, func.count())
            .where(Evidence.office_id.in_(offices), Evidence.occurred_on >= start, Evidence.occurred_on <= end)
            .group_by(Evidence.office_id, Evidence.kind)):
        if kind in KINDS:
            result[office_id][kind] = int(count)
    return result


def of_officer(session: Session, officer_id: str, start: dt.date, end: dt.date) -> list[Evidence]:
    """The work credited to an officer between two days, in the order it was done: what their grade counts."""
    return list(session.scalars(
        select(Evidence).join(EvidenceOfficer, EvidenceOfficer.evidence_id == Evidence.id)
        .where(EvidenceOfficer.officer_id == officer_id, Evidence.occurred_on >= start, Evidence.occurred_on <= end)
        .order_by(Evidence.occurred_on, Evidence.id)))


def officers_of(session: Session, evidence_ids: list[str]) -> dict[str, list[str]]:
    """The officers credited with each piece of evidence."""
    result: dict[str, list[str]] = {evidence_id: [] for evidence_id in evidence_ids}
    if evidence_ids:
        for evidence_id, officer_id in session.execute(
                select(EvidenceOfficer.evidence_id, EvidenceOfficer.officer_id)
                .where(EvidenceOfficer.evidence_id.in_(evidence_ids)).order_by(EvidenceOfficer.officer_id)):
            result[evidence_id].append(officer_id)
    return result
