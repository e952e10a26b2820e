"""The offices and officers assessment knows, copied from command_center's events."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.assessment.models import Office, Officer
from services.common.errors import InvalidArgument
from services.common.indicators import mark_dirty

MAX_ID = 32


def apply_office(session: Session, data: dict[str, Any], office_id: str) -> None:
    office_id = str(data.get("id") or office_id)
    if not office_id or len(office_id) > MAX_ID:
        raise InvalidArgument.of("data.id", f"the office event needs an office id of at most {MAX_ID} characters")
    name = str(data.get("name") or office_id)[:100]
    office = session.get(Office, office_id)
    if office is None:
        session.add(Office(id=office_id, name=name))
        mark_dirty(session, [office_id])
    else:
        office.name = name


def apply_officer(session: Session, data: dict[str, Any], officer_id: str) -> None:
    officer_id = str(data.get("id") or officer_id)
    office_id = str(data.get("office_id") or "")
    if not 0 < len(officer_id) <= MAX_ID or not 0 < len(office_id) <= MAX_ID:
        raise InvalidArgument.of("data.office_id", f"the officer event needs the officer and the office "
                                                   f"(ids of at most {MAX_ID} characters)")
    officer = session.get(Officer, officer_id)
    moved_from = officer.office_id if officer else None
    if officer is None:
        officer = Officer(id=officer_id)
        session.add(officer)
    officer.name = str(data.get("name") or "")[:50]
    officer.office_id = office_id
    officer.group = str(data.get("group") or "")[:32]
    # staff_assessed counts an office's officers: both offices move when one moves.
    mark_dirty(session, {office_id, moved_from} - {None})
