"""移动执法: random spot-check plans are drawn (双随机), the drawn inspectors inspect each target
against its checklist, publish the result and confirm rectifications; leads (from inspections,
reports, rapid-test positives) are filed, decided, published and closed.

Teams are always lawful as far as the simulator can know: officers of the entity's office with a
valid certificate today and without a declared conflict with the entity (read before each team is
formed). An office that cannot field such a team leaves the work undone, as it would.
"""

from __future__ import annotations

import logging

from google.type import latlng_pb2, money_pb2

from simulator.context import ActionSpec, Ctx, NotReady
from simulator.world import ChecklistItem, Work
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc

log = logging.getLogger("simulator")
SERVICE = "mobile_enforcement"
MINIMUM_TEAM = 2
MAX_TARGET_PAGES = 20
# Henan's tier ratios of 2021 (docs/domain.md), in basis points; key supervision objects always drawn.
TIER_RATIOS = [(pb.RISK_LEVEL_VERY_HIGH, 3000), (pb.RISK_LEVEL_HIGH, 1000), (pb.RISK_LEVEL_MEDIUM, 200),
               (pb.RISK_LEVEL_LOW, 100)]
# What an inspection finds: mostly nothing wrong.
FINDINGS = {"": 0.8, "FAILURE_OUTCOME_ADVICE": 0.08, "FAILURE_OUTCOME_RECTIFICATION": 0.08,
            "FAILURE_OUTCOME_CASE_LEAD": 0.04}
IMPLIED = {"": pb.INSPECTION_OUTCOME_COMPLIANT, "FAILURE_OUTCOME_ADVICE": pb.INSPECTION_OUTCOME_ADVISED,
           "FAILURE_OUTCOME_RECTIFICATION": pb.INSPECTION_OUTCOME_RECTIFICATION_ORDERED,
           "FAILURE_OUTCOME_CASE_LEAD": pb.INSPECTION_OUTCOME_CASE_LEAD}
LEAD_DECISIONS = {"file": 0.6, "decline": 0.2, "simplified": 0.2}
# Simplified procedure limits of the 2021 rules: 200 yuan for a citizen, 3,000 for an organisation.
SIMPLIFIED_FINE = {pb.PARTY_KIND_INDIVIDUAL: (50, 200), pb.PARTY_KIND_ORGANISATION: (500, 3000)}
MINHANG = (31.11, 121.38)


def _spot(ctx: Ctx) -> pb_grpc.SpotCheckServiceStub:
    return ctx.stub(SERVICE, pb_grpc.SpotCheckServiceStub)


def _inspections(ctx: Ctx) -> pb_grpc.InspectionServiceStub:
    return ctx.stub(SERVICE, pb_grpc.InspectionServiceStub)


def _cases(ctx: Ctx) -> pb_grpc.CaseServiceStub:
    return ctx.stub(SERVICE, pb_grpc.CaseServiceStub)


async def team(ctx: Ctx, office_id: str, entity_id: str, wanted: list[str] = ()) -> list[str]:
    """Officers who may act on the entity today: the wanted ones who still may, then others of the
    office. Raises NotReady when fewer than the minimum can."""
    office = ctx.district.offices[office_id]
    conflicted: set[str] = set()
    if entity_id:
        page = await _spot(ctx).ListConflicts(pb.ListConflictsRequest(page_size=1000,
                                                                      filter=f'entity_id = "{entity_id}"'),
                                              timeout=ctx.timeout)
        conflicted = {c.officer_id for c in page.conflicts}
    able = [officer_id for officer_id in office.certified() if officer_id not in conflicted]
    chosen = [officer_id for officer_id in wanted if officer_id in able]
    others = [officer_id for officer_id in able if officer_id not in chosen]
    ctx.rng.shuffle(others)
    chosen += others[:max(0, MINIMUM_TEAM - len(chosen))]
    if len(chosen) < MINIMUM_TEAM:
        raise NotReady(f"office {office_id} has fewer than {MINIMUM_TEAM} officers who may act on {entity_id}")
    return chosen


# ---------------------------------------------------------------- plans and inspections

async def draw_plan(ctx: Ctx, work: Work) -> None:
    office = ctx.district.offices[work.office_id]
    plan = pb.SpotCheckPlan(office_id=office.id, name=f"{ctx.today():%Y年%m月}{office.name}双随机抽查",
                            tier_ratios=[pb.TierRatio(risk_level=r, ratio_basis_points=b) for r, b in TIER_RATIOS],
                            due_date=ctx.date(ctx.rng.randint(30, 60)))
    drawn = await _spot(ctx).DrawPlan(pb.DrawPlanRequest(request_id=ctx.request_id("plan"), plan=plan),
                                      timeout=ctx.timeout)
    if drawn.target_count:
        ctx.handoff("plan:drawn", Work(drawn.id, office.id))


async def plan_targets(ctx: Ctx, work: Work) -> None:
    """The drawn inspectors learn their targets."""
    token = ""
    for _ in range(MAX_TARGET_PAGES):
        page = await _spot(ctx).ListPlanTargets(pb.ListPlanTargetsRequest(plan_id=work.id, page_size=1000,
                                                                          page_token=token), timeout=ctx.timeout)
        for target in page.targets:
            if target.state == pb.INSPECTION_STATE_PLANNED and ctx.known.add(target.inspection_id):
                ctx.handoff("inspection:planned", Work(target.inspection_id, work.office_id,
                                                       {"entity": target.entity_id,
                                                        "assigned": list(target.inspector_ids)}))
        token = page.next_page_token
        if not token:
            return


async def schedule_routine(ctx: Ctx, work: Work) -> None:
    """Daily supervision (日常监督检查) of a business the office picks."""
    office = ctx.district.offices[work.office_id]
    business = ctx.rng.choice(office.businesses)
    scheduled = await _inspections(ctx).ScheduleInspection(pb.ScheduleInspectionRequest(
        request_id=ctx.request_id("inspection"),
        inspection=pb.Inspection(entity_id=business.uscc, kind=pb.INSPECTION_KIND_ROUTINE,
                                 due_date=ctx.date(ctx.rng.randint(7, 30)))), timeout=ctx.timeout)
    ctx.known.add(scheduled.id)
    ctx.handoff("inspection:planned",
                Work(scheduled.id, scheduled.office_id, {"entity": business.uscc, "assigned": []}))


async def pick_up_inspections(ctx: Ctx, work: Work) -> None:
    """An office lists inspections waiting to be done: follow-ups of confirmed rapid-test positives
    and of complaints arrive this way, scheduled by the service itself."""
    page = await _inspections(ctx).ListInspections(pb.ListInspectionsRequest(
        page_size=100, filter=f'office_id = "{work.office_id}" AND state = INSPECTION_STATE_PLANNED'),
        timeout=ctx.timeout)
    for inspection in page.inspections:
        if inspection.office_id in ctx.district.offices and ctx.known.add(inspection.id):
            ctx.handoff("inspection:planned", Work(inspection.id, inspection.office_id,
                                                   {"entity": inspection.entity_id,
                                                    "assigned": list(inspection.assigned_officer_ids)}))


async def start(ctx: Ctx, work: Work) -> None:
    officers = await team(ctx, work.office_id, work.info["entity"], work.info["assigned"])
    latitude, longitude = MINHANG
    started = await _inspections(ctx).StartInspection(pb.StartInspectionRequest(
        id=work.id, officer_ids=officers,
        location=pb.Location(point=latlng_pb2.LatLng(latitude=latitude + ctx.rng.uniform(-0.05, 0.05),
                                                     longitude=longitude + ctx.rng.uniform(-0.05, 0.05)),
                             address="现场检查")), timeout=ctx.timeout)
    work.info["checklist"] = (started.checklist_category, started.checklist_version)
    ctx.handoff("inspection:started", work)


async def checklist(ctx: Ctx, category: int, version: int) -> list[ChecklistItem]:
    key = (category, version)
    if key not in ctx.district.checklists:
        found = await ctx.stub(SERVICE, pb_grpc.ChecklistServiceStub).GetChecklist(
            pb.GetChecklistRequest(category=category, version=version), timeout=ctx.timeout)
        ctx.district.checklists[key] = [ChecklistItem(i.code, pb.FailureOutcome.Name(i.failure_outcome))
                                        for i in found.items]
    return ctx.district.checklists[key]


async def record_findings(ctx: Ctx, work: Work) -> None:
    items = await checklist(ctx, *work.info["checklist"])
    wanted = ctx.rng.choices(list(FINDINGS), list(FINDINGS.values()))[0]
    failing = next((i for i in ctx.rng.sample(items, len(items)) if wanted and i.failure_outcome == wanted), None)
    findings = []
    for item in items:
        if item is failing:
            findings.append(pb.Finding(item_code=item.code, result=pb.ITEM_RESULT_FAIL, note="现场发现问题，已拍照取证",
                                       evidence_refs=[f"evidence/{work.id}/{item.code}.jpg"]))
        else:
            findings.append(pb.Finding(item_code=item.code, result=pb.ITEM_RESULT_PASS))
    await _inspections(ctx).RecordFindings(pb.RecordFindingsRequest(id=work.id, findings=findings), timeout=ctx.timeout)
    work.info["implied"] = IMPLIED[failing.failure_outcome if failing else ""]
    ctx.handoff("inspection:recorded", work)


async def complete(ctx: Ctx, work: Work) -> None:
    rectify = work.info["implied"] == pb.INSPECTION_OUTCOME_RECTIFICATION_ORDERED
    done = await _inspections(ctx).CompleteInspection(pb.CompleteInspectionRequest(
        id=work.id, summary="检查完毕，结果已告知经营者",
        rectification_due=ctx.date(ctx.rng.randint(7, 30)) if rectify else None), timeout=ctx.timeout)
    if done.lead_case_id and ctx.known.add(done.lead_case_id):
        ctx.handoff("case:lead", Work(done.lead_case_id, done.office_id, {"entity": done.entity_id}))
    work.info["rectify"] = rectify
    ctx.handoff("inspection:completed", work)


async def publish_inspection(ctx: Ctx, work: Work) -> None:
    await _inspections(ctx).PublishInspectionResult(pb.PublishInspectionResultRequest(id=work.id), timeout=ctx.timeout)
    if work.info.get("rectify"):
        ctx.handoff("inspection:rectifying", work)


async def confirm_rectification(ctx: Ctx, work: Work) -> None:
    await _inspections(ctx).ConfirmRectification(pb.ConfirmRectificationRequest(id=work.id, note="复查确认已整改到位"),
                                                 timeout=ctx.timeout)


# ---------------------------------------------------------------- cases

async def pick_up_leads(ctx: Ctx, work: Work) -> None:
    """Leads the service opened from events (a report filed, a rapid-test positive confirmed)."""
    page = await _cases(ctx).ListCases(pb.ListCasesRequest(
        page_size=100, filter=f'office_id = "{work.office_id}" AND state = CASE_STATE_LEAD'), timeout=ctx.timeout)
    for case in page.cases:
        if case.office_id in ctx.district.offices and ctx.known.add(case.id):
            ctx.handoff("case:lead", Work(case.id, case.office_id, {"entity": case.entity_id,
                                                                      "uscc": case.party.uscc}))


def _party_kind(work: Work) -> int:
    """An individual business (credit code 92...) is a citizen for the penalty rules."""
    code = work.info.get("uscc") or work.info.get("entity") or ""
    return pb.PARTY_KIND_INDIVIDUAL if code.startswith("92") else pb.PARTY_KIND_ORGANISATION


async def file_case(ctx: Ctx, work: Work) -> None:
    officers = await team(ctx, work.office_id, work.info.get("entity", ""))
    await _cases(ctx).FileCase(pb.FileCaseRequest(id=work.id, officer_ids=officers), timeout=ctx.timeout)
    ctx.handoff("case:filed", work)


async def decline(ctx: Ctx, work: Work) -> None:
    await _cases(ctx).DeclineLead(pb.DeclineLeadRequest(id=work.id, reason="经核查，违法事实不成立，不予立案"),
                                  timeout=ctx.timeout)


async def decide_on_the_spot(ctx: Ctx, work: Work) -> None:
    """Simplified procedure (当场处罚): a warning or a small fine; the case closes at once."""
    party = _party_kind(work)
    if ctx.chance(0.5):
        penalty = pb.Penalty(kind=pb.PENALTY_KIND_WARNING, party_kind=party, simplified=True)
    else:
        low, high = SIMPLIFIED_FINE[party]
        penalty = pb.Penalty(kind=pb.PENALTY_KIND_FINE, party_kind=party, simplified=True,
                             fine=money_pb2.Money(currency_code="CNY", units=ctx.rng.randint(low, high)))
    await _cases(ctx).DecideCase(pb.DecideCaseRequest(id=work.id, penalty=penalty, note="当场作出处罚决定"),
                                 timeout=ctx.timeout)


async def decide(ctx: Ctx, work: Work) -> None:
    party = _party_kind(work)
    roll = ctx.rng.random()
    if roll < 0.7:
        penalty = pb.Penalty(kind=pb.PENALTY_KIND_FINE, party_kind=party,
                             fine=money_pb2.Money(currency_code="CNY", units=ctx.rng.randint(10, 500) * 100))
    elif roll < 0.9:
        penalty = pb.Penalty(kind=pb.PENALTY_KIND_WARNING, party_kind=party)
    else:
        penalty = pb.Penalty(kind=pb.PENALTY_KIND_NONE, party_kind=party)
    await _cases(ctx).DecideCase(pb.DecideCaseRequest(id=work.id, penalty=penalty, note="经调查终结，作出处理决定"),
                                 timeout=ctx.timeout)
    # A penalty is published (企业信息公示); a decision not to punish is not.
    ctx.handoff("case:decided" if penalty.kind != pb.PENALTY_KIND_NONE else "case:closing", work)


async def publish_decision(ctx: Ctx, work: Work) -> None:
    await _cases(ctx).PublishDecision(pb.PublishDecisionRequest(id=work.id), timeout=ctx.timeout)
    ctx.handoff("case:closing", work)


async def close_case(ctx: Ctx, work: Work) -> None:
    await _cases(ctx).CloseCase(pb.CloseCaseRequest(id=work.id, note="处罚决定已执行完毕，结案"), timeout=ctx.timeout)


SPECS = [
    # A plan per office every 20 working days or so; each draws some twenty targets.
    ActionSpec("plan.draw", SERVICE, draw_plan, per_office_daily=0.05, feeds=(("plan:drawn", 1.0),),
               summary="an office draws a random spot-check plan"),
    ActionSpec("plan.targets", SERVICE, plan_targets, consumes="plan:drawn", delay_hours=(0.1, 1),
               feeds=(("inspection:planned", 20.0),)),
    ActionSpec("inspection.schedule", SERVICE, schedule_routine, per_office_daily=1.0, needs="businesses",
               feeds=(("inspection:planned", 1.0),), summary="an office schedules a routine inspection"),
    ActionSpec("inspection.pickup", SERVICE, pick_up_inspections, per_office_daily=2.0,
               summary="an office lists its planned inspections"),
    ActionSpec("inspection.start", SERVICE, start, consumes="inspection:planned", delay_hours=(2, 120),
               feeds=(("inspection:started", 1.0),)),
    ActionSpec("inspection.findings", SERVICE, record_findings, consumes="inspection:started", delay_hours=(0.2, 1),
               feeds=(("inspection:recorded", 1.0),)),
    ActionSpec("inspection.complete", SERVICE, complete, consumes="inspection:recorded", delay_hours=(0.05, 0.3),
               feeds=(("inspection:completed", 1.0), ("case:lead", 0.04))),
    ActionSpec("inspection.publish", SERVICE, publish_inspection, consumes="inspection:completed",
               delay_hours=(24, 120), feeds=(("inspection:rectifying", 0.08),)),
    ActionSpec("inspection.rectified", SERVICE, confirm_rectification, consumes="inspection:rectifying",
               delay_hours=(72, 360)),
    ActionSpec("case.pickup", SERVICE, pick_up_leads, per_office_daily=2.0, summary="an office lists its new leads"),
    ActionSpec("case.file", SERVICE, file_case, consumes="case:lead", share=LEAD_DECISIONS["file"],
               delay_hours=(24, 240), feeds=(("case:filed", 1.0),)),
    ActionSpec("case.decline", SERVICE, decline, consumes="case:lead", share=LEAD_DECISIONS["decline"],
               delay_hours=(24, 240)),
    ActionSpec("case.simplified", SERVICE, decide_on_the_spot, consumes="case:lead",
               share=LEAD_DECISIONS["simplified"], delay_hours=(1, 24)),
    ActionSpec("case.decide", SERVICE, decide, consumes="case:filed", delay_hours=(72, 720),
               feeds=(("case:decided", 0.9), ("case:closing", 0.1))),
    ActionSpec("case.publish", SERVICE, publish_decision, consumes="case:decided", delay_hours=(24, 120),
               feeds=(("case:closing", 1.0),)),
    ActionSpec("case.close", SERVICE, close_case, consumes="case:closing", delay_hours=(24, 120)),
]
