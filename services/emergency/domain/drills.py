"""Emergency drills (应急演练) an office held: counted against the rule set's yearly target."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.errors import Violations
from services.emergency.domain.rules import INCIDENT_TYPES
from services.emergency.models import Drill

MAX_TITLE = 200
MAX_TEXT = 4000
EARLIEST = dt.date(2000, 1, 1)


@dataclass
class DrillInput:
    office_id: str
    held_on: dt.date | None
    title: str
    incident_type: str | None
    participant_count: int
    scenario: str = ""
    findings: str = ""


def validate_drill(data: DrillInput, today: dt.date) -> None:
    violations = Violations()
    if not data.office_id:
        violations.add("drill.office_id", "must not be empty")
    if data.held_on is None:
        violations.add("drill.held_on", "required")
    elif data.held_on > today:
        violations.add("drill.held_on", f"{data.held_on} is in the future (today is {today} in Asia/Shanghai); "
                                        "record a drill once it was held")
    elif data.held_on < EARLIEST:
        violations.add("drill.held_on", f"before {EARLIEST}")
    if not data.title.strip():
        violations.add("drill.title", "must not be empty")
    elif len(data.title) > MAX_TITLE:
        violations.add("drill.title", f"at most {MAX_TITLE} characters")
    if data.incident_type is not None and data.incident_type not in INCIDENT_TYPES:
        violations.add("drill.incident_type", f"unknown type {data.incident_type!r}")
    if data.participant_count < 1:
        violations.add("drill.participant_count", "at least one participant")
    for name in ("scenario", "findings"):
        if len(getattr(data, name)) > MAX_TEXT:
            violations.add(f"drill.{name}", f"at most {MAX_TEXT} characters")
    violations.raise_if_any("invalid drill")


def new_drill(session: Session, data: DrillInput, now: dt.datetime, actor: str) -> Drill:
    """A drill already checked by validate_drill."""
    drill = Drill(id=str(uuid.uuid4()), office_id=data.office_id, held_on=data.held_on, title=data.title.strip(),
                  incident_type=data.incident_type or "", participant_count=data.participant_count,
                  scenario=data.scenario.strip(), findings=data.findings.strip(), recorded_by=actor, created_at=now)
    session.add(drill)
    session.flush()
    return drill


def drills_in_year(session: Session, office_ids: list[str], year: int) -> dict[str, int]:
    rows = session.execute(select(Drill.office_id, func.count()).where(
        Drill.office_id.in_(office_ids), Drill.held_on >= dt.date(year, 1, 1), Drill.held_on <= dt.date(year, 12, 31))
        .group_by(Drill.office_id))
    return {office_id: int(count) for office_id, count in rows}
