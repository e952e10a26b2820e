"""Evidence of work, learned from other services' events: the basis of officers' grades (平时考核)
and of the offices' workload (考核系数).

The events' data shapes belong to their publishers and not all of them are settled, so officer
ids and timeliness are read defensively from the keys publishers use for them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.assessment.models import Evidence, EvidenceOfficer

TASK, INSPECTION, COMPLAINT, CASE = "TASK", "INSPECTION", "COMPLAINT", "CASE"
KINDS = (TASK, INSPECTION, COMPLAINT, CASE)
OFFICER_KEYS = ("officer_ids", "officer_id", "handled_by", "completed_by", "inspector_ids")
MAX_OFFICERS = 20
# Workload inputs of the scheme's formula, counted from the evidence of a period.
ENTITIES, INSPECTIONS, COMPLAINTS, CASES = "entities", "inspections", "complaints", "cases"
WORKLOAD_INPUTS = (ENTITIES, INSPECTIONS, COMPLAINTS, CASES)
_INPUT_OF_KIND = {INSPECTION: INSPECTIONS, COMPLAINT: COMPLAINTS, CASE: CASES}


@dataclass(frozen=True)
class EvidenceInput:
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
        return f"{self.source}/{self.kind}/{self.reference}"


@dataclass(frozen=True)
class EvidenceView:
    evidence: Evidence
    officer_ids: list[str] = field(default_factory=list)


def from_event(kind: str, source: str, aggregate_id: str, office_id: str, occurred_on: dt.date,
               data: dict[str, Any]) -> EvidenceInput | None:
    """The evidence an event carries, or None when it names no office or record."""
    reference = _text(data.get("id") or data.get(f"{kind.lower()}_id") or aggregate_id, 64)
    office = _text(data.get("office_id") or office_id, 32)
    if not reference or not office:
        return None
    return EvidenceInput(kind=kind, source=source, reference=reference, office_id=office, occurred_on=occurred_on,
                         officer_ids=officer_ids_of(data), on_time=on_time_of(data),
                         entity_id=_text(data.get("entity_id") or data.get("subject_id"), 64),
                         title=_text(data.get("title") or data.get("entity_name") or data.get("category"), 200))


def officer_ids_of(data: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for key in OFFICER_KEYS:
        value = data.get(key)
        for item in value if isinstance(value, list | tuple) else [value]:
            officer_id = _text(item, 32)
            if officer_id and officer_id not in found:
                found.append(officer_id)
    return tuple(found[:MAX_OFFICERS])


def on_time_of(data: dict[str, Any]) -> bool | None:
    for key, on_time_when in (("on_time", True), ("within_limit", True), ("overdue", False), ("late", False)):
        if isinstance(data.get(key), bool):
            return data[key] is on_time_when
    return None


def _text(value: object, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


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


def workload(session: Session, start: dt.date, end: dt.date, office_ids: Iterable[str]) -> dict[str, dict[str, float]]:
    """Per office, the workload inputs of the period: inspections, complaints and cases handled,
    and the entities supervised (distinct entities inspected)."""
    offices = list(office_ids)
    inputs = {office: dict.fromkeys(WORKLOAD_INPUTS, 0.0) for office in offices}
    in_period = (Evidence.office_id.in_(offices), Evidence.occurred_on >= start, Evidence.occurred_on <= end)
    for office_id, kind, count in session.execute(
            select(Evidence.office_id, Evidence.kind, func.count()).where(*in_period)
            .group_by(Evidence.office_id, Evidence.kind)):
        if kind in _INPUT_OF_KIND:
            inputs[office_id][_INPUT_OF_KIND[kind]] = float(count)
    for office_id, entities in session.execute(
            select(Evidence.office_id, func.count(func.distinct(Evidence.entity_id)))
            .where(*in_period, Evidence.kind == INSPECTION, Evidence.entity_id != "").group_by(Evidence.office_id)):
        inputs[office_id][ENTITIES] = float(entities)
    return inputs


def of_officer(session: Session, officer_id: str, start: dt.date, end: dt.date) -> list[Evidence]:
    return list(session.scalars(
        select(Evidence).join(EvidenceOfficer, EvidenceOfficer.evidence_id == Evidence.id)
        .where(EvidenceOfficer.officer_id == officer_id, Evidence.occurred_on >= start, Evidence.occurred_on <= end)
        .order_by(Evidence.occurred_on, Evidence.id)))


def officers_of(session: Session, evidence_ids: list[str]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {evidence_id: [] for evidence_id in evidence_ids}
    if evidence_ids:
        for evidence_id, officer_id in session.execute(
                select(EvidenceOfficer.evidence_id, EvidenceOfficer.officer_id)
                .where(EvidenceOfficer.evidence_id.in_(evidence_ids)).order_by(EvidenceOfficer.officer_id)):
            result[evidence_id].append(officer_id)
    return result
