"""Offices (市场监督管理所), the streets they cover, and the registry generation that dates a view."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, Select, bindparam, case, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session

from services.command_center.domain.groups import GROUPS
from services.command_center.domain.workspace import Workspace
from services.command_center.models import (
    Office,
    Officer,
    OfficeResponsibility,
    OfficeStreet,
    RegistryGeneration,
    RequestKey,
)
from services.common.access import office_scope, require_read, require_write
from services.common.context import BUREAU_LEADER, Caller
from services.common.db import table_of, utcnow
from services.common.errors import Aborted, AlreadyExists, FailedPrecondition, NotFound, Violations
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from supervision.command_center.v1 import events_pb2 as pb

OFFICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
MAX_NAME = 100
MAX_STREET = 50
MAX_STREETS = 50
VIEW_CACHE_SIZE = 4096


@dataclass
class OfficeInput:
    """An office as a caller describes it: id, name, district and the streets it covers."""

    id: str
    name: str
    district: str
    streets: list[str]
    # The duty scopes the office declares (rules/duty_scopes.yaml): which scoped duty items are its own.
    duty_scopes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GroupView:
    """One of an office's four groups with how many officers it has and how many are certified."""

    kind: str
    name: str
    officer_count: int
    certified_count: int


@dataclass(frozen=True)
class OfficeView:
    """An office as it is read: its streets and the staffing of its groups."""

    office: Office
    streets: list[str]
    groups: list[GroupView] = field(default_factory=list)
    duty_scopes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StoredOffice:
    """An office as a write left it: its row, and its streets and duty scopes in the order a read
    gives them, so that the event and the answer are built without reading them back."""

    office: Office
    streets: list[str]
    duty_scopes: list[str]


# The writes of CreateOffice and UpdateOffice are Core statements built once. The ORM unit of work
# (session.add + flush, three flushes per call) and building each select anew (coercion and cache
# key per call) were most of a CreateOffice's 4 ms (in-process, SQLite); the ORM Office object is
# only the answer's carrier here, never flushed.
_offices = table_of(Office)
_streets = table_of(OfficeStreet)
_responsibilities = table_of(OfficeResponsibility)
_officers = table_of(Officer)
_registry = table_of(RegistryGeneration)
_OFFICE_ROW = select(_offices).where(_offices.c.id == bindparam("office_id"))
_INSERT_OFFICE = insert(_offices)
_UPDATE_OFFICE = update(_offices).where(_offices.c.id == bindparam("office_id"))
_STREETS_OF = (select(_streets.c.street).where(_streets.c.office_id == bindparam("office_id"))
               .order_by(_streets.c.position))
_DROP_STREETS = delete(_streets).where(_streets.c.office_id == bindparam("office_id"))
_INSERT_STREETS = insert(_streets)
_SCOPES_OF = (select(_responsibilities.c.scope).where(_responsibilities.c.office_id == bindparam("office_id"))
              .order_by(_responsibilities.c.scope))
_DROP_SCOPES = delete(_responsibilities).where(_responsibilities.c.office_id == bindparam("office_id"))
_INSERT_SCOPES = insert(_responsibilities)
_certified = (_officers.c.certificate_no != "") & (_officers.c.certificate_expires >= bindparam("today"))
_STAFFING = (select(_officers.c.group, func.count(), func.sum(case((_certified, 1), else_=0)))
             .where(_officers.c.office_id == bindparam("office_id")).group_by(_officers.c.group))
_BUMP_REGISTRY = update(_registry).values(value=_registry.c.value + 1)


@functools.lru_cache(maxsize=MAX_STREETS)
def _streets_taken(count: int) -> Select[str, str]:
    """Which of `count` streets (:street0, :street1...) another office than :office_id covers."""
    # One statement per count of streets, its binds fixed: an expanding IN is rendered anew on
    # every execution (42 against 24 µs for two streets, measured).
    return (select(_streets.c.street, _streets.c.office_id)
            .where(_streets.c.street.in_([bindparam(f"street{i}") for i in range(count)]),
                   _streets.c.office_id != bindparam("office_id")))


def bump_registry(session: Session) -> None:
    """Dates every cached office view: offices or officers changed in this transaction."""
    # Pending ORM changes are written first, as the ORM update this replaces did by autoflush: rows
    # are locked in the same order as before (the generation's row last).
    session.flush()
    session.connection().execute(_BUMP_REGISTRY)


_GENERATION_QUERY = f"SELECT value FROM {RegistryGeneration.__tablename__}"


def registry_generation(engine: Engine) -> int:
    """The generation of offices and officers now stored, which a cached office view is valid for."""
    # Asked on every GetOffice: a pooled driver connection and a cursor cost 9 µs against 39 µs for
    # the same query through a SQLAlchemy Connection (measured), a third of a cached GetOffice.
    driver_error = engine.dialect.loaded_dbapi.Error
    try:
        connection = engine.raw_connection()
    except driver_error as error:
        raise _as_sqlalchemy_error(error, driver_error) from error
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(_GENERATION_QUERY)
            row = cursor.fetchone()
        finally:
            cursor.close()
    except driver_error as error:
        raise _as_sqlalchemy_error(error, driver_error) from error
    finally:
        connection.close()
    if row is None:
        raise RuntimeError("the registry generation row is missing; the store was not migrated")
    return int(row[0])


def _as_sqlalchemy_error(error: Exception, driver_error: type[Exception]) -> StatementError:
    """The driver's own error as SQLAlchemy raises it elsewhere: a store that is away is UNAVAILABLE
    to the caller like on every other path, not an unknown failure."""
    return DBAPIError.instance(_GENERATION_QUERY, None, error, driver_error)


def check_name(violations: Violations, field_name: str, value: str, limit: int) -> None:
    """Notes a name that is blank or longer than `limit`."""
    if not value.strip():
        violations.add(field_name, "must not be empty")
    elif len(value) > limit:
        violations.add(field_name, f"at most {limit} characters")


def validate_office(data: OfficeInput, violations: Violations, *, prefix: str = "office.",
                    scopes: Collection[str] = ()) -> None:
    """Notes everything wrong with an office's name, district, streets and declared duty scopes."""
    if len(set(data.duty_scopes)) != len(data.duty_scopes):
        violations.add(prefix + "duty_scopes", "a scope is listed twice")
    for index, scope in enumerate(data.duty_scopes):
        if scope not in scopes:
            violations.add(f"{prefix}duty_scopes[{index}]",
                           f"unknown scope {scope!r}; known: {', '.join(sorted(scopes))}")
    check_name(violations, prefix + "name", data.name, MAX_NAME)
    check_name(violations, prefix + "district", data.district, MAX_NAME)
    if not data.streets:
        violations.add(prefix + "streets", "an office covers at least one town or subdistrict")
    if len(data.streets) > MAX_STREETS:
        violations.add(prefix + "streets", f"at most {MAX_STREETS}")
    seen: set[str] = set()
    for index, street in enumerate(data.streets):
        if not street.strip():
            violations.add(f"{prefix}streets[{index}]", "must not be empty")
        elif len(street) > MAX_STREET:
            violations.add(f"{prefix}streets[{index}]", f"at most {MAX_STREET} characters")
        elif street.strip() in seen:
            # Compared as stored (stripped): " 镇" and "镇" are one street, and the second row would
            # otherwise reach the store's key and fail there.
            violations.add(f"{prefix}streets[{index}]", f"{street.strip()} is listed twice")
        seen.add(street.strip())


def _claim_streets(connection: Connection, office_id: str, streets: list[str], *, new_office: bool = False) -> None:
    """A street belongs to one office: complaints and entities are routed by it."""
    binds: dict[str, str] = {f"street{i}": street for i, street in enumerate(streets)}
    taken = connection.execute(_streets_taken(len(streets)), {**binds, "office_id": office_id}).all()
    if taken:
        violations = Violations()
        for street, owner in taken:
            violations.add(f"office.streets[{streets.index(street)}]", f"{street} is covered by office {owner}")
        raise FailedPrecondition("streets already covered by another office", violations.items)
    if not new_office:
        connection.execute(_DROP_STREETS, {"office_id": office_id})
    connection.execute(_INSERT_STREETS, [{"street": street, "office_id": office_id, "position": position}
                                         for position, street in enumerate(streets)])


def create_office(session: Session, data: OfficeInput, scopes: Collection[str] = ()) -> StoredOffice:
    """Registers a new office with the streets it covers, none of them another office's, and the
    duty scopes it declares."""
    violations = Violations()
    if not OFFICE_ID.match(data.id):
        violations.add("office.id", "1-32 letters, digits or '-', starting with a letter or digit")
    validate_office(data, violations, scopes=scopes)
    violations.raise_if_any("invalid office")
    connection = session.connection()
    if connection.execute(_OFFICE_ROW, {"office_id": data.id}).first() is not None:
        raise AlreadyExists(f"office {data.id} already exists")
    now = utcnow()
    office = Office(id=data.id, name=data.name.strip(), district=data.district.strip(), created_at=now,
                    updated_at=now, version=1)
    connection.execute(_INSERT_OFFICE, _office_row(office))
    streets = [s.strip() for s in data.streets]
    _claim_streets(connection, office.id, streets, new_office=True)
    _declare_scopes(connection, office.id, data.duty_scopes, new_office=True)
    bump_registry(session)
    return StoredOffice(office, streets, _in_stored_order(connection, office.id, data.duty_scopes))


def _office_row(office: Office) -> dict[str, object]:
    return {"id": office.id, "name": office.name, "district": office.district, "created_at": office.created_at,
            "updated_at": office.updated_at, "version": office.version}


def _declare_scopes(connection: Connection, office_id: str, scopes: list[str], *, new_office: bool = False) -> None:
    if not new_office:  # a new office has no scopes yet: its row did not exist before this transaction
        connection.execute(_DROP_SCOPES, {"office_id": office_id})
    if scopes:
        connection.execute(_INSERT_SCOPES, [{"office_id": office_id, "scope": scope} for scope in scopes])


def _in_stored_order(connection: Connection, office_id: str, scopes: list[str]) -> list[str]:
    """The scopes just stored for an office, in the order scopes_of reads them (ORDER BY scope)."""
    if len(scopes) < 2:
        return list(scopes)
    if connection.dialect.name == "sqlite":
        # SQLite compares text by its bytes (BINARY collation, the column declares no other); the
        # byte order of UTF-8 is code point order, Python's: no need to read them back.
        return sorted(scopes)
    # PostgreSQL orders by the database's collation, which may differ from code point order
    # (en_US ignores "_" at first): read them back in its order.
    return list(connection.execute(_SCOPES_OF, {"office_id": office_id}).scalars())


def scopes_of(session: Session, office_id: str) -> list[str]:
    """The duty scopes an office declares, in key order."""
    return list(session.scalars(select(OfficeResponsibility.scope).where(OfficeResponsibility.office_id == office_id)
                                .order_by(OfficeResponsibility.scope)))


UPDATABLE_OFFICE_FIELDS = ("name", "district", "streets", "duty_scopes")


def update_office(session: Session, data: OfficeInput, mask: Sequence[str], expected_version: int,
                  scopes: Collection[str] = ()) -> StoredOffice:
    """Changes the masked fields of an office (all of them with an empty mask)."""
    connection = session.connection()
    row = connection.execute(_OFFICE_ROW, {"office_id": data.id}).first() if data.id else None
    if row is None:
        raise NotFound(f"office {data.id!r} not found")
    office = Office(**row._mapping)
    fields = list(mask) or list(UPDATABLE_OFFICE_FIELDS)
    violations = Violations()
    for name in fields:
        if name not in UPDATABLE_OFFICE_FIELDS:
            violations.add("update_mask", f"{name} cannot be updated; allowed: {', '.join(UPDATABLE_OFFICE_FIELDS)}")
    merged = OfficeInput(id=office.id,
                         name=data.name if "name" in fields else office.name,
                         district=data.district if "district" in fields else office.district,
                         streets=data.streets if "streets" in fields
                         else list(connection.execute(_STREETS_OF, {"office_id": office.id}).scalars()),
                         duty_scopes=data.duty_scopes if "duty_scopes" in fields
                         else list(connection.execute(_SCOPES_OF, {"office_id": office.id}).scalars()))
    validate_office(merged, violations, scopes=scopes)
    violations.raise_if_any("invalid office update")
    check_version(office.version, expected_version, f"office {office.id}")
    renamed = (merged.name.strip(), merged.district.strip()) != (office.name, office.district)
    office.name, office.district = merged.name.strip(), merged.district.strip()
    office.updated_at = utcnow()
    office.version += 1
    # The office's row is written when the ORM's autoflush wrote it before: ahead of the streets and
    # scopes when its name or district changes, after their deletes otherwise. Two updates of one
    # office at once then wait at the same statement as before and end as they did.
    if renamed:
        connection.execute(_UPDATE_OFFICE, _office_changes(office))
    streets = [s.strip() for s in merged.streets]
    if "streets" in fields:
        _claim_streets(connection, office.id, streets)
    if "duty_scopes" in fields:
        _declare_scopes(connection, office.id, merged.duty_scopes)
        duty_scopes = _in_stored_order(connection, office.id, merged.duty_scopes)
    else:
        duty_scopes = merged.duty_scopes  # read by scopes_of, in its order
    if not renamed:
        connection.execute(_UPDATE_OFFICE, _office_changes(office))
    bump_registry(session)
    return StoredOffice(office, streets, duty_scopes)


def _office_changes(office: Office) -> dict[str, object]:
    return {"office_id": office.id, "name": office.name, "district": office.district,
            "updated_at": office.updated_at, "version": office.version}


def check_version(current: int, expected: int, what: str) -> None:
    """Refuses a change made against a version other than the stored one (0 expects none)."""
    if expected and expected != current:
        raise Aborted(f"{what} is at version {current}, not {expected}; re-read and retry")


def get_office(session: Session, office_id: str) -> Office:
    """The stored office, or NotFound."""
    office = session.get(Office, office_id) if office_id else None
    if office is None:
        raise NotFound(f"office {office_id!r} not found")
    return office


def streets_of(session: Session, office_id: str) -> list[str]:
    """The streets an office covers, in the order it listed them."""
    return list(session.scalars(select(OfficeStreet.street).where(OfficeStreet.office_id == office_id)
                                .order_by(OfficeStreet.position)))


def staffing(session: Session, office_id: str, today: dt.date) -> list[GroupView]:
    """An office's four groups with their officers and certified officers as of `today`."""
    counts = {group: (int(total), int(certified or 0)) for group, total, certified
              in session.connection().execute(_STAFFING, {"office_id": office_id, "today": today})}
    return [GroupView(kind, label, *counts.get(kind, (0, 0))) for kind, label in GROUPS.items()]


def unstaffed() -> list[GroupView]:
    """The four groups of an office without officers: a new one."""
    return [GroupView(kind, label, 0, 0) for kind, label in GROUPS.items()]


def office_views(session: Session, offices: Sequence[Office], today: dt.date) -> list[OfficeView]:
    """The offices with their streets and their groups' staffing as of `today`."""
    ids = [o.id for o in offices]
    if not ids:
        return []
    streets: dict[str, list[str]] = {i: [] for i in ids}
    for office_id, street in session.execute(select(OfficeStreet.office_id, OfficeStreet.street)
                                             .where(OfficeStreet.office_id.in_(ids))
                                             .order_by(OfficeStreet.office_id, OfficeStreet.position)):
        streets[office_id].append(street)
    valid = (Officer.certificate_no != "") & (Officer.certificate_expires >= today)
    counts: dict[tuple[str, str], tuple[int, int]] = {}
    for office_id, group, total, certified in session.execute(
            select(Officer.office_id, Officer.group, func.count(), func.sum(case((valid, 1), else_=0)))
            .where(Officer.office_id.in_(ids)).group_by(Officer.office_id, Officer.group)):
        counts[(office_id, group)] = (int(total), int(certified or 0))
    scopes: dict[str, list[str]] = {i: [] for i in ids}
    for office_id, scope in session.execute(select(OfficeResponsibility.office_id, OfficeResponsibility.scope)
                                            .where(OfficeResponsibility.office_id.in_(ids))
                                            .order_by(OfficeResponsibility.office_id, OfficeResponsibility.scope)):
        scopes[office_id].append(scope)
    return [OfficeView(office=o, streets=streets[o.id],
                       groups=[GroupView(kind, label, *counts.get((o.id, kind), (0, 0)))
                               for kind, label in GROUPS.items()], duty_scopes=scopes[o.id])
            for o in offices]


class Offices:
    """The district's register of offices (所): registering, changing and reading them."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self._views: dict[tuple[str, int, dt.date], OfficeView] = {}

    def create_office(self, caller: Caller, request_id: str, data: OfficeInput) -> OfficeView:
        """Registers an office (bureau leaders only), once per request id."""
        require_write(caller, None, district_roles=(BUREAU_LEADER,))
        written: dict[Session, OfficeView] = {}

        def create(session: Session) -> str:
            stored = create_office(session, data, self.workspace.scopes)
            self._record(session, pb.OfficeRegistered, stored)
            self.workspace.touched(session, [stored.office.id])
            # A new office has no officers yet (officers.office_id must name an existing office).
            written[session] = OfficeView(stored.office, stored.streets, unstaffed(), stored.duty_scopes)
            return stored.office.id

        def load(session: Session, office_id: str) -> OfficeView:
            # The office this very transaction wrote is answered from what it wrote; a retry's (an
            # earlier request, or a second attempt after a conflict) is read from the store.
            view = written.get(session)
            return view if view is not None and view.office.id == office_id else self._view(session, office_id)

        return run_once(self.workspace.store, RequestKey, request_id, "CreateOffice", create, load)

    def update_office(self, caller: Caller, data: OfficeInput, mask: Sequence[str],
                      expected_version: int) -> OfficeView:
        """Changes an office's name, district or streets (bureau leaders only)."""
        require_write(caller, None, district_roles=(BUREAU_LEADER,))
        with self.workspace.store.transaction() as session:
            stored = update_office(session, data, mask, expected_version, self.workspace.scopes)
            self._record(session, pb.OfficeUpdated, stored)
            if "duty_scopes" in (mask or UPDATABLE_OFFICE_FIELDS):
                self.workspace.touched(session, [stored.office.id])  # the items the office answers for changed
            groups = staffing(session, stored.office.id, self.workspace.today())
            return OfficeView(stored.office, stored.streets, groups, stored.duty_scopes)

    def get_office(self, caller: Caller, office_id: str) -> OfficeView:
        """One office, served from a cache valid for the registry generation and the day it was built at."""
        require_read(caller, office_id)
        generation = registry_generation(self.workspace.store.read_engine)
        key = (office_id, generation, self.workspace.today())
        view = self._views.get(key)
        if view is None:
            with self.workspace.store.read() as session:
                view = self._view(session, office_id)
            if len(self._views) >= VIEW_CACHE_SIZE:
                self._views.clear()  # old generations are never asked for again
            self._views[key] = view
        return view

    def list_offices(self, caller: Caller, page: Page, district: str | None,
                     street: str | None) -> ListResult[OfficeView]:
        """The offices the caller may see, by district or by a street they cover."""
        scope = office_scope(caller, None)
        query = select(Office).where(Office.id > page.after).order_by(Office.id).limit(page.size)
        if scope:
            query = query.where(Office.id == scope)
        if district:
            query = query.where(Office.district == district)
        if street:
            query = query.where(Office.id.in_(select(OfficeStreet.office_id).where(OfficeStreet.street == street)))
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
            views = office_views(session, rows, self.workspace.today())
        return ListResult(views, next_token(rows[-1].id if rows else None, len(rows), page))

    def _view(self, session: Session, office_id: str) -> OfficeView:
        return office_views(session, [get_office(session, office_id)], self.workspace.today())[0]

    def _record(self, session: Session, message: type[pb.OfficeRegistered | pb.OfficeUpdated],
                stored: StoredOffice) -> None:
        """Records the whole office (OfficeRegistered or OfficeUpdated), so consumers keep their copy from it."""
        office = stored.office
        self.workspace.events.record(
            session, message(office_id=office.id, version=office.version, name=office.name,
                             district=office.district, streets=stored.streets, duty_scopes=stored.duty_scopes),
            aggregate_type="office", aggregate_id=office.id, version=office.version, office_id=office.id)
