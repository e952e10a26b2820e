"""Penalty cases (执法办案): a lead, the filing decision within its limit, the filed case with its
certified team and decision limit, clocks stopped and resumed, extensions, and the ordinary
procedure in order: the investigation's conclusion, legal review and collective discussion when the
proposed penalty calls for them, the advance notice with the statement period and a hearing on
request, the decision, its delivery and execution (the fine with any late-payment surcharge),
publication and closure; or the decision on the spot by the simplified procedure. Every step is a
record in the case's hash-chained trail."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.access import office_scope, require_read, require_write
from services.common.clock import shanghai_date
from services.common.context import SYSTEM_CALLER, Caller
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Violations
from services.common.hash_chain import GENESIS
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from services.mobile_enforcement.domain import deadlines, procedure, published
from services.mobile_enforcement.domain.case_rules import (
    MAX_LONG_TEXT,
    MAX_NAME,
    InvestigationInput,
    LeadInput,
    PenaltyInput,
    case_proposed_penalty,
    case_sanctions,
    check_investigation,
    check_lead,
    check_pause_reason,
    check_penalty,
    check_text,
    fine_of,
    penalty_json,
    sanctions_json,
)
from services.mobile_enforcement.domain.directory import check_team, conflicted_officers, get_office
from services.mobile_enforcement.domain.entities import get_entity
from services.mobile_enforcement.domain.vocabulary import (
    CLOSED,
    CLOSING_CLOCK_STATES,
    DECIDED,
    DELIVERED,
    DELIVERY_METHODS,
    EXECUTED,
    FILED,
    HEARING,
    IN_HEARING,
    INVESTIGATED,
    LEAD,
    LEGAL_REVIEW,
    NO_PENALTY,
    NOT_FILED,
    NOTIFIED,
)
from services.mobile_enforcement.domain.workspace import Workspace, join_ids, split_ids, stored, utc_text
from services.mobile_enforcement.models import Case, Entity, Officer, RequestKey

SUBJECT = "case/{}"


@dataclass(frozen=True)
class CaseFilter:
    """Which cases a listing shows; None matches any."""

    office_id: str | None = None
    state: str | None = None
    source: str | None = None
    entity_id: str | None = None


def get_case(session: Session, case_id: str) -> Case:
    """A case by id; NOT_FOUND when unknown."""
    case = session.get(Case, case_id) if case_id else None
    if case is None:
        raise NotFound(f"case {case_id!r} not found")
    return case


def _require(case: Case, states: tuple[str, ...], doing: str) -> None:
    if case.state not in states:
        raise FailedPrecondition(f"case {case.id} is {case.state}; only a {' or '.join(states)} case can be {doing}")


def _require_running(case: Case, doing: str) -> None:
    if case.paused_for:
        raise FailedPrecondition(f"the clock of case {case.id} stands still for {case.paused_for} since "
                                 f"{case.paused_since}; resume it before it is {doing}")


class Cases:
    """Penalty cases (执法办案) from the lead to the closure, each step within its statutory limit."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    # ------------------------------------------------------------------ leads

    def open_lead(self, caller: Caller, request_id: str, data: LeadInput) -> Case:
        """Opens a case lead (案源), its filing clock counted from its receipt (once per request id)."""
        data = check_lead(data, self.workspace.now())

        def create(session: Session) -> str:
            if data.source_ref and self._by_source(session, data.source, data.source_ref) is not None:
                raise AlreadyExists(f"a lead from {data.source} {data.source_ref} is already open")
            return self.open_lead_in(session, data, caller).id

        return run_once(self.workspace.store, RequestKey, request_id, "OpenLead", create, get_case)

    def open_lead_in(self, session: Session, data: LeadInput, caller: Caller = SYSTEM_CALLER) -> Case:
        """Opens a lead in the caller's transaction (inspections, event handlers); a source record
        already a lead returns that lead."""
        data = check_lead(data, self.workspace.now())
        existing = self._by_source(session, data.source, data.source_ref) if data.source_ref else None
        if existing is not None:
            return existing
        entity = self._party_entity(session, data)
        office_id = entity.office_id if entity is not None else data.office_id
        if entity is not None and data.office_id and data.office_id != entity.office_id:
            raise InvalidArgument.of("lead.office_id", f"entity {entity.uscc} is supervised by office "
                                                       f"{entity.office_id}, not {data.office_id}")
        get_office(session, office_id)
        require_write(caller, office_id)
        received_on = shanghai_date(stored(data.received_at, "received_at"))  # check_lead requires it
        rules = self.workspace.rules.in_force(received_on)
        due = deadlines.filing_decision_due(self.workspace.calendar, rules, received_on)
        now = self.workspace.now()
        case = Case(id=str(uuid.uuid4()), office_id=office_id, entity_id=entity.uscc if entity else None,
                    party_name=entity.name if entity else data.party_name,
                    party_uscc=entity.uscc if entity else data.party_uscc,
                    party_address=entity.address if entity else data.party_address, source=data.source,
                    source_ref=data.source_ref, description=data.description, received_at=data.received_at,
                    state=LEAD, rule_set=rules.id, filing_decision_due=due.date, filing_due_provisional=due.provisional,
                    filing_extended=False, filing_overdue=False, not_filed_reason="", officer_ids="",
                    closing_extensions=0, collective_decision_ref="", closing_overdue=False, simplified=False,
                    publication_overdue=False, created_at=now, updated_at=now, trail_head=GENESIS, version=1)
        session.add(case)
        session.flush()
        self._trail(session, case, "lead opened", caller, source=case.source, source_ref=case.source_ref,
                    party=case.party_name, received_at=utc_text(case.received_at),
                    filing_decision_due=case.filing_decision_due.isoformat(), rule_set=case.rule_set)
        return case

    @staticmethod
    def _by_source(session: Session, source: str, source_ref: str) -> Case | None:
        return session.scalar(select(Case).where(Case.source == source, Case.source_ref == source_ref))

    @staticmethod
    def _party_entity(session: Session, data: LeadInput) -> Entity | None:
        if data.entity_id:
            return get_entity(session, data.entity_id)
        return session.get(Entity, data.party_uscc) if data.party_uscc else None

    def file(self, caller: Caller, case_id: str, officer_ids: list[str]) -> Case:
        """Files a lead as a case (立案), with a certified team, starting the decision clock."""
        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (LEAD,), "filed")
            rules = self.workspace.rules.in_force(today)
            team = check_team(session, case.office_id, officer_ids, case.entity_id, today, rules.minimum_officers)
            self._filing_decided(case, today)
            case.state, case.filed_on, case.officer_ids = FILED, today, join_ids(team)
            case.rule_set = rules.id
            case.closing_due = deadlines.closing_due(self.workspace.calendar, rules, today)
            self._trail(session, case, "filed", caller, officers=team, closing_due=case.closing_due.isoformat(),
                        rule_set=rules.id)
            self._event(session, case, published.case_filed(case))

        return self._transition(caller, case_id, change)

    def decline(self, caller: Caller, case_id: str, reason: str) -> Case:
        """Decides not to file a lead (不予立案), with the reason."""
        violations = Violations()
        reason = check_text(violations, "reason", reason, required=True)
        violations.raise_if_any("invalid decision not to file")

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (LEAD,), "declined")
            self._filing_decided(case, today)
            case.state, case.not_filed_reason = NOT_FILED, reason
            self._trail(session, case, "not filed", caller, reason=reason)
            self._event(session, case, published.lead_declined(case))

        return self._transition(caller, case_id, change)

    def _filing_decided(self, case: Case, today: dt.date) -> None:
        case.filing_decided_on = today
        # A decision after the limit counts as late even if the sweep has not marked it yet.
        case.filing_overdue = case.filing_overdue or today > case.filing_decision_due
        case.paused_for = case.paused_since = None

    # ------------------------------------------------------------------ clocks

    def extend(self, caller: Caller, case_id: str, approved_by: str, reason: str, collective_decision_ref: str,
               new_due: dt.date | None) -> Case:
        """Extends the running limit (延期) with approval; beyond the first, by a collective decision."""
        violations = Violations()
        approved_by = check_text(violations, "approved_by", approved_by, required=True, limit=MAX_NAME)
        reason = check_text(violations, "reason", reason, required=True)
        collective_decision_ref = check_text(violations, "collective_decision_ref", collective_decision_ref,
                                             required=False, limit=200)
        violations.raise_if_any("invalid extension")

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (LEAD, *CLOSING_CLOCK_STATES), "given more time")
            due = case.filing_decision_due if case.state == LEAD else stored(case.closing_due, "closing_due")
            if today > due:
                raise FailedPrecondition(f"the limit of case {case.id} ran out on {due}; an extension is approved "
                                         "before it runs out")
            rules = self.workspace.rules.get(case.rule_set)
            if case.state == LEAD:
                if case.filing_extended:
                    raise FailedPrecondition(f"the filing decision on {case.id} was already extended once")
                extended = deadlines.extended_filing_due(self.workspace.calendar, rules, due)
                case.filing_decision_due, case.filing_extended = extended.date, True
                case.filing_due_provisional = case.filing_due_provisional or extended.provisional
                new = extended.date
            elif case.closing_extensions == 0:
                new = case.closing_due = deadlines.extended_closing_due(self.workspace.calendar, rules, due)
                case.closing_extensions = 1
            else:
                new = self._collective_extension(case, collective_decision_ref, new_due)
            self._trail(session, case, "limit extended", caller, approved_by=approved_by, reason=reason,
                        collective_decision_ref=collective_decision_ref, due=new.isoformat())

        return self._transition(caller, case_id, change)

    @staticmethod
    def _collective_extension(case: Case, decision_ref: str, new_due: dt.date | None) -> dt.date:
        violations = Violations()
        current = stored(case.closing_due, "closing_due")
        if not decision_ref:
            violations.add("collective_decision_ref", "a further extension needs the record of a collective decision "
                                                      "(集体讨论决定)")
        if new_due is None:
            violations.add("new_due", "a collective decision sets the new date")
        elif new_due <= current:
            violations.add("new_due", f"must be after the current limit {current}")
        violations.raise_if_any("invalid extension")
        extended = stored(new_due, "new_due")  # refused above when missing
        case.closing_due, case.collective_decision_ref = extended, decision_ref
        case.closing_extensions += 1
        return extended

    def pause(self, caller: Caller, case_id: str, reason: str, note: str) -> Case:
        """Stops the running clock for a lawful reason (testing, suspension, hearing, notice)."""
        violations = Violations()
        note = check_text(violations, "note", note, required=False)
        violations.raise_if_any("invalid pause")

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (LEAD, *CLOSING_CLOCK_STATES), "paused")
            check_pause_reason(reason, lead=case.state == LEAD)
            if case.paused_for:
                raise FailedPrecondition(f"the clock of case {case.id} already stands still for {case.paused_for} "
                                         f"since {case.paused_since}")
            case.paused_for, case.paused_since = reason, today
            self._trail(session, case, "clock stopped", caller, reason=reason, note=note)

        return self._transition(caller, case_id, change)

    def resume(self, caller: Caller, case_id: str) -> Case:
        """Restarts a stopped clock, its limit moved by the time it stood still."""

        def change(session: Session, case: Case, today: dt.date) -> None:
            # A hearing's stop ends with its record (record_hearing), not here.
            _require(case, (LEAD, *CLOSING_CLOCK_STATES), "resumed")
            if not case.paused_for:
                raise FailedPrecondition(f"the clock of case {case.id} is running")
            paused_since = stored(case.paused_since, "paused_since")
            if case.state == LEAD:
                resumed = deadlines.resumed_filing_due(self.workspace.calendar, case.filing_decision_due,
                                                       paused_since, today)
                case.filing_decision_due = resumed.date
                case.filing_due_provisional = case.filing_due_provisional or resumed.provisional
                due = resumed.date
            else:
                due = case.closing_due = deadlines.resumed_closing_due(stored(case.closing_due, "closing_due"),
                                                                       paused_since, today)
            self._trail(session, case, "clock resumed", caller, stopped_for=case.paused_for,
                        stopped_since=paused_since.isoformat(), due=due.isoformat())
            case.paused_for = case.paused_since = None

        return self._transition(caller, case_id, change)

    # ------------------------------------------------------------------ investigation and review

    def conclude_investigation(self, caller: Caller, case_id: str, findings: InvestigationInput) -> Case:
        """Concludes the investigation (调查终结): the facts, the legal basis and the intended penalty,
        classed by the rule set in force today (legal review, collective discussion, hearing)."""

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (FILED,), "concluded")
            rules = self.workspace.rules.in_force(today)
            checked = check_investigation(findings, rules)
            classed = procedure.classify(checked.proposed, rules)
            case.state, case.investigated_on = INVESTIGATED, today
            case.facts, case.legal_basis = checked.facts, checked.legal_basis
            case.proposed_penalty = penalty_json(checked.proposed)
            case.legal_review_required = classed.legal_review_required
            case.collective_discussion_required = classed.collective_discussion_required
            case.hearing_eligible = classed.hearing_eligible
            # A new conclusion (after a review sent the case back) is reviewed and discussed afresh.
            case.legal_reviewed_on, case.collective_discussed_on = None, None
            case.collective_discussion_record = ""
            self._trail(session, case, "investigation concluded", caller, facts=checked.facts,
                        legal_basis=checked.legal_basis, proposed_penalty=json.loads(case.proposed_penalty),
                        legal_review_required=classed.legal_review_required,
                        collective_discussion_required=classed.collective_discussion_required,
                        hearing_eligible=classed.hearing_eligible, rule_set=rules.id)

        return self._transition(caller, case_id, change)

    def submit_for_legal_review(self, caller: Caller, case_id: str) -> Case:
        """Submits the concluded case for legal review (法制审核), starting its clock."""

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (INVESTIGATED,), "submitted for legal review")
            if case.legal_reviewed_on is not None:
                raise FailedPrecondition(f"the legal review of case {case.id} approved it on {case.legal_reviewed_on}")
            rules = self.workspace.rules.in_force(today)
            due = deadlines.legal_review_due(self.workspace.calendar, rules, today)
            case.state, case.legal_review_due = LEGAL_REVIEW, due.date
            case.legal_review_due_provisional = due.provisional
            self._trail(session, case, "submitted for legal review", caller, legal_review_due=due.date.isoformat(),
                        provisional=due.provisional, rule_set=rules.id)

        return self._transition(caller, case_id, change)

    def record_legal_review(self, caller: Caller, case_id: str, reviewer_id: str, approved: bool,
                            opinion: str) -> Case:
        """Records the legal review's outcome: approved, back to INVESTIGATED; not approved, back to
        investigation (FILED). The reviewer is of the office, not of the case's team, not conflicted."""
        violations = Violations()
        reviewer_id = check_text(violations, "reviewer_id", reviewer_id, required=True, limit=32)
        opinion = check_text(violations, "opinion", opinion, required=not approved)
        violations.raise_if_any("invalid legal review")

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (LEGAL_REVIEW,), "given its legal review")
            self._check_independent(session, case, reviewer_id, "reviewer_id", "legal reviewer (法制审核人员)")
            case.legal_reviewer_id, case.legal_review_opinion = reviewer_id, opinion
            # Recorded after its day counts as late even if the sweep has not marked it yet.
            case.legal_review_overdue = case.legal_review_overdue or today > stored(case.legal_review_due,
                                                                                    "legal_review_due")
            if approved:
                case.state, case.legal_reviewed_on = INVESTIGATED, today
            else:
                case.state = FILED
            self._trail(session, case, "legal review recorded", caller, reviewer_id=reviewer_id, approved=approved,
                        opinion=opinion)

        return self._transition(caller, case_id, change)

    def record_collective_discussion(self, caller: Caller, case_id: str, record: str) -> Case:
        """Records the heads' collective discussion (集体讨论), after any required legal review."""
        violations = Violations()
        record = check_text(violations, "record", record, required=True, limit=MAX_LONG_TEXT)
        violations.raise_if_any("invalid collective discussion")

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (INVESTIGATED,), "discussed collectively")
            self._require_review(case, "discussed collectively")
            if case.collective_discussed_on is not None:
                raise FailedPrecondition(f"the collective discussion of case {case.id} was recorded on "
                                         f"{case.collective_discussed_on}")
            case.collective_discussed_on, case.collective_discussion_record = today, record
            self._trail(session, case, "collective discussion recorded", caller, record=record)

        return self._transition(caller, case_id, change)

    def _require_review(self, case: Case, doing: str) -> None:
        if case.legal_review_required and case.legal_reviewed_on is None:
            raise FailedPrecondition(f"the penalty proposed for case {case.id} is a major decision (重大执法决定) and "
                                     f"needs an approved legal review (法制审核) before it is {doing} "
                                     f"({self._class_rule(case)})")

    def _class_rule(self, case: Case) -> str:
        """The rule set that classed the proposed penalty: the one in force when the investigation concluded."""
        return self.workspace.rules.in_force(stored(case.investigated_on, "investigated_on")).id

    def _check_independent(self, session: Session, case: Case, officer_id: str, field: str, role: str) -> None:
        """The officer may act as reviewer or host: of the case's office, not on its team, not conflicted."""
        officer = session.get(Officer, officer_id)
        if officer is None:
            raise InvalidArgument.of(field, f"no officer {officer_id!r} is registered")
        if officer.office_id != case.office_id:
            raise FailedPrecondition(f"officer {officer_id} belongs to office {officer.office_id}; the {role} of case "
                                     f"{case.id} is an officer of office {case.office_id}")
        if officer_id in split_ids(case.officer_ids):
            raise FailedPrecondition(f"officer {officer_id} investigates case {case.id}; the {role} is not one of the "
                                     "case's officers")
        if case.entity_id and conflicted_officers(session, case.entity_id, [officer_id]):
            raise FailedPrecondition(f"officer {officer_id} declared a conflict of interest with entity "
                                     f"{case.entity_id} and must recuse (回避) as {role} of case {case.id}")

    # ------------------------------------------------------------------ notice, statement and hearing

    def issue_advance_notice(self, caller: Caller, case_id: str) -> Case:
        """Gives the party the advance notice (行政处罚告知): the statement and defence period starts."""

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (INVESTIGATED,), "notified")
            self._require_review(case, "notified")
            if case.collective_discussion_required and case.collective_discussed_on is None:
                raise FailedPrecondition(f"the penalty proposed for case {case.id} is decided by the heads' collective "
                                         "discussion (集体讨论); record it before the notice "
                                         f"({self._class_rule(case)})")
            rules = self.workspace.rules.in_force(today)
            due = deadlines.statement_due(self.workspace.calendar, rules, today)
            hearing_due = deadlines.hearing_request_due(self.workspace.calendar, rules, today)
            case.state, case.notified_on = NOTIFIED, today
            case.statement_due, case.statement_due_provisional = due.date, due.provisional
            self._trail(session, case, "advance notice issued", caller, statement_due=due.date.isoformat(),
                        provisional=due.provisional, hearing_eligible=case.hearing_eligible,
                        hearing_request_due=hearing_due.date.isoformat() if case.hearing_eligible else "",
                        rule_set=rules.id)

        return self._transition(caller, case_id, change)

    def hearing_request_due(self, case: Case) -> dt.date | None:
        """The last day the party may ask for a hearing; None before the notice or when none is open."""
        if case.notified_on is None or not case.hearing_eligible:
            return None
        rules = self.workspace.rules.in_force(case.notified_on)
        return deadlines.hearing_request_due(self.workspace.calendar, rules, case.notified_on).date

    def record_statement(self, caller: Caller, case_id: str, statement: str, waived: bool) -> Case:
        """Records the party's statement and defence (陈述申辩) within the period, or its waiver."""
        violations = Violations()
        statement = check_text(violations, "statement", statement, required=not waived, limit=MAX_LONG_TEXT)
        violations.raise_if_any("invalid statement")

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (NOTIFIED,), "given a statement")
            due = stored(case.statement_due, "statement_due")
            if today > due:
                raise FailedPrecondition(f"the statement and defence period (陈述申辩) of case {case.id} ran until "
                                         f"{due} ({self._notice_rule(case)})")
            if case.statement_waived:
                raise FailedPrecondition(f"the party of case {case.id} waived the statement and defence period")
            combined = "\n\n".join(text for text in (case.statement, statement) if text)
            if len(combined) > MAX_LONG_TEXT:
                raise InvalidArgument.of("statement", f"the statements together are at most {MAX_LONG_TEXT} characters")
            case.statement, case.statement_waived = combined, waived
            self._trail(session, case, "statement recorded", caller, statement=statement, waived=waived)

        return self._transition(caller, case_id, change)

    def _notice_rule(self, case: Case) -> str:
        rules = self.workspace.rules.in_force(stored(case.notified_on, "notified_on"))
        return f"{rules.id}: {rules.statement_working_days} working days"

    def request_hearing(self, caller: Caller, case_id: str) -> Case:
        """Records the party's request for a hearing (听证) within its period; the decision clock stops."""

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (NOTIFIED,), "given a hearing")
            if not case.hearing_eligible:
                raise FailedPrecondition(f"the penalty proposed for case {case.id} is not one the party may ask a "
                                         f"hearing (听证) for ({self._class_rule(case)})")
            if case.hearing_held_on is not None:
                raise FailedPrecondition(f"the hearing of case {case.id} was held on {case.hearing_held_on}")
            rules = self.workspace.rules.in_force(stored(case.notified_on, "notified_on"))
            last_day = stored(self.hearing_request_due(case), "hearing_request_due")
            if today > last_day:
                raise FailedPrecondition(f"a hearing for case {case.id} was to be asked for by {last_day} "
                                         f"({rules.id}: {rules.hearing_request_working_days} working days of the "
                                         "notice)")
            case.state, case.hearing_requested_on = IN_HEARING, today
            # The hearing's time does not count towards the decision's limit; a clock already stopped
            # for another reason stays stopped for it.
            if not case.paused_for:
                case.paused_for, case.paused_since = HEARING, today
            self._trail(session, case, "hearing requested", caller, clock_stopped_for=case.paused_for)

        return self._transition(caller, case_id, change)

    def schedule_hearing(self, caller: Caller, case_id: str, host_id: str, hearing_at: dt.datetime | None,
                         place: str) -> Case:
        """Sets the hearing's host, time and place, the party told today, at least the rule set's days ahead."""
        violations = Violations()
        host_id = check_text(violations, "host_id", host_id, required=True, limit=32)
        place = check_text(violations, "place", place, required=True, limit=200)
        if hearing_at is None:
            violations.add("hearing_time", "required")
        elif hearing_at.tzinfo is None:
            violations.add("hearing_time", "must carry its time zone")
        violations.raise_if_any("invalid hearing")
        at = stored(hearing_at, "hearing_time")  # refused above when missing

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (IN_HEARING,), "scheduled for a hearing")
            self._check_independent(session, case, host_id, "host_id", "hearing's host (听证主持人)")
            rules = self.workspace.rules.in_force(stored(case.hearing_requested_on, "hearing_requested_on"))
            earliest = deadlines.earliest_hearing_day(rules, today)
            if shanghai_date(at) < earliest:
                raise FailedPrecondition(f"the party of case {case.id} is told of the hearing at least "
                                         f"{rules.hearing_notice_days} days before it ({rules.id}); told today, it is "
                                         f"held on {earliest} or later")
            case.hearing_host_id, case.hearing_at, case.hearing_place = host_id, at, place
            case.hearing_notified_on = today
            self._trail(session, case, "hearing scheduled", caller, host_id=host_id, hearing_at=utc_text(at),
                        place=place)

        return self._transition(caller, case_id, change)

    def record_hearing(self, caller: Caller, case_id: str, record: str) -> Case:
        """Records the hearing (听证笔录) on or after its day; the decision clock runs again."""
        violations = Violations()
        record = check_text(violations, "record", record, required=True, limit=MAX_LONG_TEXT)
        violations.raise_if_any("invalid hearing record")

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (IN_HEARING,), "given its hearing's record")
            if case.hearing_at is None:
                raise FailedPrecondition(f"the hearing of case {case.id} is not scheduled yet")
            day = shanghai_date(case.hearing_at)
            if today < day:
                raise FailedPrecondition(f"the hearing of case {case.id} is held on {day}; record it then")
            case.state, case.hearing_held_on, case.hearing_record = NOTIFIED, today, record
            details: dict[str, Any] = {"record": record}
            if case.paused_for == HEARING:
                paused_since = stored(case.paused_since, "paused_since")
                case.closing_due = deadlines.resumed_closing_due(stored(case.closing_due, "closing_due"),
                                                                 paused_since, today)
                details.update(stopped_since=paused_since.isoformat(), closing_due=case.closing_due.isoformat())
                case.paused_for = case.paused_since = None
            self._trail(session, case, "hearing held", caller, **details)

        return self._transition(caller, case_id, change)

    # ------------------------------------------------------------------ decision, delivery, execution, closure

    def decide(self, caller: Caller, case_id: str, penalty: PenaltyInput, note: str) -> Case:
        """Decides the penalty (行政处罚决定): on the spot for a lead, by the ordinary procedure for a
        notified case once the party was heard (statement period lapsed or waived, any hearing held)."""
        violations = Violations()
        note = check_text(violations, "note", note, required=False)
        violations.raise_if_any("invalid decision")

        def change(session: Session, case: Case, today: dt.date) -> None:
            rules = self.workspace.rules.in_force(today)
            checked = check_penalty(penalty, rules)
            if checked.simplified:
                _require(case, (LEAD,), "decided on the spot")
                self._filing_decided(case, today)
            else:
                self._check_ordinary_decision(case, checked, today)
            sanctions = list(checked.sanctions)
            case.decided_on, case.party_kind, case.simplified = today, checked.party_kind, checked.simplified
            case.sanctions = sanctions_json(sanctions)
            case.penalty_kind, case.fine_yuan = sanctions[0].kind, fine_of(sanctions)
            if not checked.simplified:
                case.delivery_due = deadlines.delivery_due(self.workspace.calendar, rules, today)
                if any(s.kind != NO_PENALTY for s in sanctions):
                    publication = deadlines.penalty_publication_due(self.workspace.calendar, rules, today)
                    case.publication_due, case.publication_due_provisional = publication.date, publication.provisional
            case.state = DECIDED
            self._trail(session, case, "decided", caller, penalty=case.penalty_kind,
                        sanctions=json.loads(case.sanctions), party_kind=checked.party_kind,
                        fine_yuan=published.money(case.fine_yuan), simplified=checked.simplified, note=note,
                        rule_set=rules.id)
            if checked.simplified:  # decided and executed on the spot
                self._close(session, case, caller, "closed on the spot", today)

        return self._transition(caller, case_id, change)

    def _check_ordinary_decision(self, case: Case, penalty: PenaltyInput, today: dt.date) -> None:
        if case.state == IN_HEARING:
            raise FailedPrecondition(f"the party of case {case.id} asked for a hearing (听证); decide after it is held")
        _require(case, (NOTIFIED,), "decided by the ordinary procedure")
        _require_running(case, "decided")
        due = stored(case.statement_due, "statement_due")
        if today <= due and not case.statement_waived and case.hearing_held_on is None:
            raise FailedPrecondition(f"the statement and defence period (陈述申辩) of case {case.id} runs until {due} "
                                     f"({self._notice_rule(case)}); decide after it lapses or record the party's "
                                     "waiver")
        notified = stored(case_proposed_penalty(case), "proposed_penalty")
        heavier = procedure.heavier_than(penalty, notified)
        if heavier:
            raise FailedPrecondition(f"the decision on case {case.id} is heavier than the penalty the party was "
                                     f"notified of ({'; '.join(heavier)}); conclude the investigation again and "
                                     "give a new notice")
        case.closing_overdue = case.closing_overdue or today > stored(case.closing_due, "closing_due")

    def record_delivery(self, caller: Caller, case_id: str, method: str) -> Case:
        """Records the decision's delivery (送达); a fine's payment period starts."""
        if method not in DELIVERY_METHODS:
            raise InvalidArgument.of("method", f"must be one of {', '.join(DELIVERY_METHODS)}")

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (DECIDED,), "delivered")
            if case.simplified:
                raise FailedPrecondition(f"case {case.id} was decided and closed on the spot")
            case.state, case.delivered_on, case.delivery_method = DELIVERED, today, method
            # A case decided before delivery had a clock (migration 0008) has no delivery_due.
            late = case.delivery_due is not None and today > case.delivery_due
            case.delivery_overdue = case.delivery_overdue or late
            details: dict[str, Any] = {"method": method}
            if fine_of(case_sanctions(case)) is not None:
                rules = self.workspace.rules.in_force(today)
                case.payment_due = deadlines.payment_due(self.workspace.calendar, rules, today)
                details.update(payment_due=case.payment_due.isoformat(), rule_set=rules.id)
            self._trail(session, case, "decision delivered", caller, **details)

        return self._transition(caller, case_id, change)

    def surcharge_owed(self, case: Case, day: dt.date) -> Decimal:
        """The late-payment surcharge (加处罚款) of the case on `day`: what was paid once executed, else
        what has accrued on the unpaid fine; zero without a fine or before its payment day passed."""
        if case.surcharge_paid is not None:
            return case.surcharge_paid
        fine = fine_of(case_sanctions(case))
        if case.state != DELIVERED or fine is None or case.payment_due is None:
            return Decimal("0.00")
        rules = self.workspace.rules.in_force(stored(case.delivered_on, "delivered_on"))
        return procedure.late_payment_surcharge(fine, case.payment_due, day, rules)

    def record_execution(self, caller: Caller, case_id: str, amount_paid: Decimal | None, note: str) -> Case:
        """Records the decision executed (执行完毕): a fine paid with the surcharge owed today, exactly."""
        violations = Violations()
        note = check_text(violations, "note", note, required=False)
        if amount_paid is not None and amount_paid < 0:
            violations.add("amount_paid", "must not be negative")
        violations.raise_if_any("invalid execution")

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (DELIVERED,), "executed")
            sanctions = case_sanctions(case)
            if all(s.kind == NO_PENALTY for s in sanctions):
                raise FailedPrecondition(f"case {case.id} imposed no penalty; there is nothing to execute: close it")
            fine = fine_of(sanctions)
            details: dict[str, Any] = {"note": note}
            if fine is None:
                if amount_paid:
                    raise InvalidArgument.of("amount_paid", f"case {case.id} imposed no fine; nothing is paid")
            else:
                surcharge = self.surcharge_owed(case, today)
                owed = fine + surcharge
                if amount_paid is None or amount_paid != owed:
                    raise InvalidArgument.of("amount_paid", f"the fine of {fine:.2f} yuan and the surcharge (加处罚款) "
                                                            f"of {surcharge:.2f} yuan owed on {today}: {owed:.2f} yuan")
                case.amount_paid, case.surcharge_paid = owed, surcharge
                case.payment_overdue = case.payment_overdue or today > stored(case.payment_due, "payment_due")
                details.update(amount_paid=published.money(owed), surcharge=published.money(surcharge))
            case.state, case.executed_on = EXECUTED, today
            self._trail(session, case, "decision executed", caller, **details)

        return self._transition(caller, case_id, change)

    def publish(self, caller: Caller, case_id: str) -> Case:
        """Publishes a penalty decision (企业信息公示)."""
        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (DECIDED, DELIVERED, EXECUTED, CLOSED), "published")
            if case.publication_due is None:
                raise FailedPrecondition(f"case {case.id} has no penalty decision to publish")
            if case.published_at is not None:
                raise FailedPrecondition(f"the decision of case {case.id} was published on {case.published_at}")
            case.published_at = self.workspace.now()
            case.publication_overdue = case.publication_overdue or today > case.publication_due
            self._trail(session, case, "decision published", caller)
            self._event(session, case, published.decision_published(case))

        return self._transition(caller, case_id, change)

    def close(self, caller: Caller, case_id: str, note: str) -> Case:
        """Closes an executed case (结案), or a delivered decision not to penalise."""
        violations = Violations()
        note = check_text(violations, "note", note, required=False)
        violations.raise_if_any("invalid closure")

        def change(session: Session, case: Case, today: dt.date) -> None:
            no_penalty = all(s.kind == NO_PENALTY for s in case_sanctions(case))
            if case.state == DELIVERED and not no_penalty:
                raise FailedPrecondition(f"the decision of case {case.id} is not executed yet; record its execution "
                                         "before closing")
            _require(case, (DELIVERED, EXECUTED) if no_penalty else (EXECUTED,), "closed")
            self._close(session, case, caller, note, today)

        return self._transition(caller, case_id, change)

    def _close(self, session: Session, case: Case, caller: Caller, note: str, today: dt.date) -> None:
        case.state, case.closed_at = CLOSED, self.workspace.now()
        self._trail(session, case, "closed", caller, note=note)
        self._event(session, case, published.case_closed(case, today))

    # ------------------------------------------------------------------ reads

    def get(self, caller: Caller, case_id: str) -> Case:
        """One case, to a caller who may read its office."""
        with self.workspace.store.read() as session:
            case = get_case(session, case_id)
        require_read(caller, case.office_id)
        return case

    def list(self, caller: Caller, page: Page, where: CaseFilter) -> ListResult[Case]:
        """A page of the cases the caller may read, by id."""
        scope = office_scope(caller, where.office_id)
        query = select(Case).where(Case.id > page.after).order_by(Case.id).limit(page.size)
        if scope:
            query = query.where(Case.office_id == scope)
        if where.state:
            query = query.where(Case.state == where.state)
        if where.source:
            query = query.where(Case.source == where.source)
        if where.entity_id:
            query = query.where(Case.entity_id == where.entity_id)
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
        return ListResult(rows, next_token(rows[-1].id if rows else None, len(rows), page))

    # ------------------------------------------------------------------ shared

    def _transition(self, caller: Caller, case_id: str, change: Callable[[Session, Case, dt.date], None]) -> Case:
        with self.workspace.store.transaction() as session:
            case = get_case(session, case_id)
            require_write(caller, case.office_id)
            # Bumped first, so the events of the change carry the version the case commits with; a
            # refused change rolls the whole transaction back.
            case.version += 1
            case.updated_at = self.workspace.now()
            change(session, case, self.workspace.today())
            self.workspace.touched(session, [case.office_id])
            return case

    def _trail(self, session: Session, case: Case, action: str, caller: Caller, **details: Any) -> None:
        case.trail_head = self.workspace.record(session, SUBJECT.format(case.id), action, caller.subject,
                                                state=case.state, **details)

    def _event(self, session: Session, case: Case, message: Message) -> None:
        self.workspace.events.record(session, message, aggregate_type="case", aggregate_id=case.id,
                                     version=case.version, office_id=case.office_id)
