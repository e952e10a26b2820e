"""complaints' use cases: each one transaction that changes items, records their history and
events, and marks the offices whose indicators it may have moved (refreshed after the commit)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.access import office_scope, require_read, require_write
from services.common.clock import shanghai_date
from services.common.context import SYSTEM_CALLER, Caller
from services.common.db import Store, utcnow
from services.common.errors import NotFound, PermissionDenied
from services.common.events import EventWriter
from services.common.idempotency import run_once
from services.common.indicators import mark_dirty
from services.common.paging import Page, next_token
from services.complaints.domain import event_data, intake, routing, workflow
from services.complaints.domain.deadlines import OVERDUE, Clocks, deadlines_of, newly_overdue
from services.complaints.domain.intake import ComplaintInput
from services.complaints.domain.personal_data import may_see
from services.complaints.domain.routing import DISTRICT_QUEUE, OfficeAnnouncement
from services.complaints.domain.rules import ACCEPTANCE, FILING_DECISION
from services.complaints.domain.states import COMPLAINT, ONLINE, OPEN_STATES, REPORT
from services.complaints.domain.workflow import Item, Step
from services.complaints.models import (
    Complaint,
    ComplaintDeadline,
    ComplaintHistory,
    Outbox,
    RequestKey,
)

log = logging.getLogger(__name__)

SOURCE = "complaints"
FIRST_CLOCK = {COMPLAINT: ACCEPTANCE, REPORT: FILING_DECISION}


@dataclass(frozen=True)
class ComplaintView:
    complaint: Complaint
    deadlines: list[ComplaintDeadline]
    history: list[ComplaintHistory]
    # Whether the caller may see the complainant's name, phone and ID number unmasked.
    personal_data_visible: bool


@dataclass(frozen=True)
class ListResult:
    items: list[ComplaintView]
    next_page_token: str


class ComplaintDesk:
    def __init__(self, store: Store, today: Callable[[], dt.date], clocks: Clocks,
                 now: Callable[[], dt.datetime] = utcnow):
        self.store = store
        self.events = EventWriter(SOURCE, Outbox)
        self.today = today
        self.now = now
        self.clocks = clocks

    # ------------------------------------------------------------------ intake

    def create_complaint(self, caller: Caller, request_id: str, data: ComplaintInput) -> ComplaintView:
        if caller.read_only:
            raise PermissionDenied(f"{caller.subject} has read-only access")
        data = data.cleaned()
        if data.received_at is None and data.channel == ONLINE:
            # An online submission reaches the bureau when it reaches this service; the gateway leaves
            # the time out so that its retries send the same request.
            data = replace(data, received_at=self.now())
        intake.validate(data, self.now(), self.today())
        received_on = shanghai_date(data.received_at)
        first_clock = FIRST_CLOCK.get(data.kind)
        if first_clock:
            self.clocks.rules.in_force(received_on, "complaint.received_at")

        def create(session: Session) -> str:
            office_id = routing.route(session, data.respondent_street, data.respondent_address)
            complaint = intake.new_complaint(data, office_id, self.now())
            session.add(complaint)
            session.flush()
            complaint.possible_duplicate_of = intake.find_duplicate(session, complaint)
            item = Item(complaint, [])
            if first_clock:
                item.deadlines.append(self.clocks.start(session, complaint, first_clock, received_on,
                                                        "complaint.received_at"))
            self._history(session, complaint, Step("received", f"channel {complaint.channel}"), caller.subject,
                          "", "")
            self._publish(session, item, ["ComplaintReceived"], "", caller.subject)
            mark_dirty(session, [office_id])
            # Ids, never the complainant's details: logs leave the service.
            log.info("complaint received", extra={"complaint_id": complaint.id, "kind": complaint.kind,
                                                  "office_id": office_id, "channel": complaint.channel})
            return complaint.id

        return run_once(self.store, RequestKey, request_id, "CreateComplaint", create,
                        lambda session, complaint_id: self._view(session, complaint_id, caller))

    # ------------------------------------------------------------------ reading

    def get_complaint(self, caller: Caller, complaint_id: str) -> ComplaintView:
        with self.store.read() as session:
            view = self._view(session, complaint_id, caller)
        require_read(caller, view.complaint.office_id)
        return view

    def list_complaints(self, caller: Caller, page: Page, office_id: str | None, state: str | None,
                        kind: str | None, overdue: bool | None) -> ListResult:
        scope = office_scope(caller, office_id)
        # Newest first, keyset on the id (ids sort by creation): the office indexes serve each page.
        query = select(Complaint).order_by(Complaint.id.desc()).limit(page.size)
        if page.after:
            query = query.where(Complaint.id < page.after)
        if scope:
            query = query.where(Complaint.office_id == scope)
        if state:
            query = query.where(Complaint.state == state)
        if kind:
            query = query.where(Complaint.kind == kind)
        if overdue is not None:
            query = query.where(Complaint.overdue.is_(overdue))
        with self.store.read() as session:
            rows = list(session.scalars(query))
            clocks = deadlines_of(session, [c.id for c in rows])
        views = [ComplaintView(c, clocks[c.id], [], may_see(caller, c.office_id)) for c in rows]
        return ListResult(views, next_token(rows[-1].id if rows else None, len(rows), page))

    # ------------------------------------------------------------------ handling

    def accept(self, caller: Caller, complaint_id: str, note: str) -> ComplaintView:
        return self._step(caller, complaint_id,
                          lambda session, item: workflow.accept(session, item, note, self.clocks, self.today()))

    def refuse(self, caller: Caller, complaint_id: str, ground: str | None, note: str) -> ComplaintView:
        return self._step(caller, complaint_id,
                          lambda session, item: workflow.refuse(item, ground, note, self.clocks, self.today()))

    def record_mediation_outcome(self, caller: Caller, complaint_id: str, outcome: str | None,
                                 note: str) -> ComplaintView:
        return self._step(caller, complaint_id, lambda session, item: workflow.record_mediation_outcome(
            session, item, outcome, note, self.clocks, self.today()))

    def record_notification(self, caller: Caller, complaint_id: str, note: str) -> ComplaintView:
        return self._step(caller, complaint_id,
                          lambda session, item: workflow.record_notification(item, note, self.now(), self.today()))

    def verify_report(self, caller: Caller, complaint_id: str, note: str) -> ComplaintView:
        return self._step(caller, complaint_id, lambda session, item: workflow.verify_report(item, note))

    def extend_filing_deadline(self, caller: Caller, complaint_id: str, approved_by: str,
                               reason: str) -> ComplaintView:
        return self._step(caller, complaint_id, lambda session, item: workflow.extend_filing_deadline(
            item, approved_by, reason, self.clocks, self.today()))

    def decide_report(self, caller: Caller, complaint_id: str, file_case: bool, note: str) -> ComplaintView:
        return self._step(caller, complaint_id,
                          lambda session, item: workflow.decide_report(item, file_case, note, self.today()))

    def answer_inquiry(self, caller: Caller, complaint_id: str, answer: str) -> ComplaintView:
        return self._step(caller, complaint_id, lambda session, item: workflow.answer_inquiry(item, answer))

    def record_feedback(self, caller: Caller, complaint_id: str, rating: str | None, comment: str) -> ComplaintView:
        return self._step(caller, complaint_id,
                          lambda session, item: workflow.record_feedback(item, rating, comment, self.now()))

    def reroute(self, caller: Caller, complaint_id: str, office_id: str, reason: str) -> ComplaintView:
        def change(session: Session, item: Item) -> Step:
            routing.known_office(session, office_id, "office_id")
            return workflow.reroute(item, office_id, reason)

        return self._step(caller, complaint_id, change)

    def _step(self, caller: Caller, complaint_id: str, change: Callable[[Session, Item], Step]) -> ComplaintView:
        with self.store.transaction() as session:
            complaint = self._get(session, complaint_id)
            require_write(caller, complaint.office_id)
            item = Item(complaint, deadlines_of(session, [complaint.id])[complaint.id])
            before_state, before_office = complaint.state, complaint.office_id
            step = change(session, item)
            self._record(session, item, step, caller.subject, before_state, before_office)
            mark_dirty(session, {before_office, complaint.office_id})
            return self._view(session, complaint.id, caller)

    def _record(self, session: Session, item: Item, step: Step, actor: str, before_state: str,
                before_office: str) -> None:
        complaint = item.complaint
        complaint.overdue = any(d.status == OVERDUE for d in item.deadlines)
        complaint.version += 1
        complaint.updated_at = self.now()
        self._history(session, complaint, step, actor, before_state, before_office)
        self._publish(session, item, step.events, before_office, actor)
        log.info("complaint handled", extra={"complaint_id": complaint.id, "action": step.action,
                                             "state": complaint.state, "office_id": complaint.office_id})

    # ------------------------------------------------------------------ offices (from command_center)

    def apply_office(self, session: Session, announcement: OfficeAnnouncement) -> None:
        """Learns an office and its streets, then routes the waiting items it now covers."""
        routing.apply_office(session, announcement)
        waiting = session.scalars(select(Complaint).where(Complaint.office_id == DISTRICT_QUEUE,
                                                          Complaint.state.in_(OPEN_STATES)).order_by(Complaint.id))
        for complaint in list(waiting):
            office_id = routing.route(session, complaint.respondent_street, complaint.respondent_address)
            if office_id == DISTRICT_QUEUE:
                continue
            item = Item(complaint, deadlines_of(session, [complaint.id])[complaint.id])
            workflow.move(item, office_id)
            self._record(session, item, Step("routed", f"{announcement.name} covers the respondent's street now",
                                             ["ComplaintRerouted"]),
                         SYSTEM_CALLER.subject, complaint.state, DISTRICT_QUEUE)
        mark_dirty(session, [announcement.id])

    # ------------------------------------------------------------------ time

    def sweep_deadlines(self) -> int:
        """Recounts provisional due dates (the calendar may know their year now), marks clocks
        whose due date passed and publishes ComplaintOverdue for each, and marks every office's
        indicators for a refresh. Returns how many clocks became overdue."""
        today = self.today()
        with self.store.transaction() as session:
            for deadline in self.clocks.recompute_provisional(session):
                self._touch(session, deadline.complaint_id)
            overdue = newly_overdue(session, today)
            for deadline in overdue:
                deadline.status = OVERDUE
                complaint = self._touch(session, deadline.complaint_id)
                complaint.overdue = True
                self.events.record(session, event_data.overdue(complaint, deadline), aggregate_type="complaint",
                                   aggregate_id=complaint.id, version=complaint.version,
                                   office_id=complaint.office_id)
            mark_dirty(session, None)
        if overdue:
            log.info("deadlines passed", extra={"overdue": [(d.complaint_id, d.kind) for d in overdue]})
        return len(overdue)

    def _touch(self, session: Session, complaint_id: str) -> Complaint:
        complaint = self._get(session, complaint_id)
        complaint.version += 1
        complaint.updated_at = self.now()
        return complaint

    # ------------------------------------------------------------------ helpers

    def _get(self, session: Session, complaint_id: str) -> Complaint:
        complaint = session.get(Complaint, complaint_id) if complaint_id else None
        if complaint is None:
            raise NotFound(f"complaint {complaint_id!r} not found")
        return complaint

    def _view(self, session: Session, complaint_id: str, caller: Caller) -> ComplaintView:
        complaint = self._get(session, complaint_id)
        history = list(session.scalars(select(ComplaintHistory).where(ComplaintHistory.complaint_id == complaint.id)
                                       .order_by(ComplaintHistory.id)))
        return ComplaintView(complaint, deadlines_of(session, [complaint.id])[complaint.id], history,
                             may_see(caller, complaint.office_id))

    def _history(self, session: Session, complaint: Complaint, step: Step, actor: str, before_state: str,
                 before_office: str) -> None:
        session.add(ComplaintHistory(complaint_id=complaint.id, action=step.action, from_state=before_state,
                                     to_state=complaint.state, from_office_id=before_office,
                                     to_office_id=complaint.office_id, note=step.note, actor=actor,
                                     at=self.now()))

    def _publish(self, session: Session, item: Item, event_types: list[str], from_office: str, actor: str) -> None:
        today = self.today()
        for event_type in event_types:
            message = event_data.BUILDERS[event_type](item, from_office, actor, today)
            self.events.record(session, message, aggregate_type="complaint", aggregate_id=item.complaint.id,
                               version=item.complaint.version, office_id=item.complaint.office_id)
