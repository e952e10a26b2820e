"""Local copies of other services' facts, kept from their events: offices and officers
(command_center), penalty cases (mobile_enforcement). Reads of these never call another service.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from services.common.contracts import day_of
from services.common.errors import FailedPrecondition, InvalidArgument, Violations
from services.facilities.domain import rooms
from services.facilities.domain.workspace import Workspace
from services.facilities.models import Case, Office, Officer
from supervision.command_center.v1 import events_pb2 as cc_events
from supervision.mobile_enforcement.v1 import events_pb2 as me_events

MIN_SIGNATURES = 2
MAX_SIGNATURES = 4


def case_open(session: Session, case_id: str) -> bool:
    """Goods of a case nobody told us about are treated as evidence of an open case."""
    case = session.get(Case, case_id)
    return case is None or not case.closed


def check_signatures(session: Session, office_id: str, signed_by: list[str], today: dt.date,
                     field: str = "signed_by") -> list[str]:
    """Two or more different officers of the office, each holding a valid certificate today."""
    violations = Violations()
    distinct = list(dict.fromkeys(signed_by))
    if len(signed_by) > MAX_SIGNATURES:
        violations.add(field, f"at most {MAX_SIGNATURES} signatures")
    for index, officer_id in enumerate(signed_by):
        if officer_id in signed_by[:index]:
            violations.add(f"{field}[{index}]", f"officer {officer_id} already signed: a second officer must sign")
    if len(distinct) < MIN_SIGNATURES:
        violations.add(field, f"{MIN_SIGNATURES} different officers must sign; got {len(distinct)}")
    officers: dict[str, Officer] = {}
    for index, officer_id in enumerate(signed_by):
        if officer_id in officers or officer_id in signed_by[:index]:
            continue
        officer = session.get(Officer, officer_id) if officer_id else None
        if officer is None:
            violations.add(f"{field}[{index}]", f"no officer {officer_id!r} is registered")
        elif officer.office_id != office_id:
            violations.add(f"{field}[{index}]", f"officer {officer_id} belongs to office {officer.office_id}")
        else:
            officers[officer_id] = officer
    violations.raise_if_any("invalid signatures")
    lapsed = Violations()
    for officer_id in distinct:
        officer = officers[officer_id]
        if not officer.certificate_no or officer.certificate_expires is None or officer.certificate_expires < today:
            lapsed.add(f"{field}[{signed_by.index(officer_id)}]",
                       f"officer {officer_id} holds no valid enforcement certificate today")
    if lapsed:
        raise FailedPrecondition("a signing officer's certificate is not valid", lapsed.items)
    return distinct


class Directory:
    """Applies the events that keep the local copies; called by handlers inside their transaction."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def apply_office(self, session: Session,
                     message: cc_events.OfficeRegistered | cc_events.OfficeUpdated) -> None:
        """Keeps the office's name and district; a new office gets the standard's rooms, an existing
        one any room the standard added since."""
        if not message.office_id or not message.name.strip():
            raise InvalidArgument.of("office_id" if not message.office_id else "name",
                                     "an office event needs the office's id and name")
        office = session.get(Office, message.office_id)
        if office is None:
            office = Office(id=message.office_id)
            session.add(office)
        office.name, office.district = message.name, message.district
        session.flush()
        rooms.ensure_standard_rooms(session, office.id,
                                    self.workspace.standards.rooms.in_force(self.workspace.today()))
        self.workspace.touched(session, [office.id])

    def apply_officer(self, session: Session,
                      message: cc_events.OfficerRegistered | cc_events.OfficerUpdated) -> None:
        """Keeps who the officer is, their office and certificate: what signing a custody step checks."""
        if not message.officer_id or not message.office_id:
            raise InvalidArgument.of("officer_id" if not message.officer_id else "office_id",
                                     "an officer event needs the officer's id and office_id")
        expires_on = None
        if message.HasField("certificate_expires"):
            # A Date that names no day (31 February) is refused, so the event is parked.
            expires_on = day_of(message.certificate_expires, "certificate_expires")
        officer = session.get(Officer, message.officer_id)
        if officer is None:
            officer = Officer(id=message.officer_id)
            session.add(officer)
        officer.name, officer.office_id = message.name, message.office_id
        officer.group, officer.certificate_no = message.group, message.certificate_no
        officer.certificate_expires = expires_on

    def apply_case(self, session: Session, message: me_events.CaseFiled | me_events.CaseClosed, *,
                   closed: bool) -> None:
        """Keeps whether the case is open: its goods are evidence, not to be disposed of, until it closes."""
        if not message.case_id:
            raise InvalidArgument.of("case_id", "a case event needs the case's id")
        case = session.get(Case, message.case_id)
        if case is None:
            session.add(Case(id=message.case_id, office_id=message.office_id, closed=closed))
        else:
            case.closed = closed
            case.office_id = message.office_id or case.office_id
