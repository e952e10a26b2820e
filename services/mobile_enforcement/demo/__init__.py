"""The demo district's enforcement work, loaded by `make run` into an empty store (never over data), or
finished after an interrupted load (services.common.demo).

Builds on command_center's demo (its offices and officers arrive as events first): per office a
directory of businesses in all 12 key object types, a few declared conflicts, a drawn spot-check
plan worked part of the way through (inspections planned, in progress and completed with every
outcome), and cases in every state of the penalty procedure. Records that are late today were made by the same use cases
on a clock set back in time, so their trails are genuine and the sweep finds them overdue. One
enforcement document of each kind is issued, so a new user can download one; not one per record (a
document is a tenth of a second to print and a quarter of a megabyte).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import select

from services.common.clock import SHANGHAI
from services.common.context import SYSTEM_CALLER
from services.common.credit_code import check_character
from services.common.demo import DemoOutcome, run_demo
from services.common.errors import FailedPrecondition
from services.common.paging import Page
from services.mobile_enforcement.domain.case_rules import (
    InvestigationInput,
    LeadInput,
    PenaltyInput,
    SanctionInput,
    case_sanctions,
)
from services.mobile_enforcement.domain.cases import Cases
from services.mobile_enforcement.domain.directory import certified_on
from services.mobile_enforcement.domain.document_settings import (
    DELIVERY_RECEIPT,
    FILING_APPROVAL,
    HEARING_NOTICE,
    INSPECTION_RECORD,
    PENALTY_DECISION,
    PENALTY_NOTICE,
    RECTIFICATION_ORDER,
)
from services.mobile_enforcement.domain.documents import Documents
from services.mobile_enforcement.domain.entity_import import COLUMNS, EntityImport
from services.mobile_enforcement.domain.findings import FindingInput
from services.mobile_enforcement.domain.inspections import Inspections, LocationInput, ScheduleInput
from services.mobile_enforcement.domain.spot_checks import PlanInput, SpotChecks
from services.mobile_enforcement.domain.sweep import DeadlineSweep
from services.mobile_enforcement.domain.vocabulary import (
    ADVICE,
    CASE_LEAD,
    CLOSED,
    COMPLETED,
    CONFISCATE_GAINS,
    CONFISCATE_GOODS,
    DECIDED,
    DELIVERED,
    DIRECT,
    EXECUTED,
    FAIL,
    FILED,
    FINE,
    GENERAL,
    IN_HEARING,
    IN_PROGRESS,
    INDIVIDUAL,
    INVESTIGATED,
    LEAD,
    LEGAL_REVIEW,
    NO_PENALTY,
    NOTIFIED,
    ORGANISATION,
    PASS,
    PLANNED,
    PUBLIC_CRITICISM,
    RECTIFICATION,
    RECTIFICATION_ORDERED,
    ROUTINE,
    SOURCE_REFERRAL,
    SUSPEND_PERMIT,
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
# The demo's investigations all find the same kind of facts; what differs is the penalty intended.
FACTS = "经调查，当事人存在上述违法行为，有现场检查笔录、询问笔录、相关票据及照片为证，事实清楚。"
LEGAL_BASIS = "《中华人民共和国行政处罚法》第二十八条及相关法律、法规的规定"
REVIEW_OPINION = "事实清楚，证据确凿，适用依据正确，程序合法，处罚适当"
# More than any case's procedure has steps: a walk that does not arrive is a bug of the demo.
MAX_STEPS = 20


def load_demo(workspace: Workspace, importer: EntityImport, spot_checks: SpotChecks, inspections: Inspections,
              cases: Cases, sweep: DeadlineSweep, documents: Documents) -> DemoOutcome:
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
            imported = importer.run(SYSTEM_CALLER, f"demo-entities-{office_id}", _directory(catalogue, number, town))
            if imported.rejected_rows:  # the demo's own data: a refused row is a bug in it
                raise RuntimeError(f"demo directory of {office_id} refused: {imported.rejected_rows[:3]}")
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
        _documents(workspace, documents, skipped)
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
    writer.writerow([*COLUMNS, "industry_code"])
    sequence = 0
    # The key object types, then the rest of the market (no type, an industry code).
    kinds = [(category, "", kind) for category, kind in catalogue["types"].items()]
    kinds += [("", kind["industry"], kind) for kind in catalogue["market"].values()]
    for category, industry, kind in kinds:
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
                             "true" if kind["key"] or (category == "CATERING" and "食堂" in name) else "false",
                             industry])
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
        results = _results(workspace, categories[target.entity_id] or GENERAL, failing, bool(number % 3) or step != 1)
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


def _fine(yuan: int) -> SanctionInput:
    return SanctionInput(FINE, Decimal(yuan), "", 0)


def _only(kind: str, detail: str = "", days: int = 0) -> SanctionInput:
    return SanctionInput(kind, None, detail, days)


def _penalty(party_kind: str, *sanctions: SanctionInput) -> PenaltyInput:
    return PenaltyInput(party_kind, False, sanctions)


def _walk(workspace: Workspace, cases: Cases, case_id: str, team: list[str], proposed: PenaltyInput, until: str,
          *, hearing: bool = False, publish: bool = True) -> None:
    """Takes a case through the ordinary procedure until it is in `until`, each step only from the
    state before it (a load resumed after an interruption does none twice): filed, concluded with
    `proposed`, reviewed by an officer off the team and discussed when required, notified; then the
    party either waives the statement period or (`hearing`) asks for a hearing, which is scheduled
    and, being days ahead, left waiting; decided as notified, published (`publish`), delivered,
    executed (the fine paid with the surcharge owed that day) and closed."""
    reviewer = _officers(workspace, _case(workspace, case_id).office_id)[len(team)]
    for _ in range(MAX_STEPS):
        case = _case(workspace, case_id)
        if case.state == DECIDED and publish and case.publication_due is not None and case.published_at is None:
            cases.publish(SYSTEM_CALLER, case_id)
            continue
        if case.state == until and not (until == IN_HEARING and case.hearing_at is None):
            return
        _step(workspace, cases, case, team, reviewer, proposed, hearing)
    raise AssertionError(f"demo case {case_id} did not reach {until}")  # a bug of the demo, not of the data


def _step(workspace: Workspace, cases: Cases, case: Case, team: list[str], reviewer: str, proposed: PenaltyInput,
          hearing: bool) -> None:
    """The one next step of the procedure from the case's state."""
    today = workspace.today()
    if case.state == LEAD:
        cases.file(SYSTEM_CALLER, case.id, team)
    elif case.state == FILED:
        cases.conclude_investigation(SYSTEM_CALLER, case.id, InvestigationInput(FACTS, LEGAL_BASIS, proposed))
    elif case.state == INVESTIGATED and case.legal_review_required and case.legal_reviewed_on is None:
        cases.submit_for_legal_review(SYSTEM_CALLER, case.id)
    elif case.state == LEGAL_REVIEW:
        cases.record_legal_review(SYSTEM_CALLER, case.id, reviewer, True, REVIEW_OPINION)
    elif case.state == INVESTIGATED and case.collective_discussion_required and case.collective_discussed_on is None:
        cases.record_collective_discussion(SYSTEM_CALLER, case.id, "局务会议集体讨论：参会负责人一致同意拟处罚意见")
    elif case.state == INVESTIGATED:
        cases.issue_advance_notice(SYSTEM_CALLER, case.id)
    elif case.state == NOTIFIED and hearing and case.hearing_requested_on is None:
        cases.request_hearing(SYSTEM_CALLER, case.id)
    elif case.state == NOTIFIED and not case.statement_waived:
        cases.record_statement(SYSTEM_CALLER, case.id, "当事人对违法事实无异议，放弃陈述申辩", True)
    elif case.state == NOTIFIED:
        cases.decide(SYSTEM_CALLER, case.id, proposed, "经调查终结，作出行政处罚决定")
    elif case.state == IN_HEARING:
        rules = workspace.rules.in_force(today)
        day = today + dt.timedelta(days=rules.hearing_notice_days + 3)
        cases.schedule_hearing(SYSTEM_CALLER, case.id, reviewer, dt.datetime.combine(day, dt.time(9, 30), SHANGHAI),
                               "区市场监管局三楼听证室")
    elif case.state == DECIDED:
        cases.record_delivery(SYSTEM_CALLER, case.id, DIRECT)
    elif case.state == DELIVERED and all(s.kind == NO_PENALTY for s in case_sanctions(case)):
        cases.close(SYSTEM_CALLER, case.id, "不予行政处罚决定书已送达，结案")
    elif case.state == DELIVERED:
        fines = [s.amount_yuan for s in case_sanctions(case) if s.kind == FINE and s.amount_yuan is not None]
        paid = fines[0] + cases.surcharge_owed(case, today) if fines else None
        cases.record_execution(SYSTEM_CALLER, case.id, paid, "罚没款已缴入国库，其他处罚已执行完毕")
    elif case.state == EXECUTED:
        cases.close(SYSTEM_CALLER, case.id, "处罚决定已执行完毕，结案")
    else:
        raise AssertionError(f"demo case {case.id} is {case.state}: no step of the procedure from there")


def _cases(workspace: Workspace, cases: Cases, office_id: str, number: int) -> None:
    """Cases of the procedure. Every office: a referral fined, published, executed and closed; one
    not filed; one closed on the spot by the simplified procedure. Odd-numbered offices also: one in
    a scheduled hearing; one decided by the heads' collective discussion, to be published; one under
    legal review; one delivered, its fine not yet due; one decided not to punish, delivered and
    closed. Even-numbered offices: one under investigation; one concluded; one notified, its
    statement period running; one executed. So two offices show every state, and the district's
    load (every step a transaction with its trail record and event) stays that of a few cases an
    office."""
    team = _officers(workspace, office_id)[:2]
    ref = f"闵市监移〔{workspace.today().year}〕{number:02d}"

    def lead(category: str, offset: int, sequence: int, text: str) -> str:
        return _lead(cases, office_id, _business(workspace, office_id, category, offset), f"{ref}{sequence}号", text)

    def walk(case_id: str, proposed: PenaltyInput, until: str, **options: bool) -> None:
        _walk(workspace, cases, case_id, team, proposed, until, **options)

    walk(lead("PHARMACY", 0, 1, "区卫健委移送：涉嫌无处方销售处方药"),
         _penalty(ORGANISATION, _fine(5000 + number * 500)), CLOSED)
    declined = lead("REAL_ESTATE_AGENCY", 0, 2, "群众来信：房源广告涉嫌虚假宣传")
    if _case(workspace, declined).state == LEAD:
        cases.decline(SYSTEM_CALLER, declined, "经核查，房源信息真实，违法事实不成立")
    on_the_spot = lead("CONVENIENCE_STORE", 0, 4, "巡查发现：价签与结算价格不一致")
    if _case(workspace, on_the_spot).state == LEAD:
        cases.decide(SYSTEM_CALLER, on_the_spot, PenaltyInput(INDIVIDUAL, True, (
            _only(WARNING) if number % 2 else _fine(200),)), "当场处罚")
    if number % 2:
        # A large fine for an organisation: legal review, and the party may ask for a hearing.
        walk(lead("PROPERTY_MANAGEMENT", 0, 3, "业主反映：物业超标准收取停车费"),
             _penalty(ORGANISATION, _fine(150_000)), IN_HEARING, hearing=True)
        # A large fine with the gains confiscated for an individual: legal review and collective discussion.
        walk(lead("CATERING", 5, 6, "专项检查发现：使用超过保质期的食品原料"),
             _penalty(INDIVIDUAL, _fine(50_000), SanctionInput(CONFISCATE_GAINS, Decimal(8_000), "", 0)), DECIDED,
             publish=False)
        walk(lead("FOOD_PRODUCER", 0, 8, "监督抽检不合格：食品添加剂超范围使用"),
             _penalty(ORGANISATION, _fine(20_000), _only(SUSPEND_PERMIT, "食品生产许可证", 30)), LEGAL_REVIEW)
        walk(lead("SUPERMARKET", 1, 10, "专项检查发现：销售标签不符合规定的预包装食品"),
             _penalty(ORGANISATION, _fine(2_000), _only(CONFISCATE_GOODS, "标签不合格的预包装食品36件")), DELIVERED)
        walk(lead("PRIMARY_MEDICAL_INSTITUTION", 0, 12, "投诉：诊所收费未明码标价"),
             _penalty(ORGANISATION, _only(NO_PENALTY)), CLOSED)
    else:
        walk(lead("OPTICAL_SHOP", 0, 5, "计量检定机构移送：验光仪超期未检定"), _penalty(ORGANISATION, _only(WARNING)),
             FILED)
        walk(lead("HYPERMARKET", 0, 7, "消费者投诉转案：促销标价与实际不符"), _penalty(ORGANISATION, _only(WARNING)),
             INVESTIGATED)
        walk(lead("BEAUTY_SALON", 1, 9, "举报：美容美发店预付卡未明示服务价格"), _penalty(ORGANISATION, _fine(3_000)),
             NOTIFIED)
        walk(lead("WET_MARKET", 1, 11, "巡查发现：摊位使用未经检定的电子秤"),
             _penalty(ORGANISATION, _only(WARNING), _only(PUBLIC_CRITICISM)), EXECUTED)


# The document of the step a case stands at (HEARING: once scheduled); a case closed on the spot
# has none (the simplified procedure's decision is written on the spot, on paper).
STEP_DOCUMENTS = {FILED: FILING_APPROVAL, INVESTIGATED: FILING_APPROVAL, LEGAL_REVIEW: FILING_APPROVAL,
                  NOTIFIED: PENALTY_NOTICE, IN_HEARING: HEARING_NOTICE, DECIDED: PENALTY_DECISION,
                  DELIVERED: DELIVERY_RECEIPT, EXECUTED: PENALTY_DECISION, CLOSED: PENALTY_DECISION}


def _documents(workspace: Workspace, documents: Documents, skipped: list[str]) -> None:
    """One document of each kind, each of the first case (by office) standing at its step; one
    completed inspection's record and one rectification order."""
    with workspace.store.read() as session:
        wanted: dict[str, str] = {}
        for case in session.scalars(select(Case).where(Case.simplified.is_(False))
                                    .order_by(Case.office_id, Case.id)):
            kind = STEP_DOCUMENTS.get(case.state)
            if kind and kind not in wanted and (case.state != IN_HEARING or case.hearing_at is not None):
                wanted[kind] = f"case/{case.id}"
        completed = select(Inspection.id).where(Inspection.state == COMPLETED)
        for kind, query in ((INSPECTION_RECORD, completed),
                            (RECTIFICATION_ORDER, completed.where(Inspection.outcome == RECTIFICATION_ORDERED))):
            inspection_id = session.scalar(query.order_by(Inspection.office_id, Inspection.id).limit(1))
            if inspection_id is not None:
                wanted[kind] = f"inspection/{inspection_id}"
    for kind, subject in wanted.items():
        try:
            documents.issue(SYSTEM_CALLER, f"demo-document-{subject}-{kind}", subject, kind)
        except FailedPrecondition as refused:
            # A machine without the documents' fonts still gets the whole district, without documents.
            skipped.append(f"no enforcement documents ({refused})")
            return


def _late_work(workspace: Workspace, office_id: str, number: int) -> None:
    """Work begun on a clock set back in time, left as it would be: a lead past its filing limit,
    a case past its decision limit, one past its legal review's limit, a decision not delivered in
    time, a fine unpaid past its day (the surcharge accruing), a rectification past due and a result
    not published."""
    if number % 2:
        return
    for days, build in ((40, _stale_lead), (100, _stale_case), (20, _stale_review), (12, _stale_delivery),
                        (25, _stale_payment), (35, _stale_inspection)):
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


def _stale_review(past: Workspace, office_id: str, number: int) -> None:
    cases = Cases(past)
    case_id = _lead(cases, office_id, _business(past, office_id, "CONVENIENCE_STORE", 1),
                    f"闵市监移〔旧〕{number:02d}3号", "举报：便利店销售假冒注册商标的酒类")
    _walk(past, cases, case_id, _officers(past, office_id)[:2], _penalty(ORGANISATION, _fine(120_000)), LEGAL_REVIEW)


def _stale_delivery(past: Workspace, office_id: str, number: int) -> None:
    cases = Cases(past)
    case_id = _lead(cases, office_id, _business(past, office_id, "HYPERMARKET", 1), f"闵市监移〔旧〕{number:02d}4号",
                    "投诉转案：大卖场销售过期乳制品")
    _walk(past, cases, case_id, _officers(past, office_id)[:2], _penalty(ORGANISATION, _fine(6_000)), DECIDED)


def _stale_payment(past: Workspace, office_id: str, number: int) -> None:
    cases = Cases(past)
    case_id = _lead(cases, office_id, _business(past, office_id, "PHARMACY", 1), f"闵市监移〔旧〕{number:02d}5号",
                    "抽检不合格：药店销售劣药")
    _walk(past, cases, case_id, _officers(past, office_id)[:2], _penalty(ORGANISATION, _fine(10_000)), DELIVERED)


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

