"""Who handles an item (承办人): an officer of the office's complaint handling group (申投诉处理组),
learned from command_center's OfficerRegistered / OfficerUpdated events.

A complaint gets its handler when it is accepted, a report when it reaches an office (a report has
no acceptance: the office's work starts on receipt); an inquiry is answered by the desk and has none.
The choice is the least-loaded officer of the group: the fewest open items in hand, ties to the
lowest officer id, so the same store always gives the same answer. An office with nobody in the
group leaves the item without a handler until an officer joins it, who then takes those items.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from services.common.errors import FailedPrecondition, NotFound, Violations
from services.complaints.domain.routing import DISTRICT_QUEUE
from services.complaints.domain.states import ACCEPTED, COMPLAINT, OPEN_STATES, RECEIVED, REPORT, VERIFIED
from services.complaints.models import Complaint, Officer
from supervision.command_center.v1.events_pb2 import OfficerRegistered, OfficerUpdated

OfficerMessage = OfficerRegistered | OfficerUpdated
COMPLAINT_HANDLING = "COMPLAINT_HANDLING"
MAX_OFFICER_ID, MAX_NAME, MAX_GROUP, MAX_REASON = 64, 100, 32, 2000


@dataclass(frozen=True)
class OfficerAnnouncement:
    """An officer's office and group, as command_center announced them."""

    id: str
    office_id: str
    name: str
    group: str
    version: int


def read_officer(message: OfficerMessage) -> OfficerAnnouncement:
    """The officer in an OfficerRegistered/OfficerUpdated message; a malformed one is refused."""
    officer_id, office_id = message.officer_id.strip(), message.office_id.strip()
    name, group = message.name.strip(), message.group.strip()
    violations = Violations()
    for field, value, limit in (("officer_id", officer_id, MAX_OFFICER_ID), ("office_id", office_id, 32),
                                ("name", name, MAX_NAME), ("group", group, MAX_GROUP)):
        if not value:
            violations.add(field, "an officer event needs the officer's id, office, name and group")
        elif len(value) > limit:
            violations.add(field, f"at most {limit} characters")
    violations.raise_if_any(f"malformed officer event for {officer_id or 'an unnamed officer'}")
    return OfficerAnnouncement(officer_id, office_id, name, group, message.version)


def needs_handler(complaint: Complaint) -> bool:
    """Whether the item is in the hands of an office's handling group: an accepted complaint, or a
    report not yet decided, in an office (not the district queue)."""
    if complaint.office_id == DISTRICT_QUEUE:
        return False
    return (complaint.kind == COMPLAINT and complaint.state == ACCEPTED) or \
        (complaint.kind == REPORT and complaint.state in (RECEIVED, VERIFIED))


def _least_loaded_query() -> Select[tuple[str]]:
    item, officer = Complaint.__table__.c, Officer.__table__.c
    load = (select(item.handler_id, func.count().label("open"))
            .where(item.office_id == bindparam("office_id"), item.state.in_(OPEN_STATES), item.handler_id != "")
            .group_by(item.handler_id).subquery())
    return (select(officer.id).outerjoin(load, load.c.handler_id == officer.id)
            .where(officer.office_id == bindparam("office_id"), officer.group == COMPLAINT_HANDLING)
            .order_by(func.coalesce(load.c.open, 0), officer.id).limit(1))


# Built once, on the tables: the ORM query built on each call cost about 680 µs, this one 90 µs.
_LEAST_LOADED = _least_loaded_query()


def least_loaded(session: Session, office_id: str) -> str:
    """The officer of the office's complaint handling group with the fewest open items ("" if none)."""
    # Session.execute autoflushes before a Core statement too: pending changes are counted.
    return session.scalar(_LEAST_LOADED, {"office_id": office_id}) or ""


def assign_least_loaded(session: Session, complaint: Complaint) -> str:
    """Gives an item that needs a handler the least-loaded officer of its office; returns who ("" if nobody)."""
    complaint.handler_id = least_loaded(session, complaint.office_id) if needs_handler(complaint) else ""
    session.flush()
    return complaint.handler_id


def check_request(officer_id: str, reason: str) -> str:
    """An AssignHandler request's input, every problem at once; returns the reason without spaces."""
    reason = reason.strip()
    violations = Violations()
    if not officer_id:
        violations.add("officer_id", "must not be empty")
    elif len(officer_id) > MAX_OFFICER_ID:
        violations.add("officer_id", f"at most {MAX_OFFICER_ID} characters")
    if not reason:
        violations.add("reason", "must not be empty: why the item changes hands")
    elif len(reason) > MAX_REASON:
        violations.add("reason", f"at most {MAX_REASON} characters")
    violations.raise_if_any("invalid handler assignment")
    return reason


def check_assignable(session: Session, complaint: Complaint, officer_id: str) -> Officer:
    """The officer, when they belong to the item's office's complaint handling group and the item is open."""
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise NotFound(f"officer {officer_id!r} is not known here (officers come from command_center)")
    if not needs_handler(complaint):
        raise FailedPrecondition(f"{complaint.id} is a {complaint.kind} {complaint.state} in {complaint.office_id}: "
                                 "only an accepted complaint or an undecided report in an office has a handler")
    if officer.office_id != complaint.office_id or officer.group != COMPLAINT_HANDLING:
        raise FailedPrecondition(f"{officer_id} is not in the complaint handling group (申投诉处理组) of "
                                 f"{complaint.office_id}; the handler is one of its officers")
    if complaint.handler_id == officer_id:
        raise FailedPrecondition(f"{complaint.id} is handled by {officer_id} already")
    return officer


def apply_officer(session: Session, announcement: OfficerAnnouncement) -> tuple[str, str] | None:
    """Stores the officer; returns their office and group before, None for a new officer."""
    officer = session.get(Officer, announcement.id)
    before = (officer.office_id, officer.group) if officer is not None else None
    if officer is None:
        officer = Officer(id=announcement.id)
        session.add(officer)
    officer.office_id, officer.name = announcement.office_id, announcement.name
    officer.group, officer.version = announcement.group, announcement.version
    session.flush()
    return before


def items_to_hand_over(session: Session, officer: OfficerAnnouncement,
                       before: tuple[str, str] | None) -> list[Complaint]:
    """The open items whose handler must change after the announcement: the officer's own when they
    left their office's group, and those of the office without a handler when they joined it."""
    items: list[Complaint] = []
    in_group = officer.group == COMPLAINT_HANDLING
    if before is not None and before[1] == COMPLAINT_HANDLING and (before[0], in_group) != (officer.office_id, True):
        items += session.scalars(select(Complaint).where(Complaint.handler_id == officer.id,
                                                         Complaint.state.in_(OPEN_STATES)).order_by(Complaint.id))
    if in_group:
        items += [c for c in session.scalars(select(Complaint).where(
            Complaint.office_id == officer.office_id, Complaint.handler_id == "",
            Complaint.state.in_(OPEN_STATES)).order_by(Complaint.id)) if needs_handler(c)]
    return items
