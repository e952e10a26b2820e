"""The local copy of command_center's offices and officers, kept from its events.

Incidents and drills belong to an office known here, and only an officer of the incident's office
is dispatched to its actions. The copy is replaced whole by each event (event-carried state); the
consumer has already dropped events older than what was applied.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from services.common.errors import FailedPrecondition, InvalidArgument, NotFound, Violations
from services.emergency.domain.workspace import Workspace
from services.emergency.models import Office, Officer


def apply_office(session: Session, office_id: str, *, name: str, district: str, streets: list[str]) -> Office:
    """Keeps the office as command_center last described it; refuses one without id or name."""
    violations = Violations()
    office_id, name = _text(office_id, "office_id", violations), _text(name, "name", violations)
    violations.raise_if_any("malformed office event")
    office = session.get(Office, office_id)
    if office is None:
        office = Office(id=office_id)
        session.add(office)
    office.name, office.district, office.streets = name, district, list(streets)
    return office


def apply_officer(session: Session, officer_id: str, *, name: str, office_id: str, group: str, certificate_no: str,
                  certificate_expires: dt.date | None) -> Officer:
    """Keeps the officer as command_center last described it; refuses one without id, name or office."""
    violations = Violations()
    officer_id, name = _text(officer_id, "officer_id", violations), _text(name, "name", violations)
    office_id = _text(office_id, "office_id", violations)
    violations.raise_if_any("malformed officer event")
    officer = session.get(Officer, officer_id)
    if officer is None:
        officer = Officer(id=officer_id)
        session.add(officer)
    officer.name, officer.office_id, officer.group = name, office_id, group
    officer.certificate_no, officer.certificate_expires = certificate_no, certificate_expires
    return officer


def known_office(session: Session, office_id: str, field: str) -> Office:
    """An office command_center described, or NotFound; `field` names the request's field when empty."""
    if not office_id:
        raise InvalidArgument.of(field, "must not be empty")
    office = session.get(Office, office_id)
    if office is None:
        raise NotFound(f"office {office_id!r} is not known (offices come from command_center)")
    return office


def officer_of_office(session: Session, officer_id: str, office_id: str) -> Officer:
    """An officer who may be dispatched to an incident of `office_id`."""
    if not officer_id:
        raise InvalidArgument.of("officer_id", "must not be empty")
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise NotFound(f"officer {officer_id!r} is not known (officers come from command_center)")
    if officer.office_id != office_id:
        violations = Violations()
        violations.add("officer_id", f"{officer_id} belongs to office {officer.office_id}, not {office_id}")
        raise FailedPrecondition("only an officer of the incident's office is dispatched", violations.items)
    return officer


def _text(value: str, field: str, violations: Violations) -> str:
    if not value.strip():
        violations.add(f"data.{field}", "must be non-empty text")
    return value.strip()


class Directory:
    """command_center's offices and officers as emergency keeps them, from their events."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def apply_office(self, session: Session, office_id: str, *, name: str, district: str,
                     streets: list[str]) -> None:
        """Keeps command_center's office (the whole office, as its latest event carries it)."""
        office = apply_office(session, office_id, name=name, district=district, streets=streets)
        # A newly known office gets its indicators at once (no drills yet is a reading too).
        self.workspace.touched(session, [office.id])

    def apply_officer(self, session: Session, officer_id: str, *, name: str, office_id: str, group: str,
                      certificate_no: str, certificate_expires: dt.date | None) -> None:
        """Keeps command_center's officer (the whole officer, as its latest event carries it)."""
        apply_officer(session, officer_id, name=name, office_id=office_id, group=group,
                      certificate_no=certificate_no, certificate_expires=certificate_expires)
