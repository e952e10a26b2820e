"""The deadline sweep (a worker timer): time alone makes a statutory clock overdue (超期). Each
clock becomes overdue once: it is marked, ComplaintOverdue is published, and every office's
indicators are refreshed."""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from services.complaints.domain import event_data
from services.complaints.domain.deadlines import OVERDUE, newly_overdue
from services.complaints.domain.workspace import Workspace, get_complaint
from services.complaints.models import Complaint

log = logging.getLogger(__name__)


class DeadlineSweep:
    """Marks the statutory clocks whose due date passed, and recounts provisional due dates."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def run(self) -> int:
        """Recounts provisional due dates (the calendar may know their year now), marks clocks
        whose due date passed and publishes ComplaintOverdue for each, and marks every office's
        indicators for a refresh. Returns how many clocks became overdue."""
        workspace = self.workspace
        today = workspace.today()
        with workspace.store.transaction() as session:
            for deadline in workspace.clocks.recompute_provisional(session):
                self._touch(session, deadline.complaint_id)
            overdue = newly_overdue(session, today)
            for deadline in overdue:
                deadline.status = OVERDUE
                complaint = self._touch(session, deadline.complaint_id)
                complaint.overdue = True
                workspace.events.record(session, event_data.overdue(complaint, deadline, workspace.rules),
                                        aggregate_type="complaint", aggregate_id=complaint.id,
                                        version=complaint.version, office_id=complaint.office_id)
            workspace.touched(session, None)
        if overdue:
            log.info("deadlines passed", extra={"overdue": [(d.complaint_id, d.kind) for d in overdue]})
        return len(overdue)

    def _touch(self, session: Session, complaint_id: str) -> Complaint:
        complaint = get_complaint(session, complaint_id)
        complaint.version += 1
        complaint.updated_at = self.workspace.now()
        return complaint
