"""The local copy of command_center's offices and officers, kept from its events.

Incidents and drills belong to an office known here, and only an officer of the incident's office
is dispatched to its actions. The copy is replaced whole by each event (event-carried state); the
consumer has already dropped events older than what was applied.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from services.common.errors import FailedPrecondition, InvalidArgument, NotFound, Violations
from services.emergency.models import Office, Officer


def apply_office(session: Session, data: Mapping[str, Any]) -> Office:
    violations = Violations()
    office_id, name = _text(data, "id", violations), _text(data, "name", violations)
    streets = data.get("streets") or []
    if not isinstance(streets, list) or not all(isinstance(s, str) for s in streets):
        violations.add("data.streets", "must be a list of names")
    violations.raise_if_any("malformed office event")
    office = session.get(Office, office_id)
    if office is None:
        office = Office(id=office_id)
        session.add(office)
    office.name, office.district, office.streets = name, str(data.get("district", "")), list(streets)
    return office


def apply_officer(session: Session, data: Mapping[str, Any]) -> Officer:
    violations = Violations()
    officer_id, name = _text(data, "id", violations), _text(data, "name", violations)
    office_id = _text(data, "office_id", violations)
    expires_text = str(data.get("certificate_expires") or "")
    expires = None
    if expires_text:
        try:
            expires = dt.date.fromisoformat(expires_text)
        except ValueError:
            violations.add("data.certificate_expires", f"{expires_text!r} is not a date YYYY-MM-DD")
    violations.raise_if_any("malformed officer event")
    officer = session.get(Officer, officer_id)
    if officer is None:
        officer = Officer(id=officer_id)
        session.add(officer)
    officer.name, officer.office_id, officer.group = name, office_id, str(data.get("group", ""))
    officer.certificate_no, officer.certificate_expires = str(data.get("certificate_no", "")), expires
    return officer


def known_office(session: Session, office_id: str, field: str) -> Office:
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


def _text(data: Mapping[str, Any], key: str, violations: Violations) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        violations.add(f"data.{key}", "must be non-empty text")
        return ""
    return value.strip()
