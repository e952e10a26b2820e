"""移动执法, random spot checks (双随机): an office draws a plan, by risk tier or by one ratio of its
whole market (every entity, key object type or none), stating how the ratio's share is rounded; the
drawn inspectors learn their targets; and anyone may verify the draw. The simulator works the
number of targets out by hand from the plan's ratio, its scope and its rounding rule, and checks
the plan and VerifyPlan's quota against it (its own stats count these checks).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from simulator.actions.enforcement import SERVICE, spot
from simulator.context import ActionSpec, Ctx
from simulator.world import Work
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

MAX_TARGET_PAGES = 20
BASIS_POINTS = 10_000
# Henan's tier ratios of 2021 (docs/domain.md), in basis points; key supervision objects always drawn.
TIER_RATIOS = [(pb.RISK_LEVEL_VERY_HIGH, 3000), (pb.RISK_LEVEL_HIGH, 1000), (pb.RISK_LEVEL_MEDIUM, 200),
               (pb.RISK_LEVEL_LOW, 100)]
# One ratio of the whole market, in basis points: 3 %, 5 % or 10 % of the office's entities.
WHOLE_MARKET_RATIOS = (300, 500, 1000)
# The rule a plan states, and how it reads in the plan's name.
STATED_ROUNDING = {pb.ROUNDING_RULE_HALF_UP: "四舍五入", pb.ROUNDING_RULE_CEIL: "向上取整"}
_DECIMAL_ROUNDING = {pb.ROUNDING_RULE_HALF_UP: ROUND_HALF_UP, pb.ROUNDING_RULE_CEIL: ROUND_CEILING}


@dataclass(frozen=True)
class Expected:
    """What a one-ratio plan must draw, worked out by hand: the exact share and its rounding."""

    exact_share: Decimal
    quota: int
    targets: int


def expected(ratio_basis_points: int, population: int, key_objects: int, rounding: int) -> Expected:
    """A ratio of the whole scope (key objects counted within it), rounded once by the stated rule;
    every key object is drawn even when they alone exceed the share."""
    share = Decimal(ratio_basis_points) * population / BASIS_POINTS
    quota = int(share.quantize(Decimal(1), rounding=_DECIMAL_ROUNDING[rounding]))
    return Expected(share, quota, max(quota, key_objects))


def _draw_request(ctx: Ctx, plan: pb.SpotCheckPlan) -> pb.DrawPlanRequest:
    plan.due_date.CopyFrom(ctx.date(ctx.rng.randint(30, 60)))
    return pb.DrawPlanRequest(request_id=ctx.request_id("plan"), plan=plan)


async def draw_plan(ctx: Ctx, work: Work) -> None:
    """An office draws a plan by risk tier (of its key object types), stating its rounding rule."""
    office = ctx.district.offices[work.office_id]
    rounding = ctx.rng.choice(list(STATED_ROUNDING))
    plan = pb.SpotCheckPlan(office_id=office.id, name=f"{ctx.today():%Y年%m月}{office.name}双随机抽查",
                            tier_ratios=[pb.TierRatio(risk_level=r, ratio_basis_points=b) for r, b in TIER_RATIOS],
                            rounding=rounding)
    drawn = await spot(ctx).DrawPlan(_draw_request(ctx, plan), timeout=ctx.timeout)
    ctx.handoff("plan:verify", Work(drawn.id, office.id, {"rounding": rounding}))
    if drawn.target_count:
        ctx.handoff("plan:drawn", Work(drawn.id, office.id))


async def draw_whole_market(ctx: Ctx, work: Work) -> None:
    """An office draws one ratio of its whole market, the rounding rule stated in the plan; the
    number of targets is checked by hand against the ratio."""
    office = ctx.district.offices[work.office_id]
    ratio = ctx.rng.choice(WHOLE_MARKET_RATIOS)
    rounding = ctx.rng.choice(list(STATED_ROUNDING))
    plan = pb.SpotCheckPlan(office_id=office.id, ratio_basis_points=ratio, rounding=rounding,
                            name=f"{ctx.today():%Y年%m月}{office.name}全域双随机抽查"
                                 f"（抽查比例{Decimal(ratio) / 100}%，{STATED_ROUNDING[rounding]}）")
    drawn = await spot(ctx).DrawPlan(_draw_request(ctx, plan), timeout=ctx.timeout)
    want = expected(ratio, drawn.population_count, drawn.key_object_count, rounding)
    ctx.check("plan.draw_whole", "plan.target_count", drawn.rounding == rounding and drawn.target_count == want.targets,
              f"plan {drawn.id}: {ratio} bp of {drawn.population_count} ({drawn.key_object_count} key) = "
              f"{want.exact_share}, {pb.RoundingRule.Name(rounding)} -> {want.targets}; the plan drew "
              f"{drawn.target_count} under {pb.RoundingRule.Name(drawn.rounding)}")
    ctx.handoff("plan:verify", Work(drawn.id, office.id, {"rounding": rounding, "ratio": ratio,
                                                           "population": drawn.population_count,
                                                           "keys": drawn.key_object_count}))
    if drawn.target_count:
        ctx.handoff("plan:drawn", Work(drawn.id, office.id))


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


async def verify_plan(ctx: Ctx, work: Work) -> None:
    """Anyone recomputes the draw: it must match, under the rule the plan stated; for a one-ratio
    plan the share and the quota VerifyPlan shows must be the ones worked out by hand."""
    verification = await spot(ctx).VerifyPlan(pb.VerifyPlanRequest(id=work.id), timeout=ctx.timeout)
    rounding = work.info["rounding"]
    ctx.check("plan.verify", "plan.verified", verification.matches and verification.rounding == rounding,
              f"plan {work.id}: matches={verification.matches} ({verification.mismatch}), rule "
              f"{pb.RoundingRule.Name(verification.rounding)}, stated {pb.RoundingRule.Name(rounding)}")
    if work.info.get("ratio"):
        want = expected(work.info["ratio"], work.info["population"], work.info["keys"], rounding)
        # The quota is what the rounded share gives, key objects counted within it.
        ctx.check("plan.verify", "plan.quota", _decimal(verification.exact_share) == want.exact_share
                  and verification.quota == want.targets,
                  f"plan {work.id}: {work.info['ratio']} bp of {work.info['population']} = {want.exact_share} -> "
                  f"{want.targets}; VerifyPlan shows {verification.exact_share!r} -> {verification.quota}")


async def plan_targets(ctx: Ctx, work: Work) -> None:
    """The drawn inspectors learn their targets."""
    token = ""
    for _ in range(MAX_TARGET_PAGES):
        page = await spot(ctx).ListPlanTargets(pb.ListPlanTargetsRequest(plan_id=work.id, page_size=1000,
                                                                         page_token=token), timeout=ctx.timeout)
        for target in page.targets:
            if target.state == pb.INSPECTION_STATE_PLANNED and ctx.known.add(target.inspection_id):
                ctx.handoff("inspection:planned", Work(target.inspection_id, work.office_id,
                                                       {"entity": target.entity_id,
                                                        "assigned": list(target.inspector_ids)}))
        token = page.next_page_token
        if not token:
            return


SPECS = [
    # A plan per office every 20 working days or so; each draws some twenty targets. A whole-market
    # plan every 50 days or so.
    ActionSpec("plan.draw", SERVICE, draw_plan, per_office_daily=0.05,
               feeds=(("plan:drawn", 1.0), ("plan:verify", 1.0)), summary="an office draws a random spot-check plan"),
    ActionSpec("plan.draw_whole", SERVICE, draw_whole_market, per_office_daily=0.02,
               feeds=(("plan:drawn", 1.0), ("plan:verify", 1.0)),
               summary="an office draws one ratio of its whole market, the rounding stated"),
    ActionSpec("plan.targets", SERVICE, plan_targets, consumes="plan:drawn", delay_hours=(0.1, 1),
               feeds=(("inspection:planned", 20.0),)),
    ActionSpec("plan.verify", SERVICE, verify_plan, consumes="plan:verify", delay_hours=(1, 48)),
]
