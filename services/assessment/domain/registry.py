"""The offices and officers assessment knows, copied from command_center's events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.assessment.domain.workspace import Workspace
from services.assessment.models import Office, Officer
from services.common.errors import InvalidArgument
from supervision.command_center.v1 import events_pb2 as command_center_pb2

MAX_ID = 32

OfficeMessage = command_center_pb2.OfficeRegistered | command_center_pb2.OfficeUpdated
OfficerMessage = command_center_pb2.OfficerRegistered | command_center_pb2.OfficerUpdated


def apply_office(session: Session, message: OfficeMessage) -> set[str]:
    """Keeps the office (its name) as command_center last described it; returns the offices whose
    indicators this moves (a new office's)."""
    office_id = message.office_id
    if not 0 < len(office_id) <= MAX_ID:
        raise InvalidArgument.of("office_id", f"the office event needs an office id of at most {MAX_ID} characters")
    name = (message.name or office_id)[:100]
    office = session.get(Office, office_id)
    if office is None:
        session.add(Office(id=office_id, name=name))
        return {office_id}
    office.name = name
    return set()


def apply_officer(session: Session, message: OfficerMessage) -> set[str]:
    """Keeps the officer (name, office, group) as command_center last described them; returns the
    offices whose indicators this moves."""
    officer_id, office_id = message.officer_id, message.office_id
    if not 0 < len(officer_id) <= MAX_ID or not 0 < len(office_id) <= MAX_ID:
        raise InvalidArgument.of("office_id", f"the officer event needs the officer and the office "
                                              f"(ids of at most {MAX_ID} characters)")
    officer = session.get(Officer, officer_id)
    moved_from = officer.office_id if officer else None
    if officer is None:
        officer = Officer(id=officer_id)
        session.add(officer)
    officer.name = message.name[:50]
    officer.office_id = office_id
    officer.group = message.group[:32]
    # staff_assessed counts an office's officers: both offices move when one moves.
    return {office_id} if moved_from is None else {office_id, moved_from}


class Registry:
    """The offices and officers that are scored, ranked and assessed, kept from command_center's
    events; called by the handlers inside their transaction."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def office_changed(self, session: Session, message: OfficeMessage) -> None:
        """Keeps a registered or updated office; a new one's indicators are computed."""
        self.workspace.touched(session, apply_office(session, message))

    def officer_changed(self, session: Session, message: OfficerMessage) -> None:
        """Keeps a registered or updated officer; the offices they joined and left count them anew."""
        self.workspace.touched(session, apply_officer(session, message))
