"""The demo district's enforcement work, loaded by `make run` into an empty store (never over data), or
finished after an interrupted load (services.common.demo).

Builds on command_center's demo (its offices and officers arrive as events first): per office a
directory of businesses in all 12 key object types, a few declared conflicts, a drawn spot-check
plan worked part of the way through (inspections planned, in progress and completed with every
outcome), and cases in every state. Records that are late today were made by the same use cases
on a clock set back in time, so their trails are genuine and the sweep finds them overdue.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import select

from services.common.context import SYSTEM_CALLER
from services.common.credit_code import check_character
from services.common.demo import DemoOutcome, run_demo
from services.common.paging import Page
from services.mobile_enforcement.domain.case_rules import LeadInput, PenaltyInput
from services.mobile_enforcement.domain.cases import Cases
from services.mobile_enforcement.domain.directory import certified_on
from services.mobile_enforcement.domain.entity_import import COLUMNS, EntityImport
from services.mobile_enforcement.domain.findings import FindingInput
from services.mobile_enforcement.domain.inspections import Inspections, LocationInput, ScheduleInput
from services.mobile_enforcement.domain.spot_checks import PlanInput, SpotChecks
from services.mobile_enforcement.domain.sweep import DeadlineSweep
from services.mobile_enforcement.domain.vocabulary import (
    ADVICE,
    CASE_LEAD,
    DECIDED,
    FAIL,
    FILED,
    FINE,
    HEARING,
    IN_PROGRESS,
    INDIVIDUAL,
    LEAD,
    ORGANISATION,
    PASS,
    PLANNED,
    RECTIFICATION,
    ROUTINE,
    SOURCE_REFERRAL,
    WARNING,
)
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.models import (
    Case,
    DemoLoad,
    Entity,
    Finding,
    Inspection,
    Office,
    Officer,
    OfficeStreet,
)

HERE = Path(__file__).parent
# Henan's tier ratios of 2021 (docs/domain.md), highest risk first, in basis points.
TIER_RATIOS = [("VERY_HIGH", 3000), ("HIGH", 1000), ("MEDIUM", 200), ("LOW", 100)]
# Risk tiers of a directory: half low, a third medium, the rest high and very high.
RISK_PATTERN = ("LOW", "MEDIUM", "LOW", "HIGH", "LOW", "MEDIUM", "LOW", "MEDIUM", "VERY_HIGH", "LOW", "HIGH", "MEDIUM")
MINHANG = "310112"


def load_demo(workspace: Workspace, importer: EntityImport, spot_checks: SpotChecks, inspections: Inspections,
              cases: Cases, sweep: DeadlineSweep) -> DemoOutcome:
    """Loads the demo's enforcement work into an empty store, or finishes an interrupted load."""

    def is_empty(session) -> bool:
        return session.scalar(select(Entity.uscc).limit(1)) is None

    def missing_offices(session) -> str | None:
        if session.scalar(select(Office.id).limit(1)) is None:
            return "no offices yet (they come from command_center's events): nothing to supervise"
        return None

    def load(skipped: list[str]) -> None:
        with workspace.store.read() as session:
            offices = [(office.id, session.scalar(select(OfficeStreet.street)
                                                  .where(OfficeStreet.office_id == office.id)))
                       for office in session.scalars(select(Office).order_by(Office.id))]
        catalogue = yaml.safe_load((HERE / "businesses.yaml").read_text(encoding="utf-8"))
        # A team is this many certified officers; one more, as one declares a conflict below.
        needed = workspace.rules.in_force(workspace.today()).minimum_officers + 1
        for number, (office_id, town) in enumerate(offices, start=1):
            if town is None:
                skipped.append(f"office {office_id} has no streets: no businesses, inspections or cases for it")
                continue
            importer.run(SYSTEM_CALLER, f"demo-entities-{office_id}", _directory(catalogue, number, town))
            if len(_officers(workspace, office_id)) < needed:
                skipped.append(f"office {office_id} has fewer than {needed} certified officers: "
                               "its businesses only, no spot checks, inspections or cases")
                continue
            _conflicts(workspace, spot_checks, office_id)
            plan = spot_checks.draw_plan(SYSTEM_CALLER, f"demo-plan-{office_id}", PlanInput(
                office_id=office_id, name=f"{workspace.today().year}年度{town}双随机抽查", categories=[],
                ratio_basis_points=0, tier_ratios=TIER_RATIOS, inspectors_per_target=0,
                seed=f"demo-{office_id}-{workspace.today().isoformat()}",
                due_date=workspace.today() + dt.timedelta(days=60)))
            _work_plan(workspace, spot_checks, inspections, plan.plan.id, number)
            _cases(workspace, cases, office_id, number)
            _late_work(workspace, office_id, number)
        sweep.run()

    return run_demo(workspace.store, DemoLoad, is_empty=is_empty, missing_prerequisite=missing_offices, load=load)


def _code(kind: str, office_number: int, sequence: int) -> str:
    first_17 = f"{kind}{MINHANG}MA1{office_number:02d}{sequence:04d}"
    return first_17 + check_character(first_17)


def _directory(catalogue: dict, office_number: int, town: str) -> bytes:
    """A CSV of the office's businesses, the format ImportEntities takes."""
    roads = catalogue["roads"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    sequence = 0
    for category, kind in catalogue["types"].items():
        for index in range(kind["count"]):
            sequence += 1
            road = roads[(sequence + office_number) % len(roads)]
            pattern = kind["names"][index % len(kind["names"])]
            name = pattern.format(town=town, road=road) if "{" in pattern else f"{pattern}（{town}{road}店）"
            if index >= len(kind["names"]):
                name += f"（{index // len(kind['names']) + 1}）"
            risk = RISK_PATTERN[(sequence + office_number) % len(RISK_PATTERN)]
            writer.writerow([_code(kind["code"], office_number, sequence), name, category,
                             f"闵行区{town}{road}{(sequence * 37) % 1800 + 1}号", town, risk,
                             "true" if kind["key"] or (category == "CATERING" and "食堂" in name) else "false"])
    return out.getvalue().encode("utf-8")


def _officers(workspace: Workspace, office_id: str) -> list[str]:
    """The office's officers who may act today, case handlers first."""
    today = workspace.today()
    with workspace.store.read() as session:
        officers = [o for o in session.scalars(select(Officer).where(Officer.office_id == office_id)
                                               .order_by(Officer.group != "CASE_HANDLING", Officer.id))
                    if certified_on(o, today)]
    return [o.id for o in officers]


def _conflicts(workspace: Workspace, spot_checks: SpotChecks, office_id: str) -> None:
    """An officer whose relative runs two of the office's restaurants (回避)."""
    officer = _officers(workspace, office_id)[-1]
    with workspace.store.read() as session:
        restaurants = list(session.scalars(select(Entity.uscc).where(Entity.office_id == office_id,
                                                                     Entity.category == "CATERING")
                                           .order_by(Entity.uscc).limit(2)))
    for entity_id in restaurants:
        spot_checks.declare_conflict(SYSTEM_CALLER, f"demo-conflict-{officer}-{entity_id}", officer, entity_id,
                                     "近亲属经营该餐饮店")


def _results(workspace: Workspace, category: str, failing: str | None, with_evidence: bool) -> list[FindingInput]:
    checklist = workspace.catalog.in_force(category, workspace.today())
    failed = next((item.code for item in checklist.items if item.failure_outcome == failing), None)
    evidence = ["evidence/demo/photo-01.jpg"] if with_evidence else []
    return [FindingInput(item.code, FAIL, "现场发现问题，已拍照取证", evidence) if item.code == failed
            else FindingInput(item.code, PASS) for item in checklist.items]


def _work_plan(workspace: Workspace, spot_checks: SpotChecks, inspections: Inspections, plan_id: str,
               number: int) -> None:
    """Of every seven targets: compliant and published, advised, rectification ordered (some
    confirmed), a case lead, in progress; the last two still planned."""
    targets = spot_checks.list_targets(SYSTEM_CALLER, plan_id, Page(size=1000, after="")).items
    with workspace.store.read() as session:
        categories = dict(session.execute(select(Entity.uscc, Entity.category)
                                          .where(Entity.uscc.in_([t.entity_id for t in targets]))).all())
    today = workspace.today()
    # Each step only from the state before it: a load resumed after an interruption does none twice.
    for index, target in enumerate(targets):
        step = index % 7
        if step >= 5:
            continue
        if _inspection(workspace, target.id).state == PLANNED:
            inspections.start(SYSTEM_CALLER, target.id, target.assigned_officer_ids.split(","),
                              LocationInput(31.11 + number / 200, 121.38 + index / 500, "现场"))
        failing = {0: None, 1: ADVICE, 2: RECTIFICATION, 3: CASE_LEAD, 4: None}[step]
        # At every third office an advised failure lacks its photo: the checklist indicator shows it.
        results = _results(workspace, categories[target.entity_id], failing, bool(number % 3) or step != 1)
        if not _has_findings(workspace, target.id):
            inspections.record_findings(SYSTEM_CALLER, target.id, results[:len(results) // 2] if step == 4 else results)
        if step == 4:
            continue
        due = today + dt.timedelta(days=15) if step == 2 else None
        if _inspection(workspace, target.id).state == IN_PROGRESS:
            inspections.complete(SYSTEM_CALLER, target.id, None, "双随机抽查", due)
        done = _inspection(workspace, target.id)
        if (step in (0, 1) or index % 2) and done.published_at is None:
            inspections.publish(SYSTEM_CALLER, target.id)
        if step == 2 and index % 3 == 0 and done.rectification_confirmed_at is None:
            inspections.confirm_rectification(SYSTEM_CALLER, target.id, "复查已整改到位")


def _inspection(workspace: Workspace, inspection_id: str) -> Inspection:
    with workspace.store.read() as session:
        return session.get(Inspection, inspection_id)


def _has_findings(workspace: Workspace, inspection_id: str) -> bool:
    with workspace.store.read() as session:
        return session.scalar(select(Finding.item_code).where(Finding.inspection_id == inspection_id).limit(1)) \
            is not None


def _case(workspace: Workspace, case_id: str) -> Case:
    with workspace.store.read() as session:
        return session.get(Case, case_id)


def _business(workspace: Workspace, office_id: str, category: str, offset: int) -> str:
    with workspace.store.read() as session:
        return session.scalars(select(Entity.uscc).where(Entity.office_id == office_id, Entity.category == category)
                               .order_by(Entity.uscc).offset(offset).limit(1)).one()


def _lead(cases: Cases, office_id: str, entity_id: str, ref: str, text: str) -> str:
    return cases.open_lead(SYSTEM_CALLER, f"demo-lead-{ref}", LeadInput(
        office_id=office_id, entity_id=entity_id, party_name="", party_uscc="", party_address="",
        source=SOURCE_REFERRAL, source_ref=ref, description=text, received_at=None)).id


def _cases(workspace: Workspace, cases: Cases, office_id: str, number: int) -> None:
    """A referral decided, published and closed; one not filed; one in a hearing; one closed on
    the spot by the simplified procedure; one under investigation; one decided, to be published."""
    team = _officers(workspace, office_id)[:2]
    ref = f"闵市监移〔{workspace.today().year}〕{number:02d}"

    def state(case_id: str) -> Case:
        return _case(workspace, case_id)

    # Each step only from the state before it: a load resumed after an interruption does none twice.
    closed = _lead(cases, office_id, _business(workspace, office_id, "PHARMACY", 0), f"{ref}1号",
                   "区卫健委移送：涉嫌无处方销售处方药")
    if state(closed).state == LEAD:
        cases.file(SYSTEM_CALLER, closed, team)
    if state(closed).state == FILED:
        cases.decide(SYSTEM_CALLER, closed, PenaltyInput(FINE, ORGANISATION, Decimal(5000 + number * 500), False),
                     "罚款")
    if state(closed).state == DECIDED and state(closed).published_at is None:
        cases.publish(SYSTEM_CALLER, closed)
    if state(closed).state == DECIDED:
        cases.close(SYSTEM_CALLER, closed, "罚款已缴清")
    declined = _lead(cases, office_id, _business(workspace, office_id, "REAL_ESTATE_AGENCY", 0), f"{ref}2号",
                     "群众来信：房源广告涉嫌虚假宣传")
    if state(declined).state == LEAD:
        cases.decline(SYSTEM_CALLER, declined, "经核查，房源信息真实，违法事实不成立")
    hearing = _lead(cases, office_id, _business(workspace, office_id, "PROPERTY_MANAGEMENT", 0), f"{ref}3号",
                    "业主反映：物业超标准收取停车费")
    if state(hearing).state == LEAD:
        cases.file(SYSTEM_CALLER, hearing, team)
    if state(hearing).paused_for is None:
        cases.pause(SYSTEM_CALLER, hearing, HEARING, "当事人申请听证")
    on_the_spot = _lead(cases, office_id, _business(workspace, office_id, "CONVENIENCE_STORE", 0), f"{ref}4号",
                        "巡查发现：价签与结算价格不一致")
    if state(on_the_spot).state == LEAD:
        cases.decide(SYSTEM_CALLER, on_the_spot, PenaltyInput(WARNING if number % 2 else FINE, INDIVIDUAL,
                                                              None if number % 2 else Decimal(200), True), "当场处罚")
    investigating = _lead(cases, office_id, _business(workspace, office_id, "OPTICAL_SHOP", 0), f"{ref}5号",
                          "计量检定机构移送：验光仪超期未检定")
    if state(investigating).state == LEAD:
        cases.file(SYSTEM_CALLER, investigating, team)
    decided = _lead(cases, office_id, _business(workspace, office_id, "CATERING", 5), f"{ref}6号",
                    "专项检查发现：使用超过保质期的食品原料")
    if state(decided).state == LEAD:
        cases.file(SYSTEM_CALLER, decided, team)
    if state(decided).state == FILED:
        cases.decide(SYSTEM_CALLER, decided, PenaltyInput(FINE, INDIVIDUAL, Decimal(50000), False),
                     "没收违法所得并处罚款")


def _late_work(workspace: Workspace, office_id: str, number: int) -> None:
    """Work begun on a clock set back in time, left as it would be: a lead past its filing limit,
    a case past its decision limit, a rectification past due and a result not published."""
    if number % 2:
        return
    for days, build in ((40, _stale_lead), (100, _stale_case), (35, _stale_inspection)):
        past = Workspace(workspace.store, workspace.rules, workspace.catalog, workspace.calendar,
                         lambda days=days: workspace.today() - dt.timedelta(days=days),
                         lambda days=days: workspace.now() - dt.timedelta(days=days), workspace.trail_keys)
        build(past, office_id, number)


def _stale_lead(past: Workspace, office_id: str, number: int) -> None:
    _lead(Cases(past), office_id, _business(past, office_id, "BEAUTY_SALON", 0), f"闵市监移〔旧〕{number:02d}1号",
          "举报：美容院宣称产品具有医疗作用")


def _stale_case(past: Workspace, office_id: str, number: int) -> None:
    cases = Cases(past)
    case_id = _lead(cases, office_id, _business(past, office_id, "SUPERMARKET", 0), f"闵市监移〔旧〕{number:02d}2号",
                    "抽检不合格：散装食品未标明生产日期")
    if _case(past, case_id).state == LEAD:
        cases.file(SYSTEM_CALLER, case_id, _officers(past, office_id)[:2])


def _stale_inspection(past: Workspace, office_id: str, number: int) -> None:
    inspections = Inspections(past)
    entity_id = _business(past, office_id, "WET_MARKET", 0)
    view = inspections.schedule(SYSTEM_CALLER, f"demo-routine-{office_id}", ScheduleInput(entity_id, ROUTINE, "", None))
    inspection_id = view.inspection.id
    if _inspection(past, inspection_id).state == PLANNED:
        inspections.start(SYSTEM_CALLER, inspection_id, _officers(past, office_id)[:2],
                          LocationInput(31.05 + number / 300, 121.42, "日常检查"))
    if not _has_findings(past, inspection_id):
        inspections.record_findings(SYSTEM_CALLER, inspection_id, _results(past, "WET_MARKET", RECTIFICATION, True))
    if _inspection(past, inspection_id).state == IN_PROGRESS:
        inspections.complete(SYSTEM_CALLER, inspection_id, None, "日常监督检查", past.today() + dt.timedelta(days=20))

