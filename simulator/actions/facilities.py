"""快检室: the 14 rapid-test rooms test samples brought by the public or taken from the markets;
about 1% are positive, and a positive is either re-tested by a laboratory at the seller's request
or confirmed (the goods destroyed, a follow-up inspection asked of mobile_enforcement)."""

from __future__ import annotations

import time

from simulator import content
from simulator.context import ActionSpec, Ctx, NotReady
from simulator.world import Work
from supervision.facilities.v1 import facilities_pb2 as pb
from supervision.facilities.v1 import facilities_pb2_grpc as pb_grpc

SERVICE = "facilities"
POSITIVE_RATE = 0.01
RETEST_SHARE = 0.3
RETEST_CONFIRMS = 0.7
# The seller may ask for a re-test within 4 hours of the test (rapid-test rules); ask with margin.
RETEST_WINDOW_SECONDS = 4 * 3600
RETEST_MARGIN_SECONDS = 600
LAB_METHODS = ["GB 23200.113-2018 气相色谱-质谱联用法", "GB/T 5009.199-2003 速测卡法复核", "GB 5009.33-2016 分光光度法"]


def _stub(ctx: Ctx) -> pb_grpc.RapidTestServiceStub:
    return ctx.stub(SERVICE, pb_grpc.RapidTestServiceStub)


async def record(ctx: Ctx, work: Work) -> None:
    office = ctx.district.offices[work.office_id]
    test = content.choose_test(ctx.rng)
    positive = ctx.chance(POSITIVE_RATE)
    value = content.reading(ctx.rng, test, positive)
    name, stall = content.vendor(ctx.rng)
    public = ctx.chance(0.25)
    tested_at = ctx.ago(60, 1500)  # read 20-30 minutes after the sample came in, entered soon after
    request = pb.RecordTestRequest(
        request_id=ctx.request_id("test"), office_id=office.id,
        origin=pb.TEST_ORIGIN_PUBLIC_REQUEST if public else pb.TEST_ORIGIN_MARKET_SAMPLING,
        sample=pb.Sample(name=ctx.rng.choice(test.samples), vendor_name=name,
                         vendor_uscc=content.uscc(ctx.rng, "92") if ctx.chance(0.5) else "",
                         market=office.name.removesuffix("市场监督管理所") + "农贸市场", stall=stall),
        item=test.item, method=test.method, equipment_id=ctx.rng.choice(office.readers), reading=value,
        # Stated, so that a disagreement between this catalogue and the service's is refused loudly.
        result=pb.TEST_RESULT_POSITIVE if content.is_positive(test, value) else pb.TEST_RESULT_NEGATIVE,
        tested_at=tested_at)
    created = await _stub(ctx).RecordTest(request, timeout=ctx.timeout)
    if created.state == pb.TEST_STATE_POSITIVE_PENDING:
        ctx.handoff("rapid_test:positive",
                    Work(created.id, office.id, {"window_ends": created.retest_deadline.seconds}))


async def confirm(ctx: Ctx, work: Work) -> None:
    """The seller declined a re-test: the positive is confirmed and the goods destroyed."""
    await _stub(ctx).ConfirmResult(pb.ConfirmResultRequest(test_id=work.id, retest_waived=True,
                                                           kg_destroyed=round(ctx.rng.uniform(0.5, 20), 1)),
                                   timeout=ctx.timeout)


async def request_retest(ctx: Ctx, work: Work) -> None:
    if time.time() > work.info["window_ends"] - RETEST_MARGIN_SECONDS:
        # Too late to ask: the positive waits for its confirmation instead.
        ctx.handoff("rapid_test:positive", work)
        raise NotReady("the re-test window is closing")
    await _stub(ctx).RequestRetest(pb.RequestRetestRequest(test_id=work.id, retest_method=ctx.rng.choice(LAB_METHODS)),
                                   timeout=ctx.timeout)
    ctx.handoff("rapid_test:retest", work)


async def confirm_retest(ctx: Ctx, work: Work) -> None:
    confirmed = ctx.chance(RETEST_CONFIRMS)
    await _stub(ctx).ConfirmResult(pb.ConfirmResultRequest(
        test_id=work.id, retest_result=pb.TEST_RESULT_POSITIVE if confirmed else pb.TEST_RESULT_NEGATIVE,
        kg_destroyed=round(ctx.rng.uniform(0.5, 20), 1) if confirmed else 0.0), timeout=ctx.timeout)


async def daily_notice(ctx: Ctx, work: Work) -> None:
    """The day's results as posted for the public (结果公示)."""
    await _stub(ctx).GetDailyNotice(pb.GetDailyNoticeRequest(office_id=work.office_id), timeout=ctx.timeout)


SPECS = [
    ActionSpec("rapid_test.record", SERVICE, record, per_office_daily=7.0, profile="room", needs="readers",
               officer=False, feeds=(("rapid_test:positive", POSITIVE_RATE),),
               summary="a rapid-test room records a test (about 1% positive)"),
    ActionSpec("rapid_test.confirm", SERVICE, confirm, consumes="rapid_test:positive", share=1 - RETEST_SHARE,
               delay_hours=(0.3, 2), officer=False),
    ActionSpec("rapid_test.retest", SERVICE, request_retest, consumes="rapid_test:positive", share=RETEST_SHARE,
               delay_hours=(0.2, 1.5), officer=False, feeds=(("rapid_test:retest", 1.0),)),
    ActionSpec("rapid_test.confirm_retest", SERVICE, confirm_retest, consumes="rapid_test:retest",
               delay_hours=(4, 48)),
    ActionSpec("rapid_test.notice", SERVICE, daily_notice, per_office_daily=3.0, profile="room", officer=False,
               summary="the public reads a room's daily results"),
]
