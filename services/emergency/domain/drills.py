"""Emergency drills (应急演练) an office held: counted against the rule set's yearly target."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.access import office_scope, require_write
from services.common.context import Caller
from services.common.errors import NotFound, Violations
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from services.emergency.domain.directory import known_office
from services.emergency.domain.rules import INCIDENT_TYPES, NoRuleSet, RuleBook
from services.emergency.domain.workspace import Workspace
from services.emergency.models import Drill, RequestKey

MAX_TITLE = 200
MAX_TEXT = 4000
EARLIEST = dt.date(2000, 1, 1)


@dataclass
class DrillInput:
    """A drill as an office records it once held."""

    office_id: str
    held_on: dt.date | None
    title: str
    incident_type: str | None
    participant_count: int
    scenario: str = ""
    findings: str = ""


def validate_drill(data: DrillInput, today: dt.date) -> None:
    """Refuses a drill without office, title or participants, or held in the future."""
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


def get_drill(session: Session, drill_id: str) -> Drill:
    """The stored drill, or NotFound."""
    drill = session.get(Drill, drill_id) if drill_id else None
    if drill is None:
        raise NotFound(f"drill {drill_id!r} not found")
    return drill


def drills_in_year(session: Session, office_ids: Sequence[str], year: int) -> dict[str, int]:
    """How many drills each office held in a calendar year."""
    rows = session.execute(select(Drill.office_id, func.count()).where(
        Drill.office_id.in_(office_ids), Drill.held_on >= dt.date(year, 1, 1), Drill.held_on <= dt.date(year, 12, 31))
        .group_by(Drill.office_id))
    return {office_id: int(count) for office_id, count in rows}


def yearly_target(book: RuleBook, day: dt.date) -> int:
    """The drills an office is to hold a year by the rule set in force on `day` (none without one)."""
    try:
        return book.in_force(day).drills_per_office_per_year
    except NoRuleSet:
        return 0


class Drills:
    """Emergency drills (应急演练): recorded by the office that held them, counted against the yearly target."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def record_drill(self, caller: Caller, request_id: str, data: DrillInput) -> Drill:
        """Records a drill an office held, once per request id."""
        validate_drill(data, self.workspace.today())
        require_write(caller, data.office_id)

        def create(session: Session) -> str:
            known_office(session, data.office_id, "drill.office_id")
            drill = new_drill(session, data, self.workspace.now(), caller.subject)
            self.workspace.touched(session, [drill.office_id])
            return drill.id

        return run_once(self.workspace.store, RequestKey, request_id, "RecordDrill", create, get_drill)

    def list_drills(self, caller: Caller, page: Page, office_id: str | None, year: int | None) -> ListResult[Drill]:
        """The drills the caller may see, by office or by the year they were held in."""
        scope = office_scope(caller, office_id)
        query = select(Drill).where(Drill.id > page.after).order_by(Drill.id).limit(page.size)
        if scope:
            query = query.where(Drill.office_id == scope)
        if year is not None:
            query = query.where(Drill.held_on >= dt.date(year, 1, 1), Drill.held_on <= dt.date(year, 12, 31))
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
        return ListResult(rows, next_token(rows[-1].id if rows else None, len(rows), page))
