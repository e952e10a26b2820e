"""Provisional due dates of penalty cases counted again when the working-day calendar changes.

A clock counted into a year whose holiday schedule was not yet published is provisional. The
calendar follows the operator's file without a restart (services.common.calendar_reload); this
timer, run by one replica under its lease, counts every running provisional clock again with the
rule set the clock started under, and for each one that moved stores the new date, writes it into
the case's evidence trail and publishes DeadlineRecomputed, in one transaction per case.

The clocks it counts, each from the day it started:
- filing decision (LEAD, not stopped): received day + the rule set's limit, + its extension when
  approved, + the working days of every stop since (read from the trail's "clock resumed" records,
  counted on the calendar in use, which may itself have been provisional);
- legal review (LEGAL_REVIEW): the submission day (the trail's last "submitted for legal review") +
  the limit of the rule set it was submitted under;
- statement and defence (NOTIFIED): the notice day + the limit of the rule set in force that day;
- publication of a penalty decision (not yet published): the decision day + the limit of the rule
  set in force that day; the same for an inspection's result, from the day it was completed (the
  inspection's own trail and version).
A clock already marked overdue is left alone: the sweep's decision stands until an officer acts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from services.common.clock import shanghai_date
from services.common.consumer import Timer
from services.common.context import SYSTEM_CALLER
from services.common.recount import Recount
from services.common.working_days import DueDate
from services.mobile_enforcement.domain import deadlines
from services.mobile_enforcement.domain.vocabulary import LEAD, LEGAL_REVIEW, NOTIFIED
from services.mobile_enforcement.domain.workspace import Workspace, stored
from services.mobile_enforcement.models import AuditRecord, Case, Inspection

log = logging.getLogger(__name__)

SUBJECT, INSPECTION_SUBJECT = "case", "inspection"
TIMER = "provisional_recount"
# The clock names, as the published case's statutory clocks call them.
FILING, LEGAL_REVIEW_CLOCK, STATEMENT, PUBLICATION = "filing", "legal_review", "statement", "publication"


class ProvisionalRecount:
    """Counts the running provisional clocks of penalty cases again on the calendar in use."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def timer(self) -> Timer:
        """The worker timer that runs it every sweep interval (under the timer's lease)."""
        return Timer(TIMER, self.run)

    def run(self) -> list[Recount]:
        """One pass over every case with a running provisional clock; returns the clocks that moved."""
        with self.workspace.store.read() as session:
            case_ids = list(session.scalars(select(Case.id).where(_running_provisional()).order_by(Case.id)))
            inspection_ids = list(session.scalars(select(Inspection.id).where(
                Inspection.publication_due_provisional.is_(True), Inspection.published_at.is_(None),
                Inspection.publication_overdue.is_(False)).order_by(Inspection.id)))
        moved: list[Recount] = []
        for case_id in case_ids:
            # One transaction per case: a case that fails to count does not hold back the others.
            with self.workspace.store.transaction() as session:
                case = session.get(Case, case_id, with_for_update=True)
                if case is not None:
                    moved.extend(self._recount(session, case))
        for inspection_id in inspection_ids:
            with self.workspace.store.transaction() as session:
                inspection = session.get(Inspection, inspection_id, with_for_update=True)
                if inspection is not None:
                    moved.extend(self._recount_publication(session, inspection))
        if moved:
            log.info("provisional due dates recounted",
                     extra={"moved": [(r.subject_id, r.clock, r.current.date.isoformat()) for r in moved]})
        return moved

    def _recount(self, session: Session, case: Case) -> list[Recount]:
        moved = [recount for recount in self._counts(session, case) if recount.moved]
        if not moved:
            return moved
        for recount in moved:
            _store(case, recount.clock, recount.current)
        case.version += 1
        case.updated_at = self.workspace.now()
        for recount in moved:
            case.trail_head = self.workspace.record(
                session, f"case/{case.id}", "due date recounted", SYSTEM_CALLER.subject, state=case.state,
                clock=recount.clock, previous_due=recount.previous.date.isoformat(),
                due=recount.current.date.isoformat(), provisional=recount.current.provisional,
                rule_set=recount.rule_set)
            self.workspace.events.record(session, recount.event(), aggregate_type=SUBJECT, aggregate_id=case.id,
                                         version=case.version, office_id=case.office_id)
        self.workspace.touched(session, [case.office_id])
        return moved

    def _recount_publication(self, session: Session, inspection: Inspection) -> list[Recount]:
        """An inspection's result publication clock, counted from its completion day."""
        if (not inspection.publication_due_provisional or inspection.published_at is not None
                or inspection.publication_overdue or inspection.completed_at is None):
            return []
        completed_on = shanghai_date(inspection.completed_at)
        rules = self.workspace.rules.in_force(completed_on)
        due = deadlines.inspection_publication_due(self.workspace.calendar, rules, completed_on)
        recount = Recount(INSPECTION_SUBJECT, inspection.id, inspection.id, inspection.office_id, PUBLICATION,
                          rules.id, DueDate(stored(inspection.publication_due, "publication_due"), True), due)
        if not recount.moved:
            return []
        inspection.publication_due, inspection.publication_due_provisional = due.date, due.provisional
        inspection.version += 1
        inspection.trail_head = self.workspace.record(
            session, f"inspection/{inspection.id}", "due date recounted", SYSTEM_CALLER.subject,
            state=inspection.state, clock=PUBLICATION, previous_due=recount.previous.date.isoformat(),
            due=due.date.isoformat(), provisional=due.provisional, rule_set=rules.id)
        self.workspace.events.record(session, recount.event(), aggregate_type=INSPECTION_SUBJECT,
                                     aggregate_id=inspection.id, version=inspection.version,
                                     office_id=inspection.office_id)
        self.workspace.touched(session, [inspection.office_id])
        return [recount]

    def _counts(self, session: Session, case: Case) -> Iterator[Recount]:
        calendar = self.workspace.calendar
        if case.state == LEAD and case.filing_due_provisional and not case.filing_overdue and not case.paused_for:
            rules = self.workspace.rules.get(case.rule_set)
            days = rules.filing_decision_working_days
            if case.filing_extended:
                days += rules.filing_extension_working_days
            days += sum(calendar.working_days_between(stopped, resumed) for stopped, resumed in _stops(session, case))
            due = calendar.add_working_days(shanghai_date(case.received_at), days)
            yield self._recount_of(case, FILING, rules.id, DueDate(case.filing_decision_due,
                                                                   case.filing_due_provisional), due)
        if case.state == LEGAL_REVIEW and case.legal_review_due_provisional and not case.legal_review_overdue:
            submitted = _last_record(session, case, "submitted for legal review")
            if submitted is not None:
                rules = self.workspace.rules.get(str(submitted["rule_set"]))
                due = deadlines.legal_review_due(calendar, rules, _day(submitted))
                yield self._recount_of(case, LEGAL_REVIEW_CLOCK, rules.id,
                                       DueDate(stored(case.legal_review_due, "legal_review_due"), True), due)
        if case.state == NOTIFIED and case.statement_due_provisional:
            notified_on = stored(case.notified_on, "notified_on")
            rules = self.workspace.rules.in_force(notified_on)
            due = deadlines.statement_due(calendar, rules, notified_on)
            yield self._recount_of(case, STATEMENT, rules.id,
                                   DueDate(stored(case.statement_due, "statement_due"), True), due)
        if _publication_running(case):
            decided_on = stored(case.decided_on, "decided_on")
            rules = self.workspace.rules.in_force(decided_on)
            due = deadlines.penalty_publication_due(calendar, rules, decided_on)
            yield self._recount_of(case, PUBLICATION, rules.id,
                                   DueDate(stored(case.publication_due, "publication_due"), True), due)

    @staticmethod
    def _recount_of(case: Case, clock: str, rule_set: str, previous: DueDate, current: DueDate) -> Recount:
        return Recount(SUBJECT, case.id, case.id, case.office_id, clock, rule_set, previous, current)


def _running_provisional() -> ColumnElement[bool]:
    return or_((Case.state == LEAD) & Case.filing_due_provisional.is_(True),
               (Case.state == LEGAL_REVIEW) & Case.legal_review_due_provisional.is_(True),
               (Case.state == NOTIFIED) & Case.statement_due_provisional.is_(True),
               Case.publication_due_provisional.is_(True) & Case.published_at.is_(None)
               & Case.publication_overdue.is_(False))


def _publication_running(case: Case) -> bool:
    # The decision is published in any state after it (delivered, executed, even closed).
    return (case.publication_due_provisional and case.publication_due is not None and case.published_at is None
            and not case.publication_overdue and case.decided_on is not None)


def _store(case: Case, clock: str, due: DueDate) -> None:
    if clock == FILING:
        case.filing_decision_due, case.filing_due_provisional = due.date, due.provisional
    elif clock == LEGAL_REVIEW_CLOCK:
        case.legal_review_due, case.legal_review_due_provisional = due.date, due.provisional
    elif clock == PUBLICATION:
        case.publication_due, case.publication_due_provisional = due.date, due.provisional
    else:
        case.statement_due, case.statement_due_provisional = due.date, due.provisional


def _records(session: Session, case: Case) -> Iterator[dict[str, object]]:
    rows = session.scalars(select(AuditRecord.record).where(AuditRecord.chain_key == f"case/{case.id}")
                           .order_by(AuditRecord.sequence))
    for row in rows:
        yield json.loads(row)


def _day(record: dict[str, object]) -> dt.date:
    # The trail keeps instants in UTC; a clock starts on the day in Shanghai.
    return shanghai_date(dt.datetime.fromisoformat(str(record["at"]).replace("Z", "+00:00")))


def _stops(session: Session, case: Case) -> list[tuple[dt.date, dt.date]]:
    """The filing clock's stops: (stopped since, resumed on) of each resume while the case was a lead."""
    return [(dt.date.fromisoformat(str(record["stopped_since"])), _day(record))
            for record in _records(session, case)
            if record.get("action") == "clock resumed" and record.get("state") == LEAD]


def _last_record(session: Session, case: Case, action: str) -> dict[str, object] | None:
    found = None
    for record in _records(session, case):
        if record.get("action") == action:
            found = record
    return found
