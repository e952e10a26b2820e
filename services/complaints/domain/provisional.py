"""Provisional due dates counted again when the working-day calendar changes.

A clock counted into a year whose holiday schedule was not yet published is provisional. The
deadline sweep recounts the running provisional clocks at every run on the calendar in use (which
follows the operator's file without a restart, services.common.calendar_reload); these clocks also
record, in the same transaction, a DeadlineRecomputed for each clock whose due date or provisional
flag moved, with the rule set the clock started under, so the dashboard can tell the office.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.events import EventWriter
from services.common.recount import Recount
from services.common.working_days import DueDate, WorkingDayCalendar
from services.complaints.domain.deadlines import RUNNING, Clocks
from services.complaints.domain.rules import RuleBook
from services.complaints.domain.workspace import SOURCE
from services.complaints.models import Complaint, ComplaintDeadline, Outbox

SUBJECT = "complaint"


class PublishedClocks(Clocks):
    """The statutory clocks, whose recount of provisional due dates is published as it happens."""

    def __init__(self, rules: RuleBook, calendar: WorkingDayCalendar) -> None:
        super().__init__(rules, calendar)
        # The workspace's writer is built after the clocks; this one writes the same outbox.
        self.events = EventWriter(SOURCE, Outbox)

    def recompute_provisional(self, session: Session) -> list[ComplaintDeadline]:
        """Counts the running provisional clocks again on the calendar in use; records a
        DeadlineRecomputed for each one that moved and returns those."""
        moved = []
        for deadline in session.scalars(select(ComplaintDeadline)
                                        .where(ComplaintDeadline.provisional.is_(True),
                                               ComplaintDeadline.status == RUNNING)
                                        .order_by(ComplaintDeadline.complaint_id, ComplaintDeadline.kind)):
            before = DueDate(deadline.due_date, deadline.provisional)
            after = self.due(self.rules.get(deadline.rule_set), deadline.kind, deadline.started_on,
                             extended=deadline.extended)
            recount = Recount(SUBJECT, deadline.complaint_id, deadline.complaint_id, deadline.office_id,
                              deadline.kind, deadline.rule_set, before, after)
            if not recount.moved:
                continue
            deadline.due_date, deadline.provisional = after.date, after.provisional
            complaint = session.get(Complaint, deadline.complaint_id)
            # The sweep moves the complaint to the next version for this change: the event carries it.
            version = complaint.version + 1 if complaint is not None else 1
            self.events.record(session, recount.event(), aggregate_type=SUBJECT, aggregate_id=deadline.complaint_id,
                               version=version, office_id=deadline.office_id)
            moved.append(deadline)
        return moved
