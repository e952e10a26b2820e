"""Statutory clocks: started from the rule set in force that day, counted on the working-day
calendar, met, extended, swept when they pass, recomputed once a provisional year is published.

A clock that is met after its due date counts as late even if the sweep had not marked it yet,
and an overdue clock stays late once met: that is what the on-time indicators count.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import FailedPrecondition
from services.common.working_days import DueDate, WorkingDayCalendar
from services.complaints.domain.rules import RuleBook, RuleSet
from services.complaints.models import Complaint, ComplaintDeadline

RUNNING, MET, OVERDUE, LATE = "RUNNING", "MET", "OVERDUE", "LATE"
OPEN = (RUNNING, OVERDUE)


class Clocks:
    """The statutory clocks (法定时限): limits from the rule set in force, counted in working days."""

    def __init__(self, rules: RuleBook, calendar: WorkingDayCalendar) -> None:
        self.rules = rules
        self.calendar = calendar

    def due(self, rule_set: RuleSet, clock: str, started_on: dt.date, *, extended: bool = False) -> DueDate:
        """The day a clock started on `started_on` falls due (provisional while the calendar lacks its year)."""
        return self.calendar.add_working_days(started_on, rule_set.limit(clock, extended=extended))

    def start(self, session: Session, complaint: Complaint, clock: str, started_on: dt.date,
              field: str) -> ComplaintDeadline:
        """`field` names the input that fixed the start day, for the error when no rule set covers it."""
        deadline = self.new_deadline(complaint, clock, started_on, field)
        session.add(deadline)
        return deadline

    def new_deadline(self, complaint: Complaint, clock: str, started_on: dt.date, field: str) -> ComplaintDeadline:
        """The running clock `start` stores, not yet stored: for a caller that inserts it itself."""
        rule_set = self.rules.in_force(started_on, field)
        due = self.due(rule_set, clock, started_on)
        return ComplaintDeadline(complaint_id=complaint.id, office_id=complaint.office_id, kind=clock,
                                 status=RUNNING, rule_set=rule_set.id, started_on=started_on,
                                 due_date=due.date, provisional=due.provisional, extended=False, met_on=None)

    def extend(self, deadline: ComplaintDeadline, today: dt.date) -> None:
        """The filing decision's one extension (approved by the head), counted from the same start."""
        if deadline.extended:
            raise FailedPrecondition("the filing decision was extended already; the rules allow it once")
        if deadline.status == OVERDUE or today > deadline.due_date:
            raise FailedPrecondition(f"the filing decision was due {deadline.due_date}; an extension is "
                                     "approved before the due date")
        deadline.extended = True
        self._recompute(deadline)

    def recompute_provisional(self, session: Session) -> list[ComplaintDeadline]:
        """Running clocks whose due date was provisional, counted again on today's calendar
        (which the operators may have extended); returns those that moved."""
        moved = []
        for deadline in session.scalars(select(ComplaintDeadline).where(ComplaintDeadline.provisional.is_(True),
                                                                        ComplaintDeadline.status == RUNNING)):
            before = (deadline.due_date, deadline.provisional)
            self._recompute(deadline)
            if (deadline.due_date, deadline.provisional) != before:
                moved.append(deadline)
        return moved

    def _recompute(self, deadline: ComplaintDeadline) -> None:
        due = self.due(self.rules.get(deadline.rule_set), deadline.kind, deadline.started_on,
                       extended=deadline.extended)
        deadline.due_date, deadline.provisional = due.date, due.provisional


def meet(deadline: ComplaintDeadline, today: dt.date) -> None:
    """The clock's duty was done today: met, or late when its due date had passed."""
    late = deadline.status == OVERDUE or today > deadline.due_date
    deadline.status = LATE if late else MET
    deadline.met_on = today


def deadlines_of(session: Session, complaint_ids: list[str]) -> dict[str, list[ComplaintDeadline]]:
    """Each item's clocks, in the order they started."""
    result: dict[str, list[ComplaintDeadline]] = {complaint_id: [] for complaint_id in complaint_ids}
    if complaint_ids:
        for row in session.scalars(select(ComplaintDeadline).where(ComplaintDeadline.complaint_id.in_(complaint_ids))
                                   .order_by(ComplaintDeadline.id)):
            result[row.complaint_id].append(row)
    return result


def running(deadlines: list[ComplaintDeadline], clock: str) -> ComplaintDeadline | None:
    """The clock of this kind still open (running or overdue), if any."""
    return next((d for d in deadlines if d.kind == clock and d.status in OPEN), None)


def latest(deadlines: list[ComplaintDeadline], clock: str) -> ComplaintDeadline | None:
    """The clock of this kind started last, open or not."""
    return next((d for d in reversed(deadlines) if d.kind == clock), None)


def newly_overdue(session: Session, today: dt.date, limit: int = 500) -> list[ComplaintDeadline]:
    """Running clocks whose due date has passed (oldest first)."""
    return list(session.scalars(select(ComplaintDeadline)
                                .where(ComplaintDeadline.status == RUNNING, ComplaintDeadline.due_date < today)
                                .order_by(ComplaintDeadline.due_date, ComplaintDeadline.id).limit(limit)))
