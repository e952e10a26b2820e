"""An inspector's work list (待办检查): the open inspections of an office, or of one officer, the
earliest due first, each with the entity to visit and how its last completed inspection ended."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from services.common.access import office_scope
from services.common.context import Caller
from services.common.errors import InvalidArgument
from services.common.paging import ListResult, Page, next_token
from services.mobile_enforcement.domain.inspections import Inspections, InspectionView
from services.mobile_enforcement.domain.vocabulary import COMPLETED, IN_PROGRESS, PLANNED
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.models import Entity, Inspection

OPEN_STATES = (PLANNED, IN_PROGRESS)
MAX_OFFICER_ID = 32
# An inspection without a due date comes after every dated one.
NO_DUE_DATE = dt.date(9999, 12, 31)


@dataclass(frozen=True)
class LastResult:
    """How an entity's last completed inspection ended, and when."""

    outcome: str
    completed_at: dt.datetime


@dataclass(frozen=True)
class Assignment:
    """An open inspection with its entity and the entity's last completed result (None: never inspected)."""

    view: InspectionView
    entity: Entity
    last: LastResult | None


def _due_key(model: type[Inspection]) -> ColumnElement[dt.date]:
    return func.coalesce(model.due_date, NO_DUE_DATE)


def _after(last_id: str) -> ColumnElement[bool]:
    """Rows after the page's last one in (due date, creation, id) order. Its due date and creation
    are read from its own row, not carried in the token: compared as stored, they order exactly as
    the listing's ORDER BY does (SQLite keeps instants as text, not always in one format)."""
    last = aliased(Inspection)
    due = select(_due_key(last)).where(last.id == last_id).scalar_subquery()
    created = select(last.created_at).where(last.id == last_id).scalar_subquery()
    due_key = _due_key(Inspection)
    return or_(due_key > due,
               and_(due_key == due, Inspection.created_at > created),
               and_(due_key == due, Inspection.created_at == created, Inspection.id > last_id))


def last_results(session: Session, entity_ids: list[str]) -> dict[str, LastResult]:
    """Each entity's last completed inspection's outcome and completion time, in one query."""
    if not entity_ids:
        return {}
    latest = (select(Inspection.entity_id, func.max(Inspection.completed_at).label("completed_at"))
              .where(Inspection.entity_id.in_(entity_ids), Inspection.state == COMPLETED)
              .group_by(Inspection.entity_id).subquery())
    rows = session.execute(select(Inspection.entity_id, Inspection.outcome, Inspection.completed_at)
                           .join(latest, and_(Inspection.entity_id == latest.c.entity_id,
                                              Inspection.completed_at == latest.c.completed_at))
                           .where(Inspection.state == COMPLETED))
    found: dict[str, LastResult] = {}
    for entity_id, outcome, completed_at in rows:
        # Two completions at the same instant are the same answer for a work list.
        if completed_at is not None:
            found.setdefault(entity_id, LastResult(outcome or "", completed_at))
    return found


class Assignments:
    """The open inspections an office (or one of its officers) has to carry out."""

    def __init__(self, workspace: Workspace, inspections: Inspections) -> None:
        self.workspace = workspace
        self.inspections = inspections

    def list(self, caller: Caller, page: Page, office_id: str, officer_id: str) -> ListResult[Assignment]:
        """A page of open inspections, earliest due first (undated last), then oldest first. An office
        user sees their own office's; a district-wide caller the office named, or every office's."""
        officer_id = officer_id.strip()
        if len(officer_id) > MAX_OFFICER_ID:
            raise InvalidArgument.of("officer_id", f"at most {MAX_OFFICER_ID} characters")
        if len(office_id) > MAX_OFFICER_ID:
            raise InvalidArgument.of("office_id", f"at most {MAX_OFFICER_ID} characters")
        scope = office_scope(caller, office_id.strip() or None)
        query = (select(Inspection).where(Inspection.state.in_(OPEN_STATES))
                 .order_by(_due_key(Inspection), Inspection.created_at, Inspection.id)
                 .limit(page.size))
        if scope:
            query = query.where(Inspection.office_id == scope)
        if officer_id:
            # Ids are stored comma-joined: framed in commas, one officer's id matches whole.
            framed = literal(",") + Inspection.assigned_officer_ids + literal(",")
            query = query.where(or_(Inspection.assigned_officer_ids == "",
                                    framed.contains(f",{officer_id},", autoescape=True)))
        if page.after:
            query = query.where(_after(page.after))
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
            views = self.inspections.views_of(session, rows)
            entity_ids = sorted({row.entity_id for row in rows})
            entities = {e.uscc: e for e in session.scalars(select(Entity).where(Entity.uscc.in_(entity_ids)))}
            last = last_results(session, entity_ids)
        items = [Assignment(view, entities[view.inspection.entity_id], last.get(view.inspection.entity_id))
                 for view in views]
        return ListResult(items, next_token(rows[-1].id if rows else None, len(rows), page))
