"""The demo district's assessment, loaded by `make run` into an empty store (never over existing
data; an interrupted load is finished by the next run, services.common.demo), after
command_center's offices and officers have arrived through the bus: three past quarters'
indicator values as they stood at each quarter's end, each quarter closed in turn with rankings
and improvement plans (an earlier quarter's plans verified at the next close), and for the last
quarter the evidence of the officers' work, the plans worked on and the officers' grades.

The services started today, so they hold no history for a past quarter: the demo writes that
history itself, through the same storage as IndicatorsChanged, at versions 0 (the last quarter),
-1 and -2 (the two before), older than anything a service publishes. The values are drawn so
that the offices stand at different stages of the scheme's ladder (规范 / 推进 / 提升): each
office follows a path of how many stages' targets each quarter's values meet (OFFICE_PATHS),
the values drawn until the scheme's own scoring puts the quarter there. The stages themselves
are then judged by the service from the closed periods, as for any district.
"""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select, update

from services.assessment.domain import evidence, grading, history, periods
from services.assessment.domain.improvement import OPEN, ImprovementPlans, PlanChange
from services.assessment.domain.schemes import Schemes
from services.assessment.domain.scores import Scores
from services.assessment.domain.staff import StaffAssessments
from services.assessment.domain.stage_ladder import StageLadder
from services.assessment.domain.stages import PeriodResult, misses
from services.assessment.domain.workload import ENTITIES_SUPERVISED
from services.assessment.domain.workspace import Workspace
from services.assessment.models import DemoLoad, ImprovementPlan, Office, Officer, Period
from services.common.context import SYSTEM_CALLER
from services.common.contracts import timestamp_of
from services.common.demo import DemoOutcome, run_demo
from services.common.indicators import Reading, reading_message
from services.common.scoring import Scheme, score_office
from supervision.common.v1.events_pb2 import IndicatorsChanged
from supervision.common.v1.indicators_pb2 import IndicatorValue

DEMO_VERSION = 0  # the last quarter's; each quarter before it one lower
QUARTERS = 3  # closed in the demo: enough for the ladder's longest run (提升, three quarters)
# How many of the ladder's stages each quarter's values meet, oldest quarter first: the offices
# end at every stage (MH01 and MH07 at 提升, MH08, MH12 and MH14 below 规范), and some lack only
# the run (MH04 met 提升's targets twice, MH05 推进's once).
OFFICE_PATHS = {
    "MH01": (3, 3, 3), "MH02": (1, 2, 2), "MH03": (0, 1, 1), "MH04": (2, 3, 3), "MH05": (1, 1, 2),
    "MH06": (2, 2, 1), "MH07": (3, 3, 3), "MH08": (1, 1, 0), "MH09": (2, 2, 2), "MH10": (1, 0, 1),
    "MH11": (3, 2, 2), "MH12": (0, 0, 0), "MH13": (1, 1, 1), "MH14": (2, 1, 0),
}
OTHER_OFFICES_PATH = (1, 1, 1)  # an office the demo's data does not know
# An office's strength by the stages a quarter meets: how often it meets an indicator's target.
STRENGTH = {0: 0.7, 1: 0.82, 2: 0.92, 3: 1.0}
DRAWS = 400  # values drawn at most per office and quarter before keeping the nearest
PER_TARGET_DENOMINATORS = {"facilities.rapid_tests_per_week": 20, "emergency.drills_per_year": 2}
# Offices without incidents in the quarter: their emergency figures are missing, not zero.
SOMETIMES_WITHOUT_DATA = ("emergency.report_within_limit", "emergency.onsite_within_target",
                          "mobile_enforcement.case_filing_on_time")
TITLES = {
    evidence.TASK: ["督办：农贸市场整治回头看", "督办：校园周边食品安全专项检查", "督办：电梯维保专项检查"],
    evidence.INSPECTION: ["超市日常监督检查", "餐饮服务单位检查", "药店专项检查", "农贸市场巡查"],
    evidence.COMPLAINT: ["预付卡退费投诉", "食品质量投诉", "价格欺诈举报"],
    evidence.CASE: ["销售过期食品案", "虚假宣传案", "无照经营案"],
}
# The work each group does most: (kind, items per officer in the quarter).
WORK_OF_GROUP = {
    "GENERAL": [(evidence.TASK, 6)],
    "SUPERVISION": [(evidence.INSPECTION, 22), (evidence.TASK, 2)],
    "CASE_HANDLING": [(evidence.CASE, 6), (evidence.INSPECTION, 4)],
    "COMPLAINT_HANDLING": [(evidence.COMPLAINT, 12), (evidence.TASK, 1)],
}
SOURCE_OF_KIND = {evidence.TASK: "command_center", evidence.INSPECTION: "mobile_enforcement",
                  evidence.COMPLAINT: "complaints", evidence.CASE: "mobile_enforcement"}
ACTIONS = "对照指标逐项排查原因，建立台账，明确责任人和完成时限，每周调度进展"


def load_demo(workspace: Workspace, schemes: Schemes, scores: Scores, plans: ImprovementPlans,
              staff: StaffAssessments) -> DemoOutcome:
    """Loads the demo's closed quarter into an empty store, or finishes an interrupted load."""
    store = workspace.store

    def is_empty(session) -> bool:
        # Evidence may already be there, from the other services' demo events: a closed period
        # is what says the assessment holds data of its own.
        return session.scalar(select(Period.key).limit(1)) is None

    def missing_offices(session) -> str | None:
        if session.scalar(select(Office.id).limit(1)) is None:
            return "no offices yet (they come from command_center's events): nothing to assess"
        return None

    def load(skipped: list[str]) -> None:
        with store.read() as session:
            offices = list(session.scalars(select(Office.id).order_by(Office.id)))
            officers = list(session.scalars(select(Officer).order_by(Officer.id)))
        staffed = {o.office_id for o in officers}
        skipped.extend(f"office {office_id} has no officers: no officer grades, its improvement plans unplanned"
                       for office_id in offices if office_id not in staffed)
        quarters = [periods.last_ended_quarter(workspace.today())]
        while len(quarters) < QUARTERS:
            quarters.append(periods.last_ended_quarter(quarters[-1].start))
        quarters.reverse()  # oldest first: a period is closed after the one before it
        quarter = quarters[-1]
        with store.read() as session:
            ladder = schemes.in_force(session, workspace.today()).stages
        for back, past in zip(range(QUARTERS - 1, -1, -1), quarters, strict=True):
            # One transaction per quarter, and each record is stored once (by its version or id):
            # safe to repeat.
            with store.transaction() as session:
                scheme = schemes.in_force(session, past.end).scheme
                for office_id in offices:
                    level = OFFICE_PATHS.get(office_id, OTHER_OFFICES_PATH)[QUARTERS - 1 - back]
                    rng = random.Random(f"demo-{office_id}-{back}")
                    _quarter_end_values(workspace, scheme, ladder, session, office_id, past, DEMO_VERSION - back, rng,
                                        level)
                    if back == 0:
                        for officer in (o for o in officers if o.office_id == office_id):
                            _work(session, officer, quarter, rng, STRENGTH[level])
            scores.close_period(SYSTEM_CALLER, f"demo-close-{past.key}", past.key)
        _improve(workspace, plans, offices, officers, quarter)
        _grade(staff, [office_id for office_id in offices if office_id in staffed], quarter)

    return run_demo(store, DemoLoad, is_empty=is_empty, missing_prerequisite=missing_offices, load=load)


def _quarter_end_values(workspace: Workspace, scheme: Scheme, ladder: StageLadder, session, office_id: str,
                        quarter: periods.Period, version: int, rng: random.Random, level: int) -> None:
    """Records the office's values at the quarter's end, drawn until the scheme scores them at
    `level` (how many of the ladder's stages the quarter meets)."""
    readings, nearest = _draw(workspace, scheme, rng, STRENGTH[level]), None
    for _ in range(DRAWS):
        met = _stages_met(scheme, ladder, office_id, quarter, readings)
        if met == level:
            break
        if nearest is None or abs(met - level) < nearest[0]:
            nearest = (abs(met - level), readings)
        readings = _draw(workspace, scheme, rng, STRENGTH[level])
    else:
        readings = nearest[1] if nearest else readings
    as_of = quarter.cutoff - dt.timedelta(hours=2)
    by_source: dict[str, list[IndicatorValue]] = {}
    for key, (numerator, denominator) in readings.items():
        source = workspace.catalogue.indicators[key].source
        by_source.setdefault(source, []).append(reading_message(Reading(office_id, key, numerator, denominator)))
    # The office's supervised population, the workload's entities input: much the same each quarter.
    population = random.Random(f"demo-{office_id}").randint(600, 2400) + rng.randint(-30, 30)
    by_source.setdefault("mobile_enforcement", []).append(
        reading_message(Reading(office_id, ENTITIES_SUPERVISED, population, 1)))
    for source, messages in by_source.items():
        history.record_before_services(session, source, IndicatorsChanged(
            office_id=office_id, version=version, as_of=timestamp_of(as_of), indicators=messages), as_of)


def _draw(workspace: Workspace, scheme: Scheme, rng: random.Random, strength: float) -> dict[str, tuple[int, int]]:
    values = {}
    for rule in scheme.indicators:
        info = workspace.catalogue.indicators[rule.key]
        if rule.key in SOMETIMES_WITHOUT_DATA and rng.random() < 0.35:
            numerator, denominator = 0, 0
        else:
            # A strong office meets most targets; a weak one falls short on more of them.
            shortfall = 0.0 if rng.random() < 1.6 * strength - 0.72 else rng.uniform(0.08, 0.55)
            if info.kind == "per_target":
                denominator = PER_TARGET_DENOMINATORS.get(rule.key, 4)
                numerator = round(denominator * (1 - shortfall) * (1 + rng.choice((0, 0, 0.1))))
            else:
                denominator = rng.randint(8, 60)
                numerator = round(denominator * (1 - shortfall))
        values[rule.key] = (numerator, denominator)
    return values


def _stages_met(scheme: Scheme, ladder: StageLadder, office_id: str, quarter: periods.Period,
                values: dict[str, tuple[int, int]]) -> int:
    """How many of the ladder's stages, from the first, the quarter's values meet on their own."""
    score = score_office(scheme, office_id, {key: (float(n), float(d)) for key, (n, d) in values.items()})
    result = PeriodResult(quarter.key, quarter.start, quarter.end, score.index,
                          {d.key: d.score for d in score.dimensions})
    met = 0
    for stage in ladder.stages:
        if misses(stage, result):
            break
        met += 1
    return met


def _work(session, officer: Officer, quarter: periods.Period, rng: random.Random, strength: float) -> None:
    days = (quarter.end - quarter.start).days
    diligence = strength * rng.uniform(0.6, 1.3)
    for kind, typical in WORK_OF_GROUP.get(officer.group, [(evidence.TASK, 3)]):
        for number in range(round(typical * diligence)):
            on_time = rng.random() < 0.8 + 0.18 * strength
            item = evidence.EvidenceInput(
                kind=kind, source=SOURCE_OF_KIND[kind], reference=f"DEMO-{officer.id}-{kind[:2]}{number:02d}",
                office_id=officer.office_id, occurred_on=quarter.start + dt.timedelta(days=rng.randint(0, days)),
                officer_ids=(officer.id,), on_time=None if kind == evidence.INSPECTION else on_time,
                entity_id=f"DEMO-E-{officer.office_id}-{rng.randint(1, 40):03d}" if kind == evidence.INSPECTION else "",
                title=rng.choice(TITLES[kind]))
            evidence.record(session, item)


def _improve(workspace: Workspace, plans: ImprovementPlans, offices: list[str], officers: list[Officer],
             quarter: periods.Period) -> None:
    """Offices at work on the last quarter's plans (the earlier quarters' were verified when the
    next quarter closed): most planned, some completed, two past their due date. Each step looks
    at the plan first, so a load resumed after an interruption does none twice."""
    today = workspace.today()
    with workspace.store.read() as session:
        rows = list(session.scalars(select(ImprovementPlan).where(ImprovementPlan.period_key == quarter.key)
                                    .order_by(ImprovementPlan.office_id, ImprovementPlan.id)))
    owners = {office_id: next((o.id for o in officers if o.office_id == office_id), "") for office_id in offices}
    overdue = []
    for number, plan in enumerate(rows):
        owner = owners.get(plan.office_id, "")
        if number % 4 == 3 or not owner:
            continue  # not planned yet
        if plan.state == OPEN and not plan.actions:
            plan = plans.update_plan(SYSTEM_CALLER, PlanChange(
                plan.id, ACTIONS, owner, today + dt.timedelta(days=14 + number % 30)), [], 0)
        if number % 4 == 0:
            if plan.state == OPEN:
                plans.complete_plan(SYSTEM_CALLER, plan.id, "已完成整改，相关台账已归档", 0)
        elif len(overdue) < 2:
            overdue.append(plan.id)
    with workspace.store.transaction() as session:
        session.execute(update(ImprovementPlan).where(ImprovementPlan.id.in_(overdue), ImprovementPlan.state == OPEN,
                                                      ImprovementPlan.overdue.is_(False))
                        .values(due_date=today - dt.timedelta(days=3)))
    plans.sweep_overdue()


def _grade(staff: StaffAssessments, offices: list[str], quarter: periods.Period) -> None:
    """Every office with officers proposes; the heads confirm, except one who grades an officer
    differently and one who gives a GOOD beyond the quota, each with a reason. A grade already
    final (an interrupted load) stays as it is."""
    for number, office_id in enumerate(offices):
        proposals = staff.propose_grades(SYSTEM_CALLER, f"demo-grades-{office_id}-{quarter.key}", office_id,
                                         quarter.key)
        changed = False
        for view in proposals.assessments:
            row = view.assessment
            if row.final_grade:
                changed = changed or bool(row.final_reason)
                continue
            grade, reason = row.proposed_grade, ""
            if not changed and number == 1 and grade in (grading.GOOD, grading.FAIRLY_GOOD):
                grade, reason = grading.AVERAGE, "本季度两次督办事项回复不及时，经所务会研究调整"
            elif not changed and number == 2 and grade == grading.FAIRLY_GOOD:
                grade, reason = grading.GOOD, "牵头完成专项整治，群众来信表扬，经所务会研究确定"
            changed = changed or bool(reason)
            staff.finalize_grade(SYSTEM_CALLER, row.officer_id, quarter.key, grade, reason, 0)
