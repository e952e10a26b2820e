"""complaints' copy of the offices and the streets they cover, kept from command_center's
OfficeRegistered / OfficeUpdated events (see routing): an office that now covers a street moves the
items waiting in the district queue for it to itself."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.context import SYSTEM_CALLER
from services.complaints.domain import history, routing, workflow
from services.complaints.domain.deadlines import deadlines_of
from services.complaints.domain.routing import DISTRICT_QUEUE, OfficeAnnouncement
from services.complaints.domain.states import OPEN_STATES
from services.complaints.domain.workflow import Item, Step
from services.complaints.domain.workspace import Workspace
from services.complaints.models import Complaint


class Directory:
    """Applies the office events that keep the local copy; called by handlers inside their transaction."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

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
            history.record(self.workspace, session, item,
                           Step("routed", f"{announcement.name} covers the respondent's street now",
                                ["ComplaintRerouted"]),
                           SYSTEM_CALLER.subject, complaint.state, DISTRICT_QUEUE)
        self.workspace.touched(session, [announcement.id])
