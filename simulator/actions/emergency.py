"""应急处置: now and then an incident is reported (mostly level IV: a few people ill after a meal,
a lift stuck, a shop closing on its prepaid-card holders; some below level IV: a lift stuck under
the rule set's hours with nobody hurt is not an accident, contaminated food found before anyone fell
ill is handled with the health commission and the CDC); the office dispatches officers to each
action of the plan, completes them, and closes the incident with its review."""

from __future__ import annotations

from simulator.context import ActionSpec, Ctx
from simulator.world import Work
from supervision.emergency.v1 import emergency_pb2 as pb
from supervision.emergency.v1 import emergency_pb2_grpc as pb_grpc

SERVICE = "emergency"


def _stub(ctx: Ctx) -> pb_grpc.IncidentServiceStub:
    return ctx.stub(SERVICE, pb_grpc.IncidentServiceStub)


def _scenario(ctx: Ctx) -> pb.Incident:
    """An incident as first reported: its type, what happened and the counts that grade it."""
    roll = ctx.rng.random()
    if roll < 0.05:
        # Below level IV: nobody ill yet and the cause is clear.
        return pb.Incident(type=pb.INCIDENT_TYPE_FOOD_SAFETY, title="熟食抽检检出致病菌",
                           description="凉拌菜抽检检出沙门氏菌，加工间生熟交叉污染，尚无人员发病",
                           circumstances=["cause_clear"])
    if roll < 0.4:
        ill = ctx.rng.randint(2, 15)
        title = "学校食堂学生腹泻" if ctx.chance(0.5) else "聚餐后多人呕吐"
        return pb.Incident(type=pb.INCIDENT_TYPE_FOOD_SAFETY, title=title,
                           description=f"{ill}人出现腹泻、呕吐症状，已送医", ill_count=ill)
    if roll < 0.6:
        # Under the rule set's hours with nobody hurt it is not an accident; trapped longer, level IV.
        trapped = ctx.rng.randint(1, 4)
        return pb.Incident(type=pb.INCIDENT_TYPE_SPECIAL_EQUIPMENT, title="住宅电梯困人",
                           description=f"电梯停在两层之间，{trapped}人被困", trapped_count=trapped,
                           trapped_hours=round(ctx.rng.uniform(0.3, 2.5), 1))
    if roll < 0.8:
        affected = ctx.rng.randint(30, 250)
        return pb.Incident(type=pb.INCIDENT_TYPE_MASS_CONSUMER_DISPUTE, title="健身房闭店引发预付卡纠纷",
                           description=f"{affected}名会员聚集要求退费", affected_count=affected,
                           economic_loss_yuan=affected * ctx.rng.randint(2000, 6000))
    if roll < 0.95:
        return pb.Incident(type=pb.INCIDENT_TYPE_PRODUCT_QUALITY, title="电动自行车充电时起火",
                           description="充电器起火，1人轻微烧伤", ill_count=1,
                           economic_loss_yuan=ctx.rng.randint(5_000, 150_000))
    # A serious one (level III), which also becomes a supervision task of command_center.
    ill = ctx.rng.randint(100, 130)
    return pb.Incident(type=pb.INCIDENT_TYPE_FOOD_SAFETY, title="婚宴后大规模食物中毒",
                       description=f"{ill}人出现食物中毒症状", ill_count=ill)


async def report(ctx: Ctx, work: Work) -> None:
    office = ctx.district.offices[work.office_id]
    incident = _scenario(ctx)
    street = ctx.rng.choice(office.streets)
    incident.office_id = office.id
    incident.entity_name = ctx.rng.choice(office.businesses).name if office.businesses else f"{street}某经营场所"
    incident.address = f"闵行区{street}"
    # It happened a while ago; the office learned of it minutes ago.
    incident.occurred_at.CopyFrom(ctx.ago(1800, 10_800))
    incident.learned_at.CopyFrom(ctx.ago(0, 600))
    created = await _stub(ctx).ReportIncident(pb.ReportIncidentRequest(request_id=ctx.request_id("incident"),
                                                                       incident=incident), timeout=ctx.timeout)
    ctx.known.add(created.id)
    open_actions = [a.id for a in created.actions if a.state == pb.ACTION_STATE_OPEN]
    ctx.handoff("incident:dispatch", Work(created.id, office.id, {"to_assign": open_actions, "to_complete": []}))


async def assign(ctx: Ctx, work: Work) -> None:
    """Dispatches an officer to the next action of the plan."""
    office = ctx.district.offices[work.office_id]
    action_id = work.info["to_assign"].pop(0)
    officer = ctx.rng.choice(office.certified() or [o.id for o in office.officers])
    await _stub(ctx).AssignAction(pb.AssignActionRequest(incident_id=work.id, action_id=action_id, officer_id=officer),
                                  timeout=ctx.timeout)
    work.info["to_complete"].append(action_id)
    ctx.handoff("incident:dispatch" if work.info["to_assign"] else "incident:respond", work)


async def complete_action(ctx: Ctx, work: Work) -> None:
    action_id = work.info["to_complete"].pop(0)
    done = await _stub(ctx).CompleteAction(pb.CompleteActionRequest(incident_id=work.id, action_id=action_id,
                                                                    note="已按预案完成"), timeout=ctx.timeout)
    # A re-grade may add actions; the incident is stable once none is open.
    still_open = [a.id for a in done.actions
                  if a.state == pb.ACTION_STATE_OPEN and a.id not in work.info["to_complete"]]
    work.info["to_assign"] = still_open
    if still_open:
        ctx.handoff("incident:dispatch", work)
    elif work.info["to_complete"]:
        ctx.handoff("incident:respond", work)
    elif done.state == pb.INCIDENT_STATE_STABLE:
        ctx.handoff("incident:review", work)


async def close(ctx: Ctx, work: Work) -> None:
    await _stub(ctx).CloseIncident(pb.CloseIncidentRequest(id=work.id, review=pb.Review(
        cause="经调查，事件系经营者管理制度落实不到位所致", measures="责令整改，开展专项检查，约谈相关负责人",
        lessons="加强日常监督检查和风险排查，完善应急联动机制")), timeout=ctx.timeout)


async def drill(ctx: Ctx, work: Work) -> None:
    await _stub(ctx).RecordDrill(pb.RecordDrillRequest(request_id=ctx.request_id("drill"), drill=pb.Drill(
        office_id=work.office_id, held_on=ctx.date(0), title="食品安全事故应急演练",
        incident_type=pb.INCIDENT_TYPE_FOOD_SAFETY, participant_count=ctx.rng.randint(8, 40),
        scenario="模拟学校食堂发生群体性腹泻", findings="信息报送及时，现场处置流程熟练")), timeout=ctx.timeout)


SPECS = [
    # About one incident every two to three days in the district.
    ActionSpec("incident.report", SERVICE, report, per_office_daily=0.03, profile="incident", officer=False,
               feeds=(("incident:dispatch", 1.0),), summary="an incident is reported"),
    ActionSpec("incident.assign", SERVICE, assign, consumes="incident:dispatch", delay_hours=(0.02, 0.2), officer=False,
               feeds=(("incident:dispatch", 0.75), ("incident:respond", 0.25))),
    ActionSpec("incident.complete_action", SERVICE, complete_action, consumes="incident:respond",
               delay_hours=(0.3, 4), officer=False, feeds=(("incident:respond", 0.75), ("incident:review", 0.25))),
    ActionSpec("incident.close", SERVICE, close, consumes="incident:review", delay_hours=(24, 72)),
    ActionSpec("drill.record", SERVICE, drill, per_office_daily=0.01, summary="an office records an emergency drill"),
]
