"""Local copies of command_center's offices (with the streets they cover) and officers (with their
certificates), kept from its events, and the checks that an enforcement team is lawful: enough
different officers of the office, each certified on the day, none with a declared conflict."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from services.common.errors import FailedPrecondition, InvalidArgument, NotFound, Violations
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.models import Conflict, Entity, Office, Officer, OfficeStreet

MAX_TEAM = 6


def get_office(session: Session, office_id: str) -> Office:
    """An office from the local copy; unknown until command_center's OfficeRegistered arrived."""
    office = session.get(Office, office_id) if office_id else None
    if office is None:
        raise NotFound(f"office {office_id!r} not found")
    return office


def office_for_street(session: Session, street: str) -> str | None:
    """The office whose area covers the street (town or subdistrict), if any."""
    return session.scalar(select(OfficeStreet.office_id).where(OfficeStreet.street == street))


def certified_on(officer: Officer, day: dt.date) -> bool:
    """Whether the officer holds an enforcement certificate (执法证) valid on the day."""
    return bool(officer.certificate_no) and officer.certificate_expires is not None \
        and officer.certificate_expires >= day


def conflicted_officers(session: Session, entity_id: str, officer_ids: list[str]) -> set[str]:
    """Those of the officers who declared a conflict of interest with the entity."""
    return set(session.scalars(select(Conflict.officer_id).where(Conflict.entity_id == entity_id,
                                                                 Conflict.officer_id.in_(officer_ids))))


def check_team(session: Session, office_id: str, officer_ids: list[str], entity_id: str | None, day: dt.date,
               minimum: int, field: str = "officer_ids") -> list[str]:
    """The team as given, when lawful. A malformed team (too few, repeated, unknown, another office's
    officer) is INVALID_ARGUMENT; a lapsed certificate or a declared conflict is FAILED_PRECONDITION."""
    violations = Violations()
    ids = [officer_id.strip() for officer_id in officer_ids]
    for index, officer_id in enumerate(ids):
        if officer_id in ids[:index]:
            violations.add(f"{field}[{index}]", f"officer {officer_id} is listed twice")
    distinct = list(dict.fromkeys(ids))
    if len(distinct) < minimum:
        violations.add(field, f"at least {minimum} different officers are required; got {len(distinct)}")
    if len(ids) > MAX_TEAM:
        violations.add(field, f"at most {MAX_TEAM} officers")
    officers: dict[str, Officer] = {}
    for index, officer_id in enumerate(ids):
        if officer_id in officers or officer_id in ids[:index]:
            continue
        officer = session.get(Officer, officer_id) if officer_id else None
        if officer is None:
            violations.add(f"{field}[{index}]", f"no officer {officer_id!r} is registered")
        elif officer.office_id != office_id:
            violations.add(f"{field}[{index}]", f"officer {officer_id} belongs to office {officer.office_id}, "
                                                f"not {office_id}")
        else:
            officers[officer_id] = officer
    violations.raise_if_any("invalid enforcement team")
    refused = Violations()
    conflicted = conflicted_officers(session, entity_id, distinct) if entity_id else set()
    for officer_id in distinct:
        where = f"{field}[{ids.index(officer_id)}]"
        if not certified_on(officers[officer_id], day):
            expires = officers[officer_id].certificate_expires
            refused.add(where, f"officer {officer_id} holds no valid enforcement certificate on {day}"
                               + (f" (expired {expires})" if expires and expires < day else ""))
        if officer_id in conflicted:
            refused.add(where, f"officer {officer_id} declared a conflict of interest with entity {entity_id}")
    if refused:
        raise FailedPrecondition("the team may not act: " + "; ".join(v.description for v in refused.items),
                                 refused.items)
    return distinct


class Directory:
    """Applies the events that keep the local copies; called by handlers inside their transaction."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def apply_office(self, session: Session, office_id: str, *, name: str, district: str,
                     streets: list[str]) -> None:
        """Keeps the office and the streets it covers; a street taken from another office takes the
        businesses there with it."""
        if not office_id.strip() or not name.strip():
            raise InvalidArgument.of("office_id", "an office event needs the office's id and name")
        streets = [street for street in streets if street.strip()]
        office = session.get(Office, office_id)
        if office is None:
            office = Office(id=office_id)
            session.add(office)
        office.name, office.district = name, district
        session.flush()
        session.execute(delete(OfficeStreet).where(OfficeStreet.office_id == office_id,
                                                   OfficeStreet.street.not_in(streets)))
        for street in streets:
            row = session.get(OfficeStreet, street)
            if row is not None and row.office_id == office_id:
                continue
            if row is None:
                session.add(OfficeStreet(street=street, office_id=office_id))
            else:
                row.office_id = office_id
            # The street is newly this office's (taken over, or released by another office first): so
            # are the businesses that operate there.
            elsewhere = (Entity.street == street, Entity.office_id != office_id)
            previous = list(session.scalars(select(Entity.office_id).where(*elsewhere).distinct()))
            if previous:
                session.execute(update(Entity).where(*elsewhere).values(office_id=office_id))
                self.workspace.touched(session, previous)
        self.workspace.touched(session, [office_id])

    def apply_officer(self, session: Session, officer_id: str, *, office_id: str, name: str, group: str,
                      certificate_no: str, certificate_expires: dt.date | None) -> None:
        """Keeps the officer, with the certificate that lets them inspect and handle cases."""
        if not officer_id.strip() or not office_id.strip():
            raise InvalidArgument.of("officer_id", "an officer event needs the officer's id and office_id")
        officer = session.get(Officer, officer_id)
        if officer is None:
            officer = Officer(id=officer_id)
            session.add(officer)
        officer.name, officer.office_id, officer.group = name, office_id, group
        officer.certificate_no, officer.certificate_expires = certificate_no, certificate_expires
