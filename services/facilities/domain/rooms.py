"""Rooms (一厅六室三库) and the 四统一 checks of an office.

A room is judged by its most recent check against the room standard in force on the day of that
check: present, at least the standard's area, every requirement met. A check that finds a room
wanting publishes RoomNonCompliant.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.access import office_scope, require_write
from services.common.context import Caller
from services.common.contracts import date_of
from services.common.errors import NotFound, Violations
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from services.facilities.domain import fields
from services.facilities.domain.standards import RoomRules, RoomStandard
from services.facilities.domain.vocabulary import ASPECTS
from services.facilities.domain.workspace import Workspace, get_office
from services.facilities.models import FourUnifiedCheck, RequestKey, Room, RoomCheck
from supervision.facilities.v1 import events_pb2

MAX_AREA_M2 = 100_000
MAX_FINDINGS = fields.MAX_TEXT


@dataclass
class RoomCheckInput:
    """A check of one room of an office (一厅六室三库): is it there, how large, which requirements it meets."""

    office_id: str
    kind: str
    present: bool
    area_m2: float
    requirements_met: list[str]
    findings: str
    photo_refs: list[str]
    checked_by: str
    checked_on: dt.date | None


@dataclass
class FourUnifiedInput:
    """A check of one 四统一 aspect of an office: passed or not, and what was found."""

    office_id: str
    aspect: str
    passed: bool
    findings: str
    photo_refs: list[str]
    checked_by: str
    checked_on: dt.date | None


@dataclass(frozen=True)
class RoomView:
    """A room as its latest check left it, beside the room standard in force today."""

    room: Room
    # The standard in force today; None for a room the standard no longer lists.
    standard: RoomStandard | None


def room_key(office_id: str, kind: str) -> str:
    """A room's key: an office has one room of each kind."""
    return f"{office_id}/{kind}"


def ensure_standard_rooms(session: Session, office_id: str, rules: RoomRules) -> None:
    """Gives the office every room of the standard it does not have yet (unchecked, not compliant)."""
    existing = set(session.scalars(select(Room.kind).where(Room.office_id == office_id)))
    for kind in rules.rooms:
        if kind not in existing:
            session.add(Room(key=room_key(office_id, kind), office_id=office_id, kind=kind, present=False,
                             area_m2=0.0, requirements_met=[], compliant=False, problems=["not checked yet"],
                             version=1))


def judge(standard: RoomStandard, present: bool, area_m2: float, requirements_met: list[str]) -> list[str]:
    """What keeps the room from meeting its standard; empty when it complies."""
    if not present:
        return [f"{standard.name} is missing"]
    problems: list[str] = []
    if area_m2 < standard.min_area_m2:
        problems.append(f"area {area_m2:g} m² is below the standard's {standard.min_area_m2:g} m²")
    problems += [f"not met: {r.text}" for r in standard.requirements if r.code not in requirements_met]
    return problems


def _validate_check(data: RoomCheckInput, rules: RoomRules, checked_on: dt.date, today: dt.date) -> RoomStandard:
    violations = Violations()
    standard = rules.rooms.get(data.kind)
    if standard is None:
        violations.add("check.kind", f"unknown room {data.kind!r}; the standard lists: {', '.join(rules.rooms)}")
    if not math.isfinite(data.area_m2) or not 0 <= data.area_m2 <= MAX_AREA_M2:
        violations.add("check.area_m2", f"between 0 and {MAX_AREA_M2} m²")
    elif not data.present and data.area_m2:
        violations.add("check.area_m2", "an absent room has no area")
    if standard is not None:
        codes = {r.code for r in standard.requirements}
        for index, code in enumerate(data.requirements_met):
            if code not in codes:
                violations.add(f"check.requirements_met[{index}]",
                               f"{code!r} is not a requirement of {standard.name}; known: {', '.join(sorted(codes))}")
            elif code in data.requirements_met[:index]:
                violations.add(f"check.requirements_met[{index}]", f"{code} is listed twice")
    if not data.office_id:
        violations.add("check.office_id", "must not be empty")
    fields.check_text(violations, "check.findings", data.findings, MAX_FINDINGS, required=False)
    fields.check_text(violations, "check.checked_by", data.checked_by, fields.MAX_NAME, required=True)
    fields.check_photo_refs(violations, "check.photo_refs", data.photo_refs)
    fields.check_day_not_ahead(violations, "check.checked_on", checked_on, today)
    violations.raise_if_any("invalid room check")
    assert standard is not None
    return standard


def _validate_four_unified(data: FourUnifiedInput, checked_on: dt.date, today: dt.date) -> None:
    violations = Violations()
    if data.aspect not in ASPECTS:
        violations.add("check.aspect", f"one of {', '.join(ASPECTS)}")
    if not data.office_id:
        violations.add("check.office_id", "must not be empty")
    fields.check_text(violations, "check.findings", data.findings, MAX_FINDINGS, required=not data.passed)
    fields.check_text(violations, "check.checked_by", data.checked_by, fields.MAX_NAME, required=True)
    fields.check_photo_refs(violations, "check.photo_refs", data.photo_refs)
    fields.check_day_not_ahead(violations, "check.checked_on", checked_on, today)
    violations.raise_if_any("invalid 四统一 check")


class Rooms:
    """The offices' rooms (一厅六室三库) and their 四统一 checks: recording checks and reading the rooms."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def record_check(self, caller: Caller, request_id: str, data: RoomCheckInput) -> RoomCheck:
        """Records a room check (once per request id) judged by the standard of its day; a room found wanting
        publishes RoomNonCompliant."""
        require_write(caller, data.office_id or None)
        today = self.workspace.today()
        checked_on = data.checked_on or today
        rules = self.workspace.standards.rooms.in_force(checked_on)
        standard = _validate_check(data, rules, checked_on, today)

        def create(session: Session) -> str:
            get_office(session, data.office_id)
            problems = judge(standard, data.present, data.area_m2, data.requirements_met)
            check = RoomCheck(id=str(uuid.uuid4()), office_id=data.office_id, kind=data.kind, present=data.present,
                              area_m2=data.area_m2, requirements_met=list(data.requirements_met),
                              findings=data.findings.strip(), photo_refs=[r.strip() for r in data.photo_refs],
                              checked_by=data.checked_by.strip(), checked_on=checked_on, compliant=not problems,
                              problems=problems, standard_from=self._standard_from(checked_on),
                              created_at=self.workspace.now())
            session.add(check)
            self._apply_to_room(session, check, standard)
            self.workspace.touched(session, [data.office_id])
            return check.id

        return run_once(self.workspace.store, RequestKey, request_id, "RecordRoomCheck", create, _get_check)

    def _standard_from(self, day: dt.date) -> dt.date:
        return self.workspace.standards.rooms.effective_from(day)

    def _apply_to_room(self, session: Session, check: RoomCheck, standard: RoomStandard) -> None:
        """The room shows its most recent check; a late entry of an older check is history only."""
        room = session.get(Room, room_key(check.office_id, check.kind))
        if room is None:  # a room the standard added after the office was registered
            room = Room(key=room_key(check.office_id, check.kind), office_id=check.office_id, kind=check.kind,
                        version=0)
            session.add(room)
        elif room.last_checked_on is not None and check.checked_on < room.last_checked_on:
            return
        room.present, room.area_m2, room.requirements_met = check.present, check.area_m2, check.requirements_met
        room.compliant, room.problems = check.compliant, check.problems
        room.last_check_id, room.last_checked_on = check.id, check.checked_on
        room.version += 1
        if not check.compliant:
            self.workspace.events.record(
                session, events_pb2.RoomNonCompliant(
                    room_key=room.key, version=room.version, office_id=room.office_id, room_kind=room.kind,
                    room_name=standard.name, check_id=check.id, checked_on=date_of(check.checked_on),
                    problems=check.problems),
                aggregate_type="room", aggregate_id=room.key, version=room.version, office_id=room.office_id)

    def list_rooms(self, caller: Caller, page: Page, office_id: str | None, kind: str | None,
                   compliant: bool | None) -> ListResult[RoomView]:
        """A page of the rooms in the caller's scope, by kind and compliance."""
        scope = office_scope(caller, office_id)
        query = select(Room).where(Room.key > page.after).order_by(Room.key).limit(page.size)
        if scope:
            query = query.where(Room.office_id == scope)
        if kind:
            query = query.where(Room.kind == kind)
        if compliant is not None:
            query = query.where(Room.compliant.is_(compliant))
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
        standard = self.workspace.standards.rooms.in_force(self.workspace.today())
        views = [RoomView(room, standard.rooms.get(room.kind)) for room in rows]
        return ListResult(views, next_token(rows[-1].key if rows else None, len(rows), page))

    def record_four_unified(self, caller: Caller, request_id: str, data: FourUnifiedInput) -> FourUnifiedCheck:
        """Records a 四统一 check of one aspect (once per request id); the latest check of an aspect decides it."""
        require_write(caller, data.office_id or None)
        today = self.workspace.today()
        checked_on = data.checked_on or today
        _validate_four_unified(data, checked_on, today)

        def create(session: Session) -> str:
            get_office(session, data.office_id)
            check = FourUnifiedCheck(id=str(uuid.uuid4()), office_id=data.office_id, aspect=data.aspect,
                                     passed=data.passed, findings=data.findings.strip(),
                                     photo_refs=[r.strip() for r in data.photo_refs],
                                     checked_by=data.checked_by.strip(), checked_on=checked_on,
                                     created_at=self.workspace.now())
            session.add(check)
            self.workspace.touched(session, [data.office_id])
            return check.id

        return run_once(self.workspace.store, RequestKey, request_id, "RecordFourUnifiedCheck", create,
                        _get_four_unified)

    def list_four_unified(self, caller: Caller, page: Page, office_id: str | None, aspect: str | None,
                          passed: bool | None) -> ListResult[FourUnifiedCheck]:
        """A page of the 四统一 checks in the caller's scope, by aspect and outcome."""
        scope = office_scope(caller, office_id)
        query = (select(FourUnifiedCheck).where(FourUnifiedCheck.id > page.after).order_by(FourUnifiedCheck.id)
                 .limit(page.size))
        if scope:
            query = query.where(FourUnifiedCheck.office_id == scope)
        if aspect:
            query = query.where(FourUnifiedCheck.aspect == aspect)
        if passed is not None:
            query = query.where(FourUnifiedCheck.passed.is_(passed))
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
        return ListResult(rows, next_token(rows[-1].id if rows else None, len(rows), page))


def _get_check(session: Session, check_id: str) -> RoomCheck:
    check = session.get(RoomCheck, check_id)
    if check is None:
        raise NotFound(f"room check {check_id!r} not found")
    return check


def _get_four_unified(session: Session, check_id: str) -> FourUnifiedCheck:
    check = session.get(FourUnifiedCheck, check_id)
    if check is None:
        raise NotFound(f"四统一 check {check_id!r} not found")
    return check
