"""Routing an item to the office whose jurisdiction covers the respondent's street.

The service keeps its own copy of the offices and their streets, built from command_center's
OfficeRegistered / OfficeUpdated events, so intake never waits on another service. An item whose
street no office covers goes to the district queue, DISTRICT_QUEUE: a value that can never be an
office id (office ids have no '_'), which the bureau lists and routes by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from services.common.errors import InvalidArgument, NotFound, Violations
from services.complaints.models import Office, OfficeStreet
from supervision.command_center.v1.events_pb2 import OfficeRegistered, OfficeUpdated

# OfficeRegistered and OfficeUpdated carry the same fields: the whole office.
OfficeMessage = OfficeRegistered | OfficeUpdated

DISTRICT_QUEUE = "_district_queue"
# The widths of the office copy's columns (models.Office, models.OfficeStreet).
MAX_OFFICE_ID, MAX_NAME, MAX_DISTRICT, MAX_STREET = 32, 100, 50, 50


@dataclass(frozen=True)
class OfficeAnnouncement:
    """An office and the streets it covers, as command_center announced it."""

    id: str
    name: str
    district: str
    streets: list[str]
    version: int


def read_announcement(message: OfficeMessage) -> OfficeAnnouncement:
    """The office in an OfficeRegistered/OfficeUpdated message; a malformed one is refused."""
    office_id, name, district = message.office_id.strip(), message.name.strip(), message.district.strip()
    streets = [street.strip() for street in message.streets]
    violations = Violations()
    for field, value, limit in (("office_id", office_id, MAX_OFFICE_ID), ("name", name, MAX_NAME)):
        if not value:
            violations.add(field, "an office event needs the office's id and name")
        elif len(value) > limit:
            violations.add(field, f"at most {limit} characters")
    if len(district) > MAX_DISTRICT:
        violations.add("district", f"at most {MAX_DISTRICT} characters")
    if not streets:
        violations.add("streets", "an office covers at least one street")
    for index, street in enumerate(streets):
        if not street or len(street) > MAX_STREET:
            violations.add(f"streets[{index}]", f"a street name has 1-{MAX_STREET} characters")
    violations.raise_if_any(f"malformed office event for {office_id or 'an unnamed office'}")
    return OfficeAnnouncement(id=office_id, name=name, district=district, streets=streets, version=message.version)


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


# Built once, on the table: the ORM query built on each call cost about 115 µs, this one 30 µs.
_OFFICE_OF_STREET = (select(OfficeStreet.__table__.c.office_id)
                     .where(OfficeStreet.__table__.c.street == bindparam("street")))


def route(session: Session, street: str, address: str) -> str:
    """The office covering `street`; else the one whose street the address names (the longest
    name that occurs, so 莘庄工业区 wins over a shorter name inside it); else the district queue."""
    if street:
        office_id: str | None = session.scalar(_OFFICE_OF_STREET, {"street": street})
        if office_id:
            return office_id
    if address:
        known = session.execute(select(OfficeStreet.street, OfficeStreet.office_id)).all()
        for name, office_id in sorted(known, key=lambda row: -len(row[0])):
            if name in address:
                return office_id
    return DISTRICT_QUEUE


def known_office(session: Session, office_id: str, field: str) -> Office:
    """An office of the local copy, to route an item to; NOT_FOUND before command_center announced it."""
    office = session.get(Office, office_id) if office_id else None
    if office is None:
        if not office_id:
            raise InvalidArgument.of(field, "must not be empty")
        raise NotFound(f"office {office_id!r} is not known here (offices come from command_center)")
    return office

