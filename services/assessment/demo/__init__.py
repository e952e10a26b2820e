"""The demo district's assessment, loaded by `make run` into an empty store (never over existing
data; an interrupted load is finished by the next run, services.common.demo), after
command_center's offices and officers have arrived through the bus: the last
quarter's evidence of the officers' work, the indicator values as they stood at its end, the
quarter closed with rankings and improvement plans, and the officers' grades for it.

The services started today, so they hold no history for a past quarter: the demo writes that
history itself (as version 0 of each office's indicators, older than anything a service
publishes) through the same function that records IndicatorsChanged.
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
from services.assessment.domain.workload import ENTITIES_SUPERVISED
from services.assessment.domain.workspace import Workspace
from services.assessment.models import DemoLoad, ImprovementPlan, Office, Officer, Period
from services.common.context import SYSTEM_CALLER
from services.common.contracts import timestamp_of
from services.common.demo import DemoOutcome, run_demo
from services.common.indicators import Reading, reading_message
from supervision.common.v1.events_pb2 import IndicatorsChanged
from supervision.common.v1.indicators_pb2 import IndicatorValue

DEMO_VERSION = 0
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
        quarter = periods.last_ended_quarter(workspace.today())
        # One transaction, and each record is stored once (by its version or id): safe to repeat.
        with store.transaction() as session:
            for office_id in offices:
                rng = random.Random(f"demo-{office_id}")
                strength = 0.7 + 0.3 * rng.random()
                _quarter_end_values(workspace, schemes, session, office_id, quarter, rng, strength)
                for officer in (o for o in officers if o.office_id == office_id):
                    _work(session, officer, quarter, rng, strength)
        scores.close_period(SYSTEM_CALLER, f"demo-close-{quarter.key}", quarter.key)
        _improve(workspace, plans, offices, officers)
        _grade(staff, [office_id for office_id in offices if office_id in staffed], quarter)

    return run_demo(store, DemoLoad, is_empty=is_empty, missing_prerequisite=missing_offices, load=load)


def _quarter_end_values(workspace: Workspace, schemes: Schemes, session, office_id: str, quarter: periods.Period,
                        rng: random.Random, strength: float) -> None:
    scheme = schemes.in_force(session, quarter.end).scheme
    as_of = quarter.cutoff - dt.timedelta(hours=2)
    by_source: dict[str, list[IndicatorValue]] = {}
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
        by_source.setdefault(info.source, []).append(
            reading_message(Reading(office_id, rule.key, numerator, denominator)))
    # The office's supervised population, the workload's entities input.
    by_source.setdefault("mobile_enforcement", []).append(
        reading_message(Reading(office_id, ENTITIES_SUPERVISED, rng.randint(600, 2400), 1)))
    for source, readings in by_source.items():
        history.record(session, source, IndicatorsChanged(office_id=office_id, version=DEMO_VERSION,
                                                          as_of=timestamp_of(as_of), indicators=readings), as_of)


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


def _improve(workspace: Workspace, plans: ImprovementPlans, offices: list[str], officers: list[Officer]) -> None:
    """Offices at work on their plans: most planned, some completed, two past their due date.
    Each step looks at the plan first, so a load resumed after an interruption does none twice."""
    today = workspace.today()
    with workspace.store.read() as session:
        rows = list(session.scalars(select(ImprovementPlan).order_by(ImprovementPlan.office_id, ImprovementPlan.id)))
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
