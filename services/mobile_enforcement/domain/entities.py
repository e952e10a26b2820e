"""Supervised entities (检查对象名录库): every market entity of the district, registered with a checked
credit code, its industry code (国民经济行业分类), optionally one of the 12 key object types on top, a
street that decides the office, and a risk tier."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.common.access import office_scope, require_read, require_write
from services.common.context import Caller
from services.common.credit_code import normalise_uscc, validate_uscc
from services.common.errors import Aborted, AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Violations
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from services.mobile_enforcement.domain import published
from services.mobile_enforcement.domain.directory import office_for_street
from services.mobile_enforcement.domain.industry_codes import check_industry_code
from services.mobile_enforcement.domain.vocabulary import CATEGORIES, RISK_LEVELS
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.models import Entity, RequestKey
from supervision.mobile_enforcement.v1 import events_pb2

MAX_NAME = 200
MAX_ADDRESS = 300
MAX_STREET = 50
MAX_SEARCH = 50
UPDATABLE_FIELDS = ("name", "category", "address", "street", "risk_level", "key_supervision", "industry_code")


@dataclass
class EntityInput:
    """An entity as a caller gives it, before validation."""

    uscc: str
    name: str
    category: str
    address: str
    street: str
    risk_level: str
    key_supervision: bool = False
    # 国民经济行业分类 code; required when category is "" (no key object type).
    industry_code: str = ""


@dataclass(frozen=True)
class EntityFilter:
    """Which entities of the directory a listing shows; None matches any."""

    office_id: str | None = None
    category: str | None = None
    risk_level: str | None = None
    street: str | None = None
    key_supervision: bool | None = None
    # A division, group or class code: the entities whose industry code falls within it ("52": retail).
    industry_code: str | None = None
    # A part of the name (any case) or the start of the credit code: what an inspector types.
    search: str | None = None


def validate(data: EntityInput, violations: Violations, prefix: str = "entity.",
             day: dt.date | None = None) -> EntityInput:
    """The input with its codes normalised; every problem added to `violations`. The industry code is
    checked against the classification in force on `day` (None: the newest)."""
    uscc = normalise_uscc(data.uscc)
    problem = validate_uscc(uscc)
    if problem:
        violations.add(prefix + "uscc", problem)
    for name, limit in (("name", MAX_NAME), ("address", MAX_ADDRESS), ("street", MAX_STREET)):
        value = getattr(data, name).strip()
        if not value:
            violations.add(prefix + name, "must not be empty")
        elif len(value) > limit:
            violations.add(prefix + name, f"at most {limit} characters")
    if data.category and data.category not in CATEGORIES:
        violations.add(prefix + "category", f"must be one of the 12 key object types, or unset for an entity "
                                            f"of none: {', '.join(CATEGORIES)}")
    industry_code = ""
    if data.industry_code.strip():
        industry_code, problem = check_industry_code(data.industry_code, day or dt.date.max)
        if problem:
            violations.add(prefix + "industry_code", problem)
    elif not data.category:
        violations.add(prefix + "industry_code", "an entity of no key object type needs its 国民经济行业分类 code")
    if data.risk_level not in RISK_LEVELS:
        violations.add(prefix + "risk_level", f"must be one of {', '.join(RISK_LEVELS)}")
    return EntityInput(uscc, data.name.strip(), data.category, data.address.strip(), data.street.strip(),
                       data.risk_level, data.key_supervision, industry_code)


def route(session: Session, street: str, field: str = "entity.street") -> str:
    """The office whose area covers the street; FAILED_PRECONDITION when none does."""
    office_id = office_for_street(session, street)
    if office_id is None:
        violations = Violations()
        violations.add(field, f"no office covers {street!r}; offices cover the towns and subdistricts "
                              "registered with command_center")
        raise FailedPrecondition(f"no office covers {street!r}", violations.items)
    return office_id


def new_entity(session: Session, data: EntityInput, office_id: str, now: dt.datetime) -> Entity:
    """Adds a validated entity to the directory in the caller's transaction."""
    entity = Entity(uscc=data.uscc, name=data.name, category=data.category, address=data.address,
                    street=data.street, office_id=office_id, risk_level=data.risk_level,
                    key_supervision=data.key_supervision, industry_code=data.industry_code, created_at=now,
                    updated_at=now, version=1)
    session.add(entity)
    return entity


def get_entity(session: Session, uscc: str) -> Entity:
    """An entity by its credit code (统一社会信用代码), in any spelling; NOT_FOUND when unknown."""
    entity = session.get(Entity, normalise_uscc(uscc)) if uscc.strip() else None
    if entity is None:
        raise NotFound(f"entity {uscc!r} not found")
    return entity


def check_search(search: str) -> str:
    """The search term trimmed, when it is 1 to MAX_SEARCH characters; INVALID_ARGUMENT on filter otherwise."""
    term = search.strip()
    if not term or len(term) > MAX_SEARCH:
        raise InvalidArgument.of("filter", f"search: 1 to {MAX_SEARCH} characters")
    return term


class Entities:
    """The directory of supervised entities (检查对象名录库): registration, changes, reads."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def register(self, caller: Caller, request_id: str, data: EntityInput) -> Entity:
        """Registers an entity under the office covering its street (once per request id)."""
        violations = Violations()
        data = validate(data, violations, day=self.workspace.today())
        violations.raise_if_any("invalid entity")

        def create(session: Session) -> str:
            office_id = route(session, data.street)
            require_write(caller, office_id)
            if session.get(Entity, data.uscc) is not None:
                raise AlreadyExists(f"entity {data.uscc} is already registered")
            entity = new_entity(session, data, office_id, self.workspace.now())
            session.flush()
            self.published(session, entity, published.entity_registered(entity))
            self.workspace.touched(session, [office_id])  # its directory grew (entities_supervised)
            return entity.uscc

        return run_once(self.workspace.store, RequestKey, request_id, "RegisterEntity", create, get_entity)

    def update(self, caller: Caller, data: EntityInput, mask: list[str], expected_version: int) -> Entity:
        """Changes the masked fields; a new street may move the entity to another office."""
        fields = mask or list(UPDATABLE_FIELDS)
        with self.workspace.store.transaction() as session:
            entity = get_entity(session, data.uscc)
            require_write(caller, entity.office_id)
            violations = Violations()
            for name in fields:
                if name not in UPDATABLE_FIELDS:
                    violations.add("update_mask", f"{name} cannot be updated; allowed: {', '.join(UPDATABLE_FIELDS)}")
            merged = validate(EntityInput(entity.uscc, **{name: getattr(data if name in fields else entity, name)
                                                          for name in UPDATABLE_FIELDS}), violations,
                              day=self.workspace.today())
            violations.raise_if_any("invalid entity update")
            if expected_version and expected_version != entity.version:
                raise Aborted(f"entity {entity.uscc} is at version {entity.version}, not {expected_version}; "
                              "re-read and retry")
            previous_office = entity.office_id
            office_id = route(session, merged.street) if merged.street != entity.street else entity.office_id
            require_write(caller, office_id)
            for name in UPDATABLE_FIELDS:
                setattr(entity, name, getattr(merged, name))
            entity.office_id = office_id
            entity.updated_at = self.workspace.now()
            entity.version += 1
            self.published(session, entity, published.entity_updated(entity, previous_office))
            if office_id != previous_office:  # one directory shrank, another grew
                self.workspace.touched(session, [previous_office, office_id])
            return entity

    def get(self, caller: Caller, uscc: str) -> Entity:
        """One entity, to a caller who may read its office."""
        with self.workspace.store.read() as session:
            entity = get_entity(session, uscc)
        require_read(caller, entity.office_id)
        return entity

    def list(self, caller: Caller, page: Page, where: EntityFilter) -> ListResult[Entity]:
        """A page of the entities the caller may read, by credit code."""
        scope = office_scope(caller, where.office_id)
        query = select(Entity).where(Entity.uscc > page.after).order_by(Entity.uscc).limit(page.size)
        if scope:
            query = query.where(Entity.office_id == scope)
        if where.category:
            query = query.where(Entity.category == where.category)
        if where.risk_level:
            query = query.where(Entity.risk_level == where.risk_level)
        if where.street:
            query = query.where(Entity.street == where.street)
        if where.key_supervision is not None:
            query = query.where(Entity.key_supervision.is_(where.key_supervision))
        if where.industry_code is not None:
            code, problem = check_industry_code(where.industry_code, self.workspace.today())
            if problem:
                raise InvalidArgument.of("filter", f"industry_code: {problem}")
            query = query.where(Entity.industry_code.startswith(code, autoescape=True))
        if where.search is not None:
            term = check_search(where.search)
            query = query.where(or_(func.lower(Entity.name).contains(term.lower(), autoescape=True),
                                    Entity.uscc.startswith(term.upper(), autoescape=True)))
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
        return ListResult(rows, next_token(rows[-1].uscc if rows else None, len(rows), page))

    def published(self, session: Session, entity: Entity,
                  message: events_pb2.EntityRegistered | events_pb2.EntityUpdated) -> None:
        """Records the entity's event in the caller's transaction."""
        self.workspace.events.record(session, message, aggregate_type="entity", aggregate_id=entity.uscc,
                                     version=entity.version, office_id=entity.office_id)
