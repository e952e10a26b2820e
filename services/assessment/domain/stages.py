"""The three stages of an office's standardization (规范 -> 推进 -> 提升): the ladder the scheme
names with each stage's targets, and an office's stage judged from its closed period scores.

A stage is held when every one of its targets (a minimum index, a minimum score in every
dimension) is met in each of the office's latest `consecutive_periods` closed periods of the
ladder's kind, those periods following one another in the calendar (a period the bureau never
closed breaks the run). Stages are cumulative: an office is at the highest stage it holds
together with every stage below it. The index is the plain standardization index, without the
workload coefficient: a stage is a standard met, not a place in a ranking. A dimension without
data in a period is not held against the office, as the index itself leaves it out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.assessment.domain.schemes import Schemes
from services.assessment.domain.stage_ladder import Stage, StageLadder
from services.assessment.domain.workspace import Workspace
from services.assessment.models import Office, Period, PeriodScore
from services.common.access import office_scope, require_read
from services.common.context import Caller
from services.common.errors import InvalidArgument, NotFound

INDEX, DIMENSION, PERIODS = "index", "dimension", "periods"
OFFICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")


@dataclass(frozen=True)
class PeriodResult:
    """An office's figures in one closed period: its index and its dimensions' scores."""

    period: str
    start: dt.date
    end: dt.date
    index: float | None
    dimensions: Mapping[str, float | None]
    dimension_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Shortfall:
    """One target of the next stage the office misses, and by how much."""

    target: str
    dimension: str
    required: float
    actual: float | None
    period: str
    description: str

    @property
    def shortfall(self) -> float:
        """How far the office is from the target."""
        return self.required - (self.actual or 0.0)


@dataclass(frozen=True)
class StageJudgement:
    """An office's stage (None below the first) and what it lacks for the next (None at the top)."""

    office_id: str
    office_name: str
    stage: Stage | None
    next_stage: Stage | None
    lacks: tuple[Shortfall, ...]
    periods: tuple[str, ...]


def misses(stage: Stage, result: PeriodResult) -> list[Shortfall]:
    """The targets of `stage` that `result` does not meet."""
    found = []
    if result.index is None or result.index < stage.min_index:
        actual = "无数据" if result.index is None else f"{result.index:.1f}"
        found.append(Shortfall(INDEX, "", stage.min_index, result.index, result.period,
                               f"{result.period} 标准化指数 {actual}，{stage.name}阶段需达到 {stage.min_index:g}"))
    for dimension, score in result.dimensions.items():
        minimum = stage.dimension_minimum(dimension)
        if score is not None and score < minimum:
            name = result.dimension_names.get(dimension, dimension)
            found.append(Shortfall(DIMENSION, dimension, minimum, score, result.period,
                                   f"{result.period} 维度 {name} 得分 {score:.1f}，{stage.name}阶段需达到 "
                                   f"{minimum:g}（差 {minimum - score:.1f}）"))
    return found


def held_run(stage: Stage, results: Sequence[PeriodResult]) -> int:
    """How many of the latest periods (newest first), each following the one before it in the
    calendar, meet every target of the stage."""
    run = 0
    for position, result in enumerate(results):
        if position and results[position - 1].start != result.end + dt.timedelta(days=1):
            break
        if misses(stage, result):
            break
        run += 1
    return run


def judge(ladder: StageLadder, office_id: str, office_name: str, results: Sequence[PeriodResult]) -> StageJudgement:
    """The office's stage from its closed periods of the ladder's kind (newest first), and what it
    lacks for the next stage: the next stage's missed targets in the latest period, and the
    periods still to hold them."""
    reached: Stage | None = None
    for stage in ladder.stages:
        if held_run(stage, results) < stage.consecutive_periods:
            break
        reached = stage
    position = ladder.stages.index(reached) + 1 if reached is not None else 0
    upcoming = ladder.stages[position] if position < len(ladder.stages) else None
    lacks: list[Shortfall] = []
    if upcoming is not None:
        if results:
            lacks += misses(upcoming, results[0])
        else:
            lacks.append(Shortfall(INDEX, "", upcoming.min_index, None, "",
                                   f"尚无已结束的考核期，{upcoming.name}阶段需指数达到 {upcoming.min_index:g}"))
        run = held_run(upcoming, results)
        if run < upcoming.consecutive_periods:
            lacks.append(Shortfall(PERIODS, "", upcoming.consecutive_periods, run, "",
                                   f"已连续 {run} 个考核期达标，{upcoming.name}阶段需连续 "
                                   f"{upcoming.consecutive_periods} 个"))
    return StageJudgement(office_id, office_name, reached, upcoming, tuple(lacks),
                          tuple(r.period for r in results))


def period_results(session: Session, kind: str, office_ids: Sequence[str], limit: int) -> dict[str, list[PeriodResult]]:
    """Each office's latest `limit` closed periods of a kind, newest first."""
    recent = list(session.execute(select(Period.key, Period.start_date, Period.end_date, Period.scheme)
                                  .where(Period.kind == kind).order_by(Period.end_date.desc()).limit(limit)))
    results: dict[str, list[PeriodResult]] = {office: [] for office in office_ids}
    if not recent or not office_ids:
        return results
    names = {key: {d["key"]: d.get("name", d["key"]) for d in scheme.get("dimensions", ())}
             for key, _start, _end, scheme in recent}
    scores = {(row.period_key, row.office_id): row for row in session.scalars(
        select(PeriodScore).where(PeriodScore.period_key.in_([key for key, *_ in recent]),
                                  PeriodScore.office_id.in_(office_ids)))}
    for key, start, end, _scheme in recent:
        for office in office_ids:
            row = scores.get((key, office))
            if row is None:  # an office registered after the period closed: the run ends here for it
                continue
            results[office].append(PeriodResult(
                key, start, end, row.index, {d["key"]: d.get("score") for d in row.dimensions}, names[key]))
    return results


class Stages:
    """The offices' stages (规范 / 推进 / 提升) from their closed periods, with what each lacks."""

    def __init__(self, workspace: Workspace, schemes: Schemes):
        self.workspace = workspace
        self.schemes = schemes

    def list_stages(self, caller: Caller, office_id: str) -> tuple[int, list[StageJudgement]]:
        """Every office the caller may see (or one), judged with the stages of the scheme in force
        today; returns the scheme version applied and the judgements."""
        if office_id:
            if not OFFICE_ID.match(office_id):
                raise InvalidArgument.of("office_id", "1-32 letters, digits or '-'")
            require_read(caller, office_id)
        scope = office_id or office_scope(caller, None)
        with self.workspace.store.read() as session:
            record = self.schemes.in_force(session, self.workspace.today())
            ladder = record.stages
            query = select(Office.id, Office.name).order_by(Office.id)
            if scope:
                query = query.where(Office.id == scope)
            offices = list(session.execute(query))
            if office_id and not offices:
                raise NotFound(f"office {office_id!r} not found")
            longest = max(s.consecutive_periods for s in ladder.stages)
            results = period_results(session, ladder.period_kind, [o for o, _ in offices], longest)
        return record.scheme.version, [judge(ladder, office, name, results[office]) for office, name in offices]
