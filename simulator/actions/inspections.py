"""移动执法, inspections: the drawn inspectors (or an office's routine supervision) inspect each
target against its checklist (the key object type's, or the general one for an entity of none),
record the findings, complete the inspection, publish the result and confirm rectifications.
"""

from __future__ import annotations

from google.type import latlng_pb2

from simulator.actions.enforcement import SERVICE, inspections, team
from simulator.context import ActionSpec, Ctx
from simulator.world import ChecklistItem, Work
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc

# What an inspection finds: mostly nothing wrong.
FINDINGS = {"": 0.8, "FAILURE_OUTCOME_ADVICE": 0.08, "FAILURE_OUTCOME_RECTIFICATION": 0.08,
            "FAILURE_OUTCOME_CASE_LEAD": 0.04}
IMPLIED = {"": pb.INSPECTION_OUTCOME_COMPLIANT, "FAILURE_OUTCOME_ADVICE": pb.INSPECTION_OUTCOME_ADVISED,
           "FAILURE_OUTCOME_RECTIFICATION": pb.INSPECTION_OUTCOME_RECTIFICATION_ORDERED,
           "FAILURE_OUTCOME_CASE_LEAD": pb.INSPECTION_OUTCOME_CASE_LEAD}
LEAD_DECISIONS = {"file": 0.6, "decline": 0.2, "simplified": 0.2}
MINHANG = (31.11, 121.38)


async def schedule_routine(ctx: Ctx, work: Work) -> None:
    """Daily supervision (日常监督检查) of a business the office picks."""
    office = ctx.district.offices[work.office_id]
    business = ctx.rng.choice(office.businesses)
    scheduled = await inspections(ctx).ScheduleInspection(pb.ScheduleInspectionRequest(
        request_id=ctx.request_id("inspection"),
        inspection=pb.Inspection(entity_id=business.uscc, kind=pb.INSPECTION_KIND_ROUTINE,
                                 due_date=ctx.date(ctx.rng.randint(7, 30)))), timeout=ctx.timeout)
    ctx.known.add(scheduled.id)
    ctx.handoff("inspection:planned",
                Work(scheduled.id, scheduled.office_id, {"entity": business.uscc, "assigned": []}))


async def pick_up_inspections(ctx: Ctx, work: Work) -> None:
    """An office lists inspections waiting to be done: follow-ups of confirmed rapid-test positives
    and of complaints arrive this way, scheduled by the service itself."""
    page = await inspections(ctx).ListInspections(pb.ListInspectionsRequest(
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
    started = await inspections(ctx).StartInspection(pb.StartInspectionRequest(
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
    await inspections(ctx).RecordFindings(pb.RecordFindingsRequest(id=work.id, findings=findings), timeout=ctx.timeout)
    work.info["implied"] = IMPLIED[failing.failure_outcome if failing else ""]
    ctx.handoff("inspection:recorded", work)


async def complete(ctx: Ctx, work: Work) -> None:
    rectify = work.info["implied"] == pb.INSPECTION_OUTCOME_RECTIFICATION_ORDERED
    done = await inspections(ctx).CompleteInspection(pb.CompleteInspectionRequest(
        id=work.id, summary="检查完毕，结果已告知经营者",
        rectification_due=ctx.date(ctx.rng.randint(7, 30)) if rectify else None), timeout=ctx.timeout)
    if done.lead_case_id and ctx.known.add(done.lead_case_id):
        ctx.handoff("case:lead", Work(done.lead_case_id, done.office_id, {"entity": done.entity_id}))
    work.info["rectify"] = rectify
    ctx.handoff("inspection:completed", work)


async def publish_inspection(ctx: Ctx, work: Work) -> None:
    await inspections(ctx).PublishInspectionResult(pb.PublishInspectionResultRequest(id=work.id), timeout=ctx.timeout)
    if work.info.get("rectify"):
        ctx.handoff("inspection:rectifying", work)


async def confirm_rectification(ctx: Ctx, work: Work) -> None:
    await inspections(ctx).ConfirmRectification(pb.ConfirmRectificationRequest(id=work.id, note="复查确认已整改到位"),
                                                 timeout=ctx.timeout)


SPECS = [
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
]
