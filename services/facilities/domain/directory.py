"""Local copies of other services' facts, kept from their events: offices and officers
(command_center), penalty cases (mobile_enforcement). Reads of these never call another service.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from services.common.errors import FailedPrecondition, InvalidArgument, Violations
from services.facilities.domain import rooms
from services.facilities.domain.workspace import Workspace
from services.facilities.models import Case, Office, Officer

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

    def apply_office(self, session: Session, data: dict) -> None:
        office_id, name = str(data.get("id") or ""), str(data.get("name") or "")
        if not office_id or not name:
            raise InvalidArgument.of("data.id", "an office event needs id and name")
        office = session.get(Office, office_id)
        if office is None:
            office = Office(id=office_id)
            session.add(office)
        office.name, office.district = name, str(data.get("district") or "")
        session.flush()
        # A new office gets the standard's rooms; an existing one gets any the standard added since.
        rooms.ensure_standard_rooms(session, office_id, self.workspace.standards.rooms.in_force(self.workspace.today()))
        self.workspace.touched(session, [office_id])

    def apply_officer(self, session: Session, data: dict) -> None:
        officer_id, office_id = str(data.get("id") or ""), str(data.get("office_id") or "")
        if not officer_id or not office_id:
            raise InvalidArgument.of("data.id", "an officer event needs id and office_id")
        expires = str(data.get("certificate_expires") or "")
        try:
            expires_on = dt.date.fromisoformat(expires) if expires else None
        except ValueError:
            raise InvalidArgument.of("data.certificate_expires", f"{expires!r} is not a date") from None
        officer = session.get(Officer, officer_id)
        if officer is None:
            officer = Officer(id=officer_id)
            session.add(officer)
        officer.name, officer.office_id = str(data.get("name") or ""), office_id
        officer.group, officer.certificate_no = str(data.get("group") or ""), str(data.get("certificate_no") or "")
        officer.certificate_expires = expires_on

    def apply_case(self, session: Session, case_id: str, office_id: str, *, closed: bool) -> None:
        if not case_id:
            raise InvalidArgument.of("data.case_id", "a case event needs case_id")
        case = session.get(Case, case_id)
        if case is None:
            session.add(Case(id=case_id, office_id=office_id, closed=closed))
        else:
            case.closed = closed
            case.office_id = office_id or case.office_id
