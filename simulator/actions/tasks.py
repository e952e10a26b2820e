"""督办: the bureau sets offices supervision tasks; officers accept, report progress and complete
them. Tasks the center creates by itself (an overdue complaint, a serious incident) are picked up
from the task list like any other. An office head also looks at the duty items the office answers
for and at its stage of standardization (规范 / 推进 / 提升), which the tasks help it earn."""

from __future__ import annotations

from simulator.context import ActionSpec, Ctx
from simulator.world import Work
from supervision.assessment.v1 import assessment_pb2, assessment_pb2_grpc
from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc

SERVICE = "command_center"
TITLES = ["督办：农贸市场整治回头看", "督办：校园周边食品安全专项检查", "督办：电梯维保专项检查",
          "督办：预付卡纠纷集中处置", "督办：节前食品安全大检查", "督办：燃气具产品质量抽查",
          "督办：直播带货广告专项整治", "督办：网络订餐平台入网商户核查"]
PROGRESS_SHARE = 0.4


def _stub(ctx: Ctx) -> pb_grpc.TaskServiceStub:
    return ctx.stub(SERVICE, pb_grpc.TaskServiceStub)


async def create(ctx: Ctx, work: Work) -> None:
    title = ctx.rng.choice(TITLES)
    task = pb.Task(office_id=work.office_id, title=title,
                   description=f"区局督办：{title.removeprefix('督办：')}，请按期办结",
                   source="bureau", source_ref=ctx.request_id("DB"),
                   # A few days to a few weeks; never today, so a run across midnight stays valid.
                   due_date=ctx.date(ctx.rng.randint(3, 28)))
    created = await _stub(ctx).CreateTask(pb.CreateTaskRequest(request_id=ctx.request_id("task"), task=task),
                                          timeout=ctx.timeout)
    ctx.known.add(created.id)
    ctx.handoff("task:assigned", Work(created.id, created.office_id))


async def accept(ctx: Ctx, work: Work) -> None:
    await _stub(ctx).AcceptTask(pb.AcceptTaskRequest(id=work.id), timeout=ctx.timeout)
    ctx.handoff("task:accepted", work)


async def progress(ctx: Ctx, work: Work) -> None:
    await _stub(ctx).ReportTaskProgress(pb.ReportTaskProgressRequest(id=work.id, note="已部署专项检查，正在推进"),
                                        timeout=ctx.timeout)
    ctx.handoff("task:in_progress", work)


async def complete(ctx: Ctx, work: Work) -> None:
    await _stub(ctx).CompleteTask(pb.CompleteTaskRequest(id=work.id, note="已按要求办结并上报"), timeout=ctx.timeout)


async def pick_up(ctx: Ctx, work: Work) -> None:
    """An office looks at its newly assigned tasks, including those the center raised itself."""
    page = await _stub(ctx).ListTasks(pb.ListTasksRequest(
        page_size=100, filter=f'office_id = "{work.office_id}" AND state = TASK_STATE_ASSIGNED'), timeout=ctx.timeout)
    for task in page.tasks:
        if ctx.known.add(task.id):
            ctx.handoff("task:assigned", Work(task.id, task.office_id))


async def get_office(ctx: Ctx, work: Work) -> None:
    await ctx.stub(SERVICE, pb_grpc.OfficeServiceStub).GetOffice(pb.GetOfficeRequest(id=work.office_id),
                                                                 timeout=ctx.timeout)


async def own_duties(ctx: Ctx, work: Work) -> None:
    """The duty items the office answers for: those of every office and of the scopes it declares."""
    await ctx.stub(SERVICE, pb_grpc.DutyListServiceStub).ListDutyItems(pb.ListDutyItemsRequest(
        page_size=200, filter=f'office_id = "{work.office_id}"'), timeout=ctx.timeout)


async def stage(ctx: Ctx, work: Work) -> None:
    """The office's stage and what it lacks for the next: offices stand at different stages (the
    demo district has offices at each, and below the first). Checked by hand: an office below
    the top is told what it lacks, each with a description, and one at the top is told nothing."""
    answer = await ctx.stub("assessment", assessment_pb2_grpc.ScoreServiceStub).ListOfficeStages(
        assessment_pb2.ListOfficeStagesRequest(office_id=work.office_id), timeout=ctx.timeout)
    [office] = answer.offices
    at_top = not office.next_stage
    told = (not office.lacks) if at_top else bool(office.lacks) and all(lack.description for lack in office.lacks)
    ctx.check("stage.read", "stage.lacks_told", told and office.office_id == work.office_id,
              f"{office.office_id} at {office.stage or '未达规范'}: next {office.next_stage or '-'}, "
              f"{len(office.lacks)} shortfalls")


SPECS = [
    ActionSpec("task.create", SERVICE, create, per_office_daily=1.0, feeds=(("task:assigned", 1.0),),
               summary="the bureau sets an office a supervision task"),
    ActionSpec("task.pickup", SERVICE, pick_up, per_office_daily=2.0, summary="an office lists its new tasks"),
    ActionSpec("task.accept", SERVICE, accept, consumes="task:assigned", delay_hours=(0.5, 24),
               feeds=(("task:accepted", 1.0),)),
    ActionSpec("task.progress", SERVICE, progress, consumes="task:accepted", share=PROGRESS_SHARE,
               delay_hours=(24, 72), feeds=(("task:in_progress", 1.0),)),
    ActionSpec("task.complete", SERVICE, complete, consumes="task:accepted", share=1 - PROGRESS_SHARE,
               delay_hours=(24, 120)),
    ActionSpec("task.finish", SERVICE, complete, consumes="task:in_progress", delay_hours=(24, 96),
               summary="a task with progress reported is completed"),
    ActionSpec("office.get", SERVICE, get_office, per_office_daily=8.0, profile="office",
               summary="someone opens an office's page"),
    ActionSpec("duty.own", SERVICE, own_duties, per_office_daily=0.5,
               summary="an office head lists the duty items the office answers for"),
    ActionSpec("stage.read", "assessment", stage, per_office_daily=0.5,
               summary="an office head reads the office's stage and what it lacks for the next"),
]
