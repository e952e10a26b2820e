"""Penalty cases (执法办案): a lead, the filing decision within its limit, the filed case with its
certified team and decision limit, clocks stopped and resumed, extensions, the decision (on the
spot by the simplified procedure, or by the ordinary one), publication and closure. Every step is
a record in the case's hash-chained trail."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
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
from services.mobile_enforcement.domain import deadlines, published
from services.mobile_enforcement.domain.case_rules import (
    MAX_NAME,
    LeadInput,
    PenaltyInput,
    check_lead,
    check_pause_reason,
    check_penalty,
    check_text,
)
from services.mobile_enforcement.domain.directory import check_team, get_office
from services.mobile_enforcement.domain.entities import get_entity
from services.mobile_enforcement.domain.vocabulary import CLOSED, DECIDED, FILED, LEAD, NO_PENALTY, NOT_FILED
from services.mobile_enforcement.domain.workspace import Workspace, join_ids, stored, utc_text
from services.mobile_enforcement.models import Case, Entity, RequestKey

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
            _require(case, (LEAD, FILED), "given more time")
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
            _require(case, (LEAD, FILED), "paused")
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
            _require(case, (LEAD, FILED), "resumed")
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

    # ------------------------------------------------------------------ decision and closure

    def decide(self, caller: Caller, case_id: str, penalty: PenaltyInput, note: str) -> Case:
        """Decides the penalty (行政处罚决定): on the spot for a lead, by the ordinary procedure for a filed case."""
        violations = Violations()
        note = check_text(violations, "note", note, required=False)
        violations.raise_if_any("invalid decision")

        def change(session: Session, case: Case, today: dt.date) -> None:
            rules = self.workspace.rules.in_force(today)
            check_penalty(penalty, rules)
            if penalty.simplified:
                _require(case, (LEAD,), "decided on the spot")
                self._filing_decided(case, today)
            else:
                _require(case, (FILED,), "decided by the ordinary procedure")
                if case.paused_for:
                    raise FailedPrecondition(f"the clock of case {case.id} stands still for {case.paused_for}; "
                                             "resume it before deciding")
                case.closing_overdue = case.closing_overdue or today > stored(case.closing_due, "closing_due")
            case.decided_on, case.penalty_kind, case.party_kind = today, penalty.kind, penalty.party_kind
            case.fine_yuan, case.simplified = penalty.fine_yuan, penalty.simplified
            if not penalty.simplified and penalty.kind != NO_PENALTY:
                case.publication_due = deadlines.penalty_publication_due(self.workspace.calendar, rules, today)
            case.state = DECIDED
            self._trail(session, case, "decided", caller, penalty=penalty.kind, party_kind=penalty.party_kind,
                        fine_yuan=published.money(penalty.fine_yuan), simplified=penalty.simplified, note=note,
                        rule_set=rules.id)
            if penalty.simplified:  # decided and executed on the spot
                self._close(session, case, caller, "closed on the spot", today)

        return self._transition(caller, case_id, change)

    def publish(self, caller: Caller, case_id: str) -> Case:
        """Publishes a penalty decision (企业信息公示)."""
        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (DECIDED, CLOSED), "published")
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
        """Closes a decided case (结案)."""
        violations = Violations()
        note = check_text(violations, "note", note, required=False)
        violations.raise_if_any("invalid closure")

        def change(session: Session, case: Case, today: dt.date) -> None:
            _require(case, (DECIDED,), "closed")
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
