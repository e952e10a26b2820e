"""The complaints, reports and inquiries (投诉、举报、咨询) the service handles: each use case one
transaction that checks the caller's access, changes the item, records its history and events, and
notes the offices whose indicators it may have moved (refreshed after the commit)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from services.common.access import office_scope, require_read, require_write
from services.common.clock import shanghai_date
from services.common.context import Caller
from services.common.db import UTCDateTime, table_of
from services.common.errors import PermissionDenied
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from services.complaints.domain import assignment, history, intake, routing, workflow
from services.complaints.domain.deadlines import deadlines_of
from services.complaints.domain.intake import ComplaintInput
from services.complaints.domain.personal_data import may_see
from services.complaints.domain.rules import ACCEPTANCE, FILING_DECISION
from services.complaints.domain.states import COMPLAINT, ONLINE, REPORT
from services.complaints.domain.workflow import Item, Step
from services.complaints.domain.workspace import Workspace, get_complaint
from services.complaints.models import Complaint, ComplaintDeadline, ComplaintHistory, ReportReward, RequestKey

log = logging.getLogger(__name__)

# The clock a new item starts with: a complaint's acceptance decision, a report's filing decision.
FIRST_CLOCK = {COMPLAINT: ACCEPTANCE, REPORT: FILING_DECISION}


@dataclass(frozen=True)
class ComplaintView:
    """An item as a caller sees it: with its clocks, its history, and whether its personal data shows."""

    complaint: Complaint
    deadlines: list[ComplaintDeadline]
    history: list[ComplaintHistory]
    # Whether the caller may see the complainant's name, phone and ID number unmasked.
    personal_data_visible: bool
    # The report's reward, once its case closed with a fine or confiscation.
    reward: ReportReward | None = None


class Complaints:
    """Intake, reading and handling of complaints, reports and inquiries (投诉举报处理)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    # ------------------------------------------------------------------ intake

    def create_complaint(self, caller: Caller, request_id: str, data: ComplaintInput) -> ComplaintView:
        """Registers a received item (登记), routes it to the office covering the respondent and
        starts its first statutory clock; a repeated request_id answers the first result."""
        workspace = self.workspace
        if caller.read_only:
            raise PermissionDenied(f"{caller.subject} has read-only access")
        data = data.cleaned()
        if data.received_at is None and data.channel == ONLINE:
            # An online submission reaches the bureau when it reaches this service; the gateway leaves
            # the time out so that its retries send the same request.
            data = replace(data, received_at=workspace.now())
        tree = workspace.categories.on(shanghai_date(data.received_at) if data.received_at else workspace.today())
        intake.validate(data, workspace.now(), workspace.today(), tree)
        # validate() refused an item without a kind or a time of receipt.
        assert data.received_at is not None and data.kind is not None
        received_on = shanghai_date(data.received_at)
        first_clock = FIRST_CLOCK.get(data.kind)
        if first_clock:
            workspace.rules.in_force(received_on, "complaint.received_at")

        # The answer of the call that created the item, built from the rows it wrote: reading them
        # back cost a quarter of the call. A retry (or a lost race) still reads what was stored.
        created: dict[str, ComplaintView] = {}

        def create(session: Session) -> str:
            office_id = routing.route(session, data.respondent_street, data.respondent_address)
            complaint = intake.new_complaint(data, office_id, workspace.now(), tree)
            # Both looked up before the insert, so the row goes in once, complete: the new item is
            # nobody's earlier item, and an item without a handler adds to nobody's load.
            complaint.possible_duplicate_of = intake.find_duplicate(session, complaint, tree)
            handler = assignment.least_loaded(session, office_id) if assignment.needs_handler(complaint) else ""
            complaint.handler_id = handler
            _insert(session, complaint)
            item = Item(complaint, [])
            if first_clock:
                item.deadlines.append(_insert(session, workspace.clocks.new_deadline(
                    complaint, first_clock, received_on, "complaint.received_at")))
            entry = _insert(session, history.new_entry(
                workspace, complaint,
                Step("received", f"channel {complaint.channel}" + (f"; handler {handler}" if handler else "")),
                caller.subject, "", ""))
            history.publish(workspace, session, item, ["ComplaintReceived"], "", caller.subject)
            workspace.touched(session, [office_id])
            # Ids, never the complainant's details: logs leave the service.
            log.info("complaint received", extra={"complaint_id": complaint.id, "kind": complaint.kind,
                                                  "office_id": office_id, "channel": complaint.channel})
            # A new item has no reward yet.
            created[complaint.id] = ComplaintView(complaint, item.deadlines, [entry],
                                                  may_see(caller, office_id), None)
            return complaint.id

        def answer(session: Session, complaint_id: str) -> ComplaintView:
            view = created.get(complaint_id)
            return view if view is not None else self._view(session, complaint_id, caller)

        return run_once(workspace.store, RequestKey, request_id, "CreateComplaint", create, answer)

    # ------------------------------------------------------------------ reading

    def get_complaint(self, caller: Caller, complaint_id: str) -> ComplaintView:
        """One item with its clocks and history, if the caller's office scope reaches it."""
        with self.workspace.store.read() as session:
            view = self._view(session, complaint_id, caller)
        require_read(caller, view.complaint.office_id)
        return view

    def list_complaints(self, caller: Caller, page: Page, office_id: str | None, state: str | None,
                        kind: str | None, overdue: bool | None) -> ListResult[ComplaintView]:
        """Items newest first, within the caller's office scope, filtered by office, state, kind, overdue."""
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
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
            clocks = deadlines_of(session, [c.id for c in rows])
        views = [ComplaintView(c, clocks[c.id], [], may_see(caller, c.office_id)) for c in rows]
        return ListResult(views, next_token(rows[-1].id if rows else None, len(rows), page))

    # ------------------------------------------------------------------ handling

    def accept(self, caller: Caller, complaint_id: str, note: str) -> ComplaintView:
        """受理: the complaint is accepted and mediation's clock starts."""
        clocks, today = self.workspace.clocks, self.workspace.today

        def change(session: Session, item: Item) -> Step:
            step = workflow.accept(session, item, note, clocks, today())
            return _with_handler(session, item, step)

        return self._step(caller, complaint_id, change)

    def refuse(self, caller: Caller, complaint_id: str, ground: str | None, note: str) -> ComplaintView:
        """不予受理: the complaint is refused on a ground of the rule set its acceptance clock runs by."""
        clocks, today = self.workspace.clocks, self.workspace.today
        return self._step(caller, complaint_id,
                          lambda session, item: workflow.refuse(item, ground, note, clocks, today()))

    def record_mediation_outcome(self, caller: Caller, complaint_id: str, outcome: str | None,
                                 note: str) -> ComplaintView:
        """调解结果: mediation ended resolved, failed or terminated; without agreement a notice is due."""
        clocks, today = self.workspace.clocks, self.workspace.today
        return self._step(caller, complaint_id, lambda session, item: workflow.record_mediation_outcome(
            session, item, outcome, note, clocks, today()))

    def record_notification(self, caller: Caller, complaint_id: str, note: str) -> ComplaintView:
        """告知: the parties of an ended mediation, or a reporter, were told the outcome."""
        now, today = self.workspace.now, self.workspace.today
        return self._step(caller, complaint_id,
                          lambda session, item: workflow.record_notification(item, note, now(), today()))

    def verify_report(self, caller: Caller, complaint_id: str, note: str) -> ComplaintView:
        """核查: the report's facts were checked, so the filing decision can be taken."""
        return self._step(caller, complaint_id, lambda session, item: workflow.verify_report(item, note))

    def extend_filing_deadline(self, caller: Caller, complaint_id: str, approved_by: str,
                               reason: str) -> ComplaintView:
        """延长立案期限: the head approved the filing decision's one extension."""
        clocks, today = self.workspace.clocks, self.workspace.today
        return self._step(caller, complaint_id, lambda session, item: workflow.extend_filing_deadline(
            item, approved_by, reason, clocks, today()))

    def decide_report(self, caller: Caller, complaint_id: str, file_case: bool, note: str,
                      reward_level: str = "", reward_basis: str = "") -> ComplaintView:
        """立案 or 不予立案: a verified report becomes a case lead (with its reward level, if any) or is
        closed without a case; a real-name reporter's notice clock starts."""
        clocks, today = self.workspace.clocks, self.workspace.today
        return self._step(caller, complaint_id, lambda session, item: workflow.decide_report(
            session, item, file_case, note, clocks, today(), reward_level, reward_basis))

    def answer_inquiry(self, caller: Caller, complaint_id: str, answer: str) -> ComplaintView:
        """咨询答复: an inquiry is answered, which ends it."""
        return self._step(caller, complaint_id, lambda session, item: workflow.answer_inquiry(item, answer))

    def record_feedback(self, caller: Caller, complaint_id: str, rating: str | None, comment: str) -> ComplaintView:
        """回访评价: the complainant's satisfaction once handling ended."""
        now = self.workspace.now
        return self._step(caller, complaint_id,
                          lambda session, item: workflow.record_feedback(item, rating, comment, now()))

    def reroute(self, caller: Caller, complaint_id: str, office_id: str, reason: str) -> ComplaintView:
        """转办: an open item and its running clocks move to another office."""
        def change(session: Session, item: Item) -> Step:
            routing.known_office(session, office_id, "office_id")
            step = workflow.reroute(item, office_id, reason)
            return _with_handler(session, item, step)

        return self._step(caller, complaint_id, change)

    def assign_handler(self, caller: Caller, complaint_id: str, officer_id: str, reason: str) -> ComplaintView:
        """改派: an open item goes to another officer of its office's complaint handling group."""
        officer_id = officer_id.strip()

        def change(session: Session, item: Item) -> Step:
            note = assignment.check_request(officer_id, reason)
            assignment.check_assignable(session, item.complaint, officer_id)
            previous = item.complaint.handler_id
            item.complaint.handler_id = officer_id
            return Step("handler assigned", f"{previous or 'nobody'} -> {officer_id}: {note}")

        return self._step(caller, complaint_id, change)

    def _step(self, caller: Caller, complaint_id: str, change: Callable[[Session, Item], Step]) -> ComplaintView:
        workspace = self.workspace
        with workspace.store.transaction() as session:
            complaint = get_complaint(session, complaint_id)
            require_write(caller, complaint.office_id)
            item = Item(complaint, deadlines_of(session, [complaint.id])[complaint.id])
            before_state, before_office = complaint.state, complaint.office_id
            step = change(session, item)
            history.record(workspace, session, item, step, caller.subject, before_state, before_office)
            workspace.touched(session, {before_office, complaint.office_id})
            return self._view(session, complaint.id, caller)

    @staticmethod
    def _view(session: Session, complaint_id: str, caller: Caller) -> ComplaintView:
        complaint = get_complaint(session, complaint_id)
        return ComplaintView(complaint, deadlines_of(session, [complaint.id])[complaint.id],
                             history.entries(session, complaint.id), may_see(caller, complaint.office_id),
                             session.get(ReportReward, complaint.id))


Row = TypeVar("Row", Complaint, ComplaintDeadline, ComplaintHistory)
_TABLES = {model: table_of(model)
           for model in (Complaint, ComplaintDeadline, ComplaintHistory)}
_INSERTS = {model: insert(table) for model, table in _TABLES.items()}
# Read back, a time comes in UTC whatever zone it was written in (UTCDateTime).
_TIMES = {model: [column.key for column in table.columns if isinstance(column.type, UTCDateTime)]
          for model, table in _TABLES.items()}


def _insert(session: Session, row: Row) -> Row:
    """Stores a new row, every column set but a generated id, with a Core INSERT, and returns it as
    if read back (detached, its id filled in, its times in UTC). The ORM unit of work (add + flush)
    cost about 180 µs per history row against 75 µs here, and the intake needs nothing from it."""
    table = _TABLES[type(row)]
    values = {column.key: getattr(row, column.key) for column in table.columns}
    for column in table.primary_key.columns:
        if values[column.key] is None:
            del values[column.key]  # generated by the store
    result = session.connection().execute(_INSERTS[type(row)], values)
    for column, value in zip(table.primary_key.columns, result.inserted_primary_key or (), strict=True):
        setattr(row, column.key, value)
    for key in _TIMES[type(row)]:
        if values[key] is not None:
            setattr(row, key, values[key].astimezone(dt.UTC))
    make_transient_to_detached(row)
    return row


def _with_handler(session: Session, item: Item, step: Step) -> Step:
    """The step, its item given the least-loaded handler of its (new) office, noted in the history."""
    handler = assignment.assign_least_loaded(session, item.complaint)
    if not assignment.needs_handler(item.complaint):
        return step
    note = f"handler {handler}" if handler else "no officer in the complaint handling group yet"
    return Step(step.action, f"{step.note}; {note}" if step.note else note, step.events)
