"""Random spot-check plans (双随机、一公开): the draw from the office's directories, the inspections
it schedules, its public verification, and the declared conflicts of interest it respects.

A draw reads the two snapshots in a read transaction (a million entities take a second; writers
are not held up), draws in memory, and writes the plan, its compressed snapshots and one scheduled
inspection per target in one write transaction with bulk inserts.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.orm import Session

from services.common.access import office_scope, require_read, require_write
from services.common.context import Caller
from services.common.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Violations,
)
from services.common.hash_chain import GENESIS
from services.common.idempotency import earlier_result, run_once
from services.common.paging import ListResult, Page, next_token
from services.mobile_enforcement.domain import draw, published
from services.mobile_enforcement.domain.directory import certified_on, get_office
from services.mobile_enforcement.domain.draw import EntitySnapshot, OfficerRoster, RosterEntry, Target
from services.mobile_enforcement.domain.entities import get_entity
from services.mobile_enforcement.domain.spot_check_policy import default_rounding
from services.mobile_enforcement.domain.vocabulary import CATEGORIES, COMPLETED, PLANNED, RISK_LEVELS, SPOT_CHECK
from services.mobile_enforcement.domain.workspace import Workspace, join_ids
from services.mobile_enforcement.models import Conflict, Entity, Inspection, Officer, Plan, PlanSnapshot, RequestKey

ENTITIES, OFFICERS = "ENTITIES", "OFFICERS"
MAX_NAME = 200
MAX_SEED = 128
MAX_REASON = 500
MAX_TEAM = 6
CHUNK_BYTES = 64 * 1024


@dataclass
class PlanInput:
    """A spot-check plan to draw (抽查计划), before validation."""

    office_id: str
    name: str
    categories: list[str]
    ratio_basis_points: int
    # (tier, basis points) as given; a tier named twice or not at all is reported by validate_plan.
    tier_ratios: list[tuple[str, int]]
    inspectors_per_target: int
    seed: str
    due_date: dt.date | None
    # HALF_UP or CEIL, as the plan states it; empty: the bureau's policy in force on the day.
    rounding: str = ""


@dataclass(frozen=True)
class PlanView:
    """A drawn plan with how many of its inspections are completed."""

    plan: Plan
    completed_count: int


@dataclass(frozen=True)
class Verification:
    """Whether a plan's stored targets are what its published seed and snapshots draw (公开可验证)."""

    plan_id: str
    matches: bool
    entity_snapshot_intact: bool
    officer_snapshot_intact: bool
    targets_checked: int
    mismatch: str
    # How the plan's number of targets follows from its ratio (None when the snapshots are unreadable).
    quota: draw.Quota | None = None


@dataclass(frozen=True)
class ConflictFilter:
    """Which declared conflicts of interest a listing shows; None matches any."""

    officer_id: str | None = None
    entity_id: str | None = None


def quota_of(plan: Plan, sizes: Mapping[str, int]) -> draw.Quota:
    """How many targets the plan draws per group from a snapshot of these sizes, by its rounding rule."""
    return draw.plan_quota(sizes, ratios_of(plan), plan.rounding, _uniform(plan))


def _uniform(plan: Plan) -> int:
    # Plans drawn before the whole-plan rule were drawn from per-tier ratios, even a uniform one.
    return plan.ratio_basis_points if plan.rounding != draw.PER_GROUP_CEIL else 0


def ratios_of(plan: Plan) -> dict[str, int]:
    """The plan's drawing ratio per risk tier, in basis points."""
    if plan.ratio_basis_points:
        return {tier: plan.ratio_basis_points for tier in RISK_LEVELS}
    return dict(plan.tier_ratios)


def validate_plan(data: PlanInput, today: dt.date, minimum_officers: int) -> PlanInput:
    """The plan as it will be drawn (a seed chosen when none is given), or every problem with it."""
    violations = Violations()
    if not data.office_id.strip():
        violations.add("plan.office_id", "must not be empty")
    if not data.name.strip():
        violations.add("plan.name", "must not be empty")
    elif len(data.name) > MAX_NAME:
        violations.add("plan.name", f"at most {MAX_NAME} characters")
    for index, category in enumerate(data.categories):
        if category not in CATEGORIES:
            violations.add(f"plan.categories[{index}]", f"must be one of the 12 key object types: "
                                                        f"{', '.join(CATEGORIES)}")
        elif category in data.categories[:index]:
            violations.add(f"plan.categories[{index}]", f"{category} is listed twice")
    if bool(data.ratio_basis_points) == bool(data.tier_ratios):
        violations.add("plan.ratio_basis_points", "give one ratio for every tier or tier_ratios, not both")
    if not 0 <= data.ratio_basis_points <= draw.BASIS_POINTS:
        violations.add("plan.ratio_basis_points", f"basis points between 1 and {draw.BASIS_POINTS}")
    tiers = [tier for tier, _ in data.tier_ratios]
    for index, (tier, ratio) in enumerate(data.tier_ratios):
        if tier not in RISK_LEVELS:
            violations.add(f"plan.tier_ratios[{index}].risk_level", f"must be one of {', '.join(RISK_LEVELS)}")
        elif tier in tiers[:index]:
            violations.add(f"plan.tier_ratios[{index}].risk_level", f"{tier} is given twice")
        if not 0 <= ratio <= draw.BASIS_POINTS:
            violations.add(f"plan.tier_ratios[{index}].ratio_basis_points",
                           f"basis points between 0 and {draw.BASIS_POINTS}")
    per_target = data.inspectors_per_target or minimum_officers
    if not minimum_officers <= per_target <= MAX_TEAM:
        violations.add("plan.inspectors_per_target",
                       f"each target gets between {minimum_officers} and {MAX_TEAM} inspectors")
    if len(data.seed) > MAX_SEED or not data.seed.isprintable():
        violations.add("plan.seed", f"printable text of at most {MAX_SEED} characters")
    if data.rounding and data.rounding not in draw.ROUNDING_RULES:
        violations.add("plan.rounding", f"must be one of {', '.join(draw.ROUNDING_RULES)}")
    if data.due_date is not None and data.due_date < today:
        violations.add("plan.due_date", f"{data.due_date} is in the past (today is {today})")
    violations.raise_if_any("invalid plan")
    return PlanInput(data.office_id.strip(), data.name.strip(), list(data.categories), data.ratio_basis_points,
                     list(data.tier_ratios), per_target, data.seed or secrets.token_hex(16), data.due_date,
                     data.rounding or default_rounding(today))


def read_entity_snapshot(session: Session, office_id: str, categories: list[str]) -> EntitySnapshot:
    """The office's entities of the plan's types (none named: every entity, key type or not), per
    group in code order.

    Each group comes back from the database as one string (group_concat / string_agg), so a
    million ids never become a million result rows: a tenth of the time, measured in bench/.
    """
    connection = session.connection()
    base = select(func.aggregate_strings(Entity.uscc, "\n")).where(Entity.office_id == office_id)
    if categories:  # a plan naming types covers those; one naming none, the whole market
        base = base.where(Entity.category.in_(categories))
    queries = {draw.KEY: base.where(Entity.key_supervision.is_(True))}
    queries |= {tier: base.where(Entity.key_supervision.is_(False), Entity.risk_level == tier) for tier in RISK_LEVELS}
    groups: dict[str, list[str]] = {}
    for group, query in queries.items():
        joined = connection.execute(query).scalar()
        ids = joined.split("\n") if joined else []
        ids.sort()  # the canonical order is code point order, whatever the database returned
        groups[group] = ids
    return EntitySnapshot(groups)


def read_roster(session: Session, office_id: str, day: dt.date) -> OfficerRoster:
    """The office's officers as the draw sees them on `day`: certified or not, and their conflicts."""
    officers = list(session.scalars(select(Officer).where(Officer.office_id == office_id)))
    conflicts: dict[str, list[str]] = {}
    for officer_id, entity_id in session.execute(select(Conflict.officer_id, Conflict.entity_id)
                                                 .where(Conflict.officer_id.in_([o.id for o in officers]))):
        conflicts.setdefault(officer_id, []).append(entity_id)
    return draw.officer_roster(RosterEntry(o.id, certified_on(o, day), tuple(conflicts.get(o.id, ())))
                               for o in officers)


class SpotChecks:
    """Random spot checks (双随机、一公开): drawing plans, their targets, verification, conflicts of interest."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    # ------------------------------------------------------------------ plans

    def draw_plan(self, caller: Caller, request_id: str, data: PlanInput) -> PlanView:
        """Draws a plan from the office's directories and schedules its inspections (once per request id)."""
        today = self.workspace.today()
        data = validate_plan(data, today, self.workspace.rules.in_force(today).minimum_officers)
        require_write(caller, data.office_id)
        with self.workspace.store.read() as session:
            # A retry returns the first draw without reading a million entities again.
            first = earlier_result(session, RequestKey, request_id, "DrawPlan")
            if first is not None:
                return self._view(session, first)
            get_office(session, data.office_id)
            entities = read_entity_snapshot(session, data.office_id, data.categories)
            roster = read_roster(session, data.office_id, today)
        entity_text, roster_text = entities.canonical(), roster.canonical()
        ratios = {tier: data.ratio_basis_points for tier in RISK_LEVELS} if data.ratio_basis_points \
            else dict(data.tier_ratios)
        targets = draw.draw(data.seed, entities, roster, ratios, data.inspectors_per_target, data.rounding,
                            data.ratio_basis_points)

        def create(session: Session) -> str:
            return self._store_plan(session, data, today, entities, roster, entity_text, roster_text, targets)

        return run_once(self.workspace.store, RequestKey, request_id, "DrawPlan", create, self._view)

    def _store_plan(self, session: Session, data: PlanInput, today: dt.date, entities: EntitySnapshot,
                    roster: OfficerRoster, entity_text: str, roster_text: str, targets: list[Target]) -> str:
        now = self.workspace.now()
        plan = Plan(id=str(uuid.uuid4()), office_id=data.office_id, name=data.name, categories=data.categories,
                    ratio_basis_points=data.ratio_basis_points, tier_ratios=dict(data.tier_ratios),
                    inspectors_per_target=data.inspectors_per_target, seed=data.seed, drawn_on=today,
                    due_date=data.due_date, entity_digest=draw.digest(entity_text),
                    officer_digest=draw.digest(roster_text), population_count=entities.population,
                    key_object_count=len(entities.groups[draw.KEY]),
                    eligible_inspector_count=sum(1 for o in roster.officers if o.certified),
                    target_count=len(targets), rounding=data.rounding, created_at=now)
        session.add(plan)
        session.add_all([PlanSnapshot(plan_id=plan.id, kind=ENTITIES, content=zlib.compress(entity_text.encode(), 1)),
                         PlanSnapshot(plan_id=plan.id, kind=OFFICERS, content=zlib.compress(roster_text.encode(), 1))])
        session.flush()
        shared = {"office_id": plan.office_id, "kind": SPOT_CHECK, "source_ref": "", "plan_id": plan.id,
                  "inspector_ids": "", "state": PLANNED, "due_date": plan.due_date, "location_address": "",
                  "checklist_category": "", "summary": "", "rectification_overdue": False,
                  "publication_overdue": False, "created_at": now, "trail_head": GENESIS, "version": 1}
        varying = ("id", "entity_id", "plan_position", "assigned_officer_ids")
        # A mapped class's __table__ is typed as any FromClause; a declarative model's is its Table.
        _insert_many(session, cast(Table, Inspection.__table__), shared, varying,
                     [(f"{plan.id}-{position}", target.entity_id, position, join_ids(target.inspector_ids))
                      for position, target in enumerate(targets, start=1)])
        self.workspace.events.record(session, published.plan_drawn(plan), aggregate_type="plan",
                                     aggregate_id=plan.id, version=1, office_id=plan.office_id)
        self.workspace.touched(session, [plan.office_id])
        return plan.id

    def get_plan(self, caller: Caller, plan_id: str) -> PlanView:
        """One plan, to a caller who may read its office."""
        with self.workspace.store.read() as session:
            view = self._view(session, plan_id)
        require_read(caller, view.plan.office_id)
        return view

    def list_plans(self, caller: Caller, page: Page, office_id: str | None) -> ListResult[PlanView]:
        """A page of the plans the caller may read, by id."""
        scope = office_scope(caller, office_id)
        query = select(Plan).where(Plan.id > page.after).order_by(Plan.id).limit(page.size)
        if scope:
            query = query.where(Plan.office_id == scope)
        with self.workspace.store.read() as session:
            plans = list(session.scalars(query))
            done = dict(session.execute(
                select(Inspection.plan_id, func.count()).where(Inspection.plan_id.in_([p.id for p in plans]),
                                                               Inspection.state == COMPLETED)
                .group_by(Inspection.plan_id)).all())
        return ListResult([PlanView(p, done.get(p.id, 0)) for p in plans],
                          next_token(plans[-1].id if plans else None, len(plans), page))

    def list_targets(self, caller: Caller, plan_id: str, page: Page) -> ListResult[Inspection]:
        """A page of a plan's targets in draw order: the inspections it scheduled."""
        after = _position(page.after)
        with self.workspace.store.read() as session:
            plan = _get_plan(session, plan_id)
            require_read(caller, plan.office_id)
            rows = list(session.scalars(select(Inspection).where(Inspection.plan_id == plan.id,
                                                                 Inspection.plan_position > after)
                                        .order_by(Inspection.plan_position).limit(page.size)))
        last = f"{rows[-1].plan_position:09d}" if rows else None
        return ListResult(rows, next_token(last, len(rows), page))

    def _view(self, session: Session, plan_id: str) -> PlanView:
        plan = _get_plan(session, plan_id)
        done = session.scalar(select(func.count()).select_from(Inspection)
                              .where(Inspection.plan_id == plan.id, Inspection.state == COMPLETED))
        return PlanView(plan, int(done or 0))

    # ------------------------------------------------------------------ verification

    def verify(self, caller: Caller, plan_id: str) -> Verification:
        """Draws the plan again from its stored snapshots and compares every target."""
        with self.workspace.store.read() as session:
            plan = _get_plan(session, plan_id)
            require_read(caller, plan.office_id)
            entity_text = self._readable_snapshot(session, plan.id, ENTITIES)
            roster_text = self._readable_snapshot(session, plan.id, OFFICERS)
            stored = session.execute(select(Inspection.entity_id, Inspection.assigned_officer_ids)
                                     .where(Inspection.plan_id == plan.id).order_by(Inspection.plan_position)).all()
        entity_intact = entity_text is not None and draw.digest(entity_text) == plan.entity_digest
        roster_intact = roster_text is not None and draw.digest(roster_text) == plan.officer_digest

        quota: draw.Quota | None = None

        def result(matches: bool, checked: int, mismatch: str) -> Verification:
            return Verification(plan.id, matches, entity_intact, roster_intact, checked, mismatch, quota)

        if entity_text is None or roster_text is None or not (entity_intact and roster_intact):
            return result(False, 0, "a stored snapshot no longer has the digest published with the plan")
        try:
            snapshot = draw.parse_entities(entity_text)
            quota = quota_of(plan, {group: len(ids) for group, ids in snapshot.groups.items()})
            targets = draw.draw(plan.seed, snapshot, draw.parse_officers(roster_text),
                                ratios_of(plan), plan.inspectors_per_target, plan.rounding, _uniform(plan))
        except (draw.SnapshotFormatError, DomainError) as exc:
            return result(False, 0, f"the snapshots cannot be drawn from: {exc}")
        for position, (target, (entity_id, officers)) in enumerate(zip(targets, stored, strict=False), start=1):
            if (target.entity_id, join_ids(target.inspector_ids)) != (entity_id, officers):
                return result(False, position - 1,
                              f"target {position}: the plan holds {entity_id} with {officers or 'nobody'}, the draw "
                              f"gives {target.entity_id} with {join_ids(target.inspector_ids)}")
        if len(targets) != len(stored):
            return result(False, min(len(targets), len(stored)),
                          f"the plan holds {len(stored)} targets, the draw gives {len(targets)}")
        return result(True, len(targets), "")

    def export_snapshot(self, caller: Caller, plan_id: str, kind: str) -> Iterator[bytes]:
        """A plan's published snapshot text, in chunks, for anyone to draw the plan again."""
        with self.workspace.store.read() as session:
            plan = _get_plan(session, plan_id)
            require_read(caller, plan.office_id)
            content = self._snapshot_text(session, plan.id, kind).encode("utf-8")
        for start in range(0, len(content), CHUNK_BYTES):
            yield content[start:start + CHUNK_BYTES]

    @staticmethod
    def _snapshot_text(session: Session, plan_id: str, kind: str) -> str:
        row = session.get(PlanSnapshot, (plan_id, kind))
        if row is None:
            raise NotFound(f"plan {plan_id} has no {kind.lower()} snapshot")
        try:
            return zlib.decompress(row.content).decode("utf-8")
        except (zlib.error, UnicodeDecodeError):
            raise FailedPrecondition(f"the stored {kind.lower()} snapshot of plan {plan_id} is damaged") from None

    def _readable_snapshot(self, session: Session, plan_id: str, kind: str) -> str | None:
        try:
            return self._snapshot_text(session, plan_id, kind)
        except FailedPrecondition:
            return None

    # ------------------------------------------------------------------ conflicts of interest

    def declare_conflict(self, caller: Caller, request_id: str, officer_id: str, entity_id: str,
                         reason: str) -> Conflict:
        """Records an officer's declared conflict of interest (回避) with an entity (once per request id)."""
        violations = Violations()
        if not officer_id.strip():
            violations.add("conflict.officer_id", "must not be empty")
        if not entity_id.strip():
            violations.add("conflict.entity_id", "must not be empty")
        if not reason.strip():
            violations.add("conflict.reason", "say what the interest or relationship is")
        elif len(reason) > MAX_REASON:
            violations.add("conflict.reason", f"at most {MAX_REASON} characters")
        violations.raise_if_any("invalid conflict")

        def create(session: Session) -> str:
            officer = session.get(Officer, officer_id.strip())
            if officer is None:
                raise NotFound(f"officer {officer_id!r} not found")
            require_write(caller, officer.office_id)
            entity = get_entity(session, entity_id)
            if session.get(Conflict, (officer.id, entity.uscc)) is not None:
                raise AlreadyExists(f"officer {officer.id} already declared a conflict with {entity.uscc}")
            session.add(Conflict(officer_id=officer.id, entity_id=entity.uscc, reason=reason.strip(),
                                 declared_by=caller.subject, created_at=self.workspace.now()))
            return f"{officer.id}/{entity.uscc}"

        def load(session: Session, key: str) -> Conflict:
            officer, entity = key.split("/", 1)
            conflict = session.get(Conflict, (officer, entity))
            if conflict is None:  # the request key names a conflict: only a damaged store lacks it
                raise NotFound(f"conflict {key!r} not found")
            return conflict

        return run_once(self.workspace.store, RequestKey, request_id, "DeclareConflict", create, load)

    def list_conflicts(self, caller: Caller, page: Page, where: ConflictFilter) -> ListResult[Conflict]:
        """A page of the declared conflicts of the officers the caller may read."""
        scope = office_scope(caller, None)
        # One key for the comparison and the order, so pages agree under any database collation.
        key = Conflict.officer_id + " " + Conflict.entity_id
        query = select(Conflict).where(key > page.after).order_by(key)
        if scope:
            query = query.where(Conflict.officer_id.in_(select(Officer.id).where(Officer.office_id == scope)))
        if where.officer_id:
            query = query.where(Conflict.officer_id == where.officer_id)
        if where.entity_id:
            query = query.where(Conflict.entity_id == where.entity_id)
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query.limit(page.size)))
        last = f"{rows[-1].officer_id} {rows[-1].entity_id}" if rows else None
        return ListResult(rows, next_token(last, len(rows), page))


def _insert_many(session: Session, table: Table, shared: Mapping[str, object], columns: tuple[str, ...],
                 rows: Sequence[tuple[object, ...]]) -> None:
    """One executemany on the driver, in the caller's transaction: the rows all carry `shared`.

    SQLAlchemy processes every parameter of every row; for the tens of thousands of inspections a
    large plan schedules, that took longer than the inserts themselves (bench/: 1.0 s against 0.5 s
    on SQLite, 2.9 s against 1.6 s on PostgreSQL). Here the shared values are converted once, with
    the column types' own bind processors, and the varying ones are plain strings and integers.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    statement = table.insert().values({name: bindparam(name) for name in (*shared, *columns)})
    compiled = statement.compile(dialect=dialect)
    fixed: dict[str, object] = {}
    for name, value in shared.items():
        processor = table.c[name].type.bind_processor(dialect)
        fixed[name] = processor(value) if processor else value
    if compiled.positional:
        # Per placeholder: the shared value (position -1), or the position of the row's value.
        slots = [(fixed[name], -1) if name in fixed else (None, columns.index(name))
                 for name in compiled.positiontup or ()]
        connection.exec_driver_sql(compiled.string, [tuple(value if position < 0 else row[position]
                                                           for value, position in slots) for row in rows])
    else:
        connection.exec_driver_sql(compiled.string,
                                   [{**fixed, **dict(zip(columns, row, strict=True))} for row in rows])


def _get_plan(session: Session, plan_id: str) -> Plan:
    plan = session.get(Plan, plan_id) if plan_id else None
    if plan is None:
        raise NotFound(f"plan {plan_id!r} not found")
    return plan


def _position(after: str) -> int:
    if not after:
        return 0
    if not after.isdigit():
        raise InvalidArgument.of("page_token", "is not a token of this list")
    return int(after)
