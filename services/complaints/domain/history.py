"""What a handled step leaves behind: the item's new version, a history row (处理记录) and the
step's events, written in the transaction of the change."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.complaints.domain import event_data
from services.complaints.domain.deadlines import OVERDUE
from services.complaints.domain.workflow import Item, Step
from services.complaints.domain.workspace import Workspace
from services.complaints.models import Complaint, ComplaintHistory

log = logging.getLogger(__name__)


def record(workspace: Workspace, session: Session, item: Item, step: Step, actor: str, before_state: str,
           before_office: str) -> None:
    """Records a step taken on an item: its overdue flag, version, history row and events."""
    complaint = item.complaint
    complaint.overdue = any(d.status == OVERDUE for d in item.deadlines)
    complaint.version += 1
    complaint.updated_at = workspace.now()
    add_entry(workspace, session, complaint, step, actor, before_state, before_office)
    publish(workspace, session, item, step.events, before_office, actor)
    log.info("complaint handled", extra={"complaint_id": complaint.id, "action": step.action,
                                         "state": complaint.state, "office_id": complaint.office_id})


def add_entry(workspace: Workspace, session: Session, complaint: Complaint, step: Step, actor: str,
              before_state: str, before_office: str) -> None:
    """One line of the item's history: who did what, from which state and office to which."""
    session.add(new_entry(workspace, complaint, step, actor, before_state, before_office))


def new_entry(workspace: Workspace, complaint: Complaint, step: Step, actor: str, before_state: str,
              before_office: str) -> ComplaintHistory:
    """The history line `add_entry` stores, not yet stored: for a caller that inserts it itself."""
    return ComplaintHistory(complaint_id=complaint.id, action=step.action, from_state=before_state,
                            to_state=complaint.state, from_office_id=before_office,
                            to_office_id=complaint.office_id, note=step.note, actor=actor, at=workspace.now())


def publish(workspace: Workspace, session: Session, item: Item, event_types: list[str], from_office: str,
            actor: str) -> None:
    """Writes the step's events to the outbox, as the item stands after the step."""
    today = workspace.today()
    for event_type in event_types:
        message = event_data.BUILDERS[event_type](item, from_office, actor, today, workspace.rules)
        workspace.events.record(session, message, aggregate_type="complaint", aggregate_id=item.complaint.id,
                                version=item.complaint.version, office_id=item.complaint.office_id)


def entries(session: Session, complaint_id: str) -> list[ComplaintHistory]:
    """The item's history, oldest first."""
    return list(session.scalars(select(ComplaintHistory).where(ComplaintHistory.complaint_id == complaint_id)
                                .order_by(ComplaintHistory.id)))
