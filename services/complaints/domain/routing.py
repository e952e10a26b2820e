"""Routing an item to the office whose jurisdiction covers the respondent's street.

The service keeps its own copy of the offices and their streets, built from command_center's
OfficeRegistered / OfficeUpdated events, so intake never waits on another service. An item whose
street no office covers goes to the district queue, DISTRICT_QUEUE: a value that can never be an
office id (office ids have no '_'), which the bureau lists and routes by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import InvalidArgument, NotFound
from services.complaints.models import Office, OfficeStreet

DISTRICT_QUEUE = "_district_queue"


@dataclass(frozen=True)
class OfficeAnnouncement:
    id: str
    name: str
    district: str
    streets: list[str]
    version: int


def read_announcement(data: dict[str, Any], version: int) -> OfficeAnnouncement:
    """The office in an OfficeRegistered/OfficeUpdated event; a malformed one is refused."""
    streets = data.get("streets")
    if not isinstance(data.get("id"), str) or not data["id"] or not isinstance(data.get("name"), str):
        raise InvalidArgument.of("data.id", "an office event needs the office's id and name")
    if not isinstance(streets, list) or not all(isinstance(s, str) and s.strip() for s in streets):
        raise InvalidArgument.of("data.streets", "must be a list of street names")
    return OfficeAnnouncement(id=data["id"], name=data["name"], district=str(data.get("district", "")),
                              streets=[s.strip() for s in streets], version=version)


def apply_office(session: Session, announcement: OfficeAnnouncement) -> None:
    """Stores the office and makes it the owner of the streets it announced. A street another
    office still holds here is taken over: events of two offices may arrive in either order, and
    the newest announcement of a street is the one command_center allowed."""
    office = session.get(Office, announcement.id)
    if office is None:
        office = Office(id=announcement.id)
        session.add(office)
    office.name, office.district, office.version = announcement.name, announcement.district, announcement.version
    wanted = set(announcement.streets)
    for row in session.scalars(select(OfficeStreet).where(
            (OfficeStreet.office_id == announcement.id) | OfficeStreet.street.in_(wanted))):
        if row.street in wanted:
            row.office_id = announcement.id
            wanted.discard(row.street)
        else:
            session.delete(row)
    session.flush()
    for street in announcement.streets:
        if street in wanted:
            session.add(OfficeStreet(street=street, office_id=announcement.id))
    session.flush()


def route(session: Session, street: str, address: str) -> str:
    """The office covering `street`; else the one whose street the address names (the longest
    name that occurs, so 莘庄工业区 wins over a shorter name inside it); else the district queue."""
    if street:
        office_id = session.scalar(select(OfficeStreet.office_id).where(OfficeStreet.street == street))
        if office_id:
            return office_id
    if address:
        known = session.execute(select(OfficeStreet.street, OfficeStreet.office_id)).all()
        for name, office_id in sorted(known, key=lambda row: -len(row[0])):
            if name in address:
                return office_id
    return DISTRICT_QUEUE


def known_office(session: Session, office_id: str, field: str) -> Office:
    office = session.get(Office, office_id) if office_id else None
    if office is None:
        if not office_id:
            raise InvalidArgument.of(field, "must not be empty")
        raise NotFound(f"office {office_id!r} is not known here (offices come from command_center)")
    return office

