"""Improvement plans (改进): a closed period opens one for every indicator an office scored under
target; the office plans actions, an owner and a due date and reports them done; a later closed
period verifies the plan (target met) or finds it not effective (and opens a new one). A plan
past its due date without being completed is overdue, once, with ImprovementOverdue."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.assessment.domain import periods
from services.assessment.domain.workspace import Workspace
from services.assessment.models import ImprovementPlan, Officer
from services.assessment.models import Period as PeriodRow
from services.common import scoring
from services.common.access import office_scope, require_read, require_write
from services.common.context import Caller
from services.common.contracts import date_of
from services.common.db import utcnow
from services.common.errors import Aborted, FailedPrecondition, FieldViolation, NotFound, Violations
from services.common.events import EventWriter
from services.common.paging import ListResult, Page, next_token
from supervision.assessment.v1 import events_pb2

OPEN, COMPLETED, VERIFIED, NOT_EFFECTIVE = "OPEN", "COMPLETED", "VERIFIED", "NOT_EFFECTIVE"
ACTIVE = (OPEN, COMPLETED)
MAX_TEXT = 4000
UPDATABLE_FIELDS = ("actions", "owner", "due_date")
# Every plan event carries the whole plan, so each has the same fields.
PlanEvent = (events_pb2.ImprovementOpened | events_pb2.ImprovementUpdated | events_pb2.ImprovementCompleted
             | events_pb2.ImprovementVerified | events_pb2.ImprovementOverdue)


@dataclass
class PlanChange:
    """The office's planning of an improvement plan: actions, owner and due date."""

    id: str
    actions: str
    owner: str
    due_date: dt.date | None


@dataclass(frozen=True)
class Verification:
    """What a closed period found of earlier plans: how many verified, how many not effective, and where."""

    verified: int
    not_effective: int
    offices: set[str]


# ---------------------------------------------------------------- at period close


def verify(session: Session, events: EventWriter, period: periods.Period,
           scores: dict[str, scoring.OfficeScore]) -> Verification:
    """Plans of earlier periods still active: target met now -> VERIFIED, still under -> NOT_EFFECTIVE;
    an indicator without data this period leaves its plan as it is."""
    plans = session.scalars(select(ImprovementPlan).join(PeriodRow, PeriodRow.key == ImprovementPlan.period_key)
                            .where(ImprovementPlan.state.in_(ACTIVE), PeriodRow.end_date < period.end,
                                   ImprovementPlan.office_id.in_(list(scores)))
                            .order_by(ImprovementPlan.id))
    verified = not_effective = 0
    offices: set[str] = set()
    for plan in plans:
        found = next((i for i in scores[plan.office_id].indicators if i.key == plan.indicator_key), None)
        if found is None or found.status == scoring.MISSING:
            continue
        plan.state = VERIFIED if found.status == scoring.FULL else NOT_EFFECTIVE
        plan.verified_in, plan.verified_value = period.key, found.value
        plan.overdue = plan.overdue and plan.state != VERIFIED
        _touch(plan)
        verified += plan.state == VERIFIED
        not_effective += plan.state == NOT_EFFECTIVE
        offices.add(plan.office_id)
        _event(events, session, events_pb2.ImprovementVerified, plan)
    return Verification(verified, not_effective, offices)


def open_plans(session: Session, events: EventWriter, period: periods.Period,
               scores: dict[str, scoring.OfficeScore], due_date: dt.date) -> list[ImprovementPlan]:
    """Opens a plan, due on `due_date`, for every indicator an office scored under target in the period."""
    opened = []
    now = utcnow()
    for office_id, score in sorted(scores.items()):
        for indicator in score.indicators:
            if indicator.status not in (scoring.PRO_RATA, scoring.ZERO):
                continue
            plan = ImprovementPlan(
                id=str(uuid.uuid4()), office_id=office_id, period_key=period.key, indicator_key=indicator.key,
                value=indicator.value, target=indicator.target, actions="", owner="", due_date=due_date, state=OPEN,
                overdue=False, completion_note="", completed_at=None, verified_in="", verified_value=None,
                created_at=now, updated_at=now, version=1)
            session.add(plan)
            opened.append(plan)
    session.flush()
    for plan in opened:
        _event(events, session, events_pb2.ImprovementOpened, plan)
    return opened


# ---------------------------------------------------------------- the office's work on a plan


class ImprovementPlans:
    """The offices' improvement plans (改进): read, planned and reported done by the office, swept for due dates."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def get_plan(self, caller: Caller, plan_id: str) -> ImprovementPlan:
        """One plan, for a caller who may read its office."""
        with self.workspace.store.read() as session:
            plan = _get(session, plan_id)
        require_read(caller, plan.office_id)
        return plan

    def list_plans(self, caller: Caller, page: Page, office_id: str | None, period: str | None, state: str | None,
                   indicator_key: str | None, overdue: bool | None) -> ListResult[ImprovementPlan]:
        """The plans the caller's scope allows, filtered by office, period, state, indicator or overdue."""
        scope = office_scope(caller, office_id)
        query = select(ImprovementPlan).where(ImprovementPlan.id > page.after).order_by(ImprovementPlan.id)
        for column, value in ((ImprovementPlan.office_id, scope), (ImprovementPlan.period_key, period),
                              (ImprovementPlan.state, state), (ImprovementPlan.indicator_key, indicator_key),
                              (ImprovementPlan.overdue, overdue)):
            if value is not None and value != "":
                query = query.where(column == value)
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query.limit(page.size)))
        return ListResult(rows, next_token(rows[-1].id if rows else None, len(rows), page))

    def update_plan(self, caller: Caller, change: PlanChange, mask: list[str],
                    expected_version: int) -> ImprovementPlan:
        """The office plans an OPEN plan: its actions, owner (an officer of the office) and due date."""
        fields = mask or list(UPDATABLE_FIELDS)
        with self.workspace.store.transaction() as session:
            plan = _get(session, change.id)
            require_write(caller, plan.office_id)
            self._validate(session, plan, change, fields)
            _check_version(plan, expected_version)
            if plan.state != OPEN:
                raise FailedPrecondition(f"plan {plan.id} is {plan.state}; only an OPEN plan can be changed")
            if "actions" in fields:
                plan.actions = change.actions.strip()
            if "owner" in fields:
                plan.owner = change.owner.strip()
            if "due_date" in fields and change.due_date is not None:
                plan.due_date = change.due_date
                plan.overdue = plan.overdue and change.due_date < self.workspace.today()
            _touch(plan)
            _event(self.workspace.events, session, events_pb2.ImprovementUpdated, plan)
            self.workspace.touched(session, [plan.office_id])
            return plan

    def _validate(self, session: Session, plan: ImprovementPlan, change: PlanChange, fields: list[str]) -> None:
        violations = Violations()
        for name in fields:
            if name not in UPDATABLE_FIELDS:
                violations.add("update_mask", f"{name} cannot be updated; allowed: {', '.join(UPDATABLE_FIELDS)}")
        if "actions" in fields:
            if not change.actions.strip():
                violations.add("plan.actions", "must not be empty: what will the office do?")
            elif len(change.actions) > MAX_TEXT:
                violations.add("plan.actions", f"at most {MAX_TEXT} characters")
        if "owner" in fields:
            owner = session.get(Officer, change.owner.strip()) if change.owner.strip() else None
            if owner is None or owner.office_id != plan.office_id:
                violations.add("plan.owner", f"must be an officer of office {plan.office_id}")
        if "due_date" in fields:
            today = self.workspace.today()
            policy = self.workspace.improvement.in_force(today)
            latest = today + dt.timedelta(days=policy.max_due_days)
            if change.due_date is None:
                violations.add("plan.due_date", "required")
            elif not today <= change.due_date <= latest:
                violations.add("plan.due_date", f"must be between today ({today}) and {latest}")
        violations.raise_if_any("invalid improvement plan")

    def complete_plan(self, caller: Caller, plan_id: str, note: str, expected_version: int) -> ImprovementPlan:
        """The office reports a planned plan done, with what was done; a later period verifies it."""
        with self.workspace.store.transaction() as session:
            plan = _get(session, plan_id)
            require_write(caller, plan.office_id)
            violations = Violations()
            if not note.strip():
                violations.add("note", "must not be empty: what was done?")
            elif len(note) > MAX_TEXT:
                violations.add("note", f"at most {MAX_TEXT} characters")
            violations.raise_if_any("invalid completion")
            _check_version(plan, expected_version)
            if plan.state != OPEN:
                raise FailedPrecondition(f"plan {plan.id} is {plan.state}; only an OPEN plan can be completed")
            if not plan.actions or not plan.owner:
                raise FailedPrecondition(f"plan {plan.id} has no actions or owner yet; plan it first",
                                         [_missing("plan.actions" if not plan.actions else "plan.owner")])
            plan.state, plan.completion_note, plan.completed_at = COMPLETED, note.strip(), utcnow()
            _touch(plan)
            _event(self.workspace.events, session, events_pb2.ImprovementCompleted, plan)
            self.workspace.touched(session, [plan.office_id])
            return plan

    def sweep_overdue(self) -> int:
        """Marks OPEN plans past their due date, publishes ImprovementOverdue once per plan, and
        refreshes every office's indicators (time alone moves them). Returns how many became overdue."""
        today = self.workspace.today()
        with self.workspace.store.transaction() as session:
            plans = list(session.scalars(select(ImprovementPlan).where(
                ImprovementPlan.state == OPEN, ImprovementPlan.overdue.is_(False), ImprovementPlan.due_date < today)
                .order_by(ImprovementPlan.due_date, ImprovementPlan.id).limit(500)))
            for plan in plans:
                plan.overdue = True
                _touch(plan)
                _event(self.workspace.events, session, events_pb2.ImprovementOverdue, plan)
            self.workspace.touched(session, None)
        return len(plans)


def _get(session: Session, plan_id: str) -> ImprovementPlan:
    plan = session.get(ImprovementPlan, plan_id) if plan_id else None
    if plan is None:
        raise NotFound(f"improvement plan {plan_id!r} not found")
    return plan


def _check_version(plan: ImprovementPlan, expected: int) -> None:
    if expected and expected != plan.version:
        raise Aborted(f"plan {plan.id} is at version {plan.version}, not {expected}; re-read and retry")


def _missing(field: str) -> FieldViolation:
    return FieldViolation(field, "required before completing")


def _touch(plan: ImprovementPlan) -> None:
    plan.updated_at = utcnow()
    plan.version += 1


def _event(events: EventWriter, session: Session, message_type: type[PlanEvent], plan: ImprovementPlan) -> None:
    events.record(session, message_type(
        plan_id=plan.id, version=plan.version, office_id=plan.office_id, period=plan.period_key,
        indicator_key=plan.indicator_key, value=plan.value, target=plan.target, owner=plan.owner,
        due_date=date_of(plan.due_date), state=plan.state, overdue=plan.overdue, verified_in=plan.verified_in),
        aggregate_type="improvement_plan", aggregate_id=plan.id, version=plan.version, office_id=plan.office_id)
