"""complaints' copy of the offices and the streets they cover, and of the officers, kept from
command_center's events: an office that now covers a street moves the items waiting in the district
queue for it to itself; an officer joining or leaving an office's complaint handling group takes or
hands over items (see assignment)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.context import SYSTEM_CALLER
from services.complaints.domain import assignment, history, routing, workflow
from services.complaints.domain.assignment import OfficerAnnouncement
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
            handler = assignment.assign_least_loaded(session, complaint)
            note = f"{announcement.name} covers the respondent's street now"
            history.record(self.workspace, session, item,
                           Step("routed", note + (f"; handler {handler}" if handler else ""), ["ComplaintRerouted"]),
                           SYSTEM_CALLER.subject, complaint.state, DISTRICT_QUEUE)
        self.workspace.touched(session, [announcement.id])

    def apply_officer(self, session: Session, announcement: OfficerAnnouncement) -> None:
        """Learns an officer's office and group; items they can no longer handle go to another
        officer of the group, and items of their office waiting for a handler come to them."""
        before = assignment.apply_officer(session, announcement)
        for complaint in assignment.items_to_hand_over(session, announcement, before):
            previous = complaint.handler_id
            handler = assignment.assign_least_loaded(session, complaint)
            if handler == previous:
                continue
            item = Item(complaint, deadlines_of(session, [complaint.id])[complaint.id])
            reason = (f"{previous} left the complaint handling group of {complaint.office_id}" if previous
                      else f"{announcement.id} joined the complaint handling group")
            history.record(self.workspace, session, item,
                           Step("handler assigned", f"{handler or 'nobody in the group'}: {reason}"),
                           SYSTEM_CALLER.subject, complaint.state, complaint.office_id)
