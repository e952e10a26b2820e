"""移动执法, cases: leads (from inspections, reports, rapid-test positives) are filed and taken
through the whole penalty procedure: the investigation concluded, the legal review and collective
discussion when the intended penalty needs them, the advance notice, the party's statement (or a
hearing), the decision, its publication, delivery and execution (the fine paid with exactly the
surcharge owed), and the closure.

The services judge every period by the real date, which a run of minutes or hours hardly moves: a
party always waives the rest of its statement period (so the decision can follow in the run), and a
hearing, set days ahead, is held only when a long run reaches its day.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from google.protobuf import timestamp_pb2
from google.type import money_pb2

from simulator.actions.enforcement import SERVICE, cases, conflicted_officers, documents, team
from simulator.clock import SHANGHAI
from simulator.context import ActionSpec, Ctx, NotReady
from simulator.world import Work
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

LEAD_DECISIONS = {"file": 0.6, "decline": 0.2, "simplified": 0.2}
# Simplified procedure limits of the 2021 rules: 200 yuan for a citizen, 3,000 for an organisation.
SIMPLIFIED_FINE = {pb.PARTY_KIND_INDIVIDUAL: (50, 200), pb.PARTY_KIND_ORGANISATION: (500, 3000)}
# A hearing is set this many days ahead: beyond the notice period of any rule set (7 days in 2021).
HEARING_AFTER_DAYS = 10
# How decisions reach the parties (送达方式).
DELIVERY_SHARES = ((pb.DELIVERY_METHOD_DIRECT, 0.75), (pb.DELIVERY_METHOD_MAIL, 0.15),
                   (pb.DELIVERY_METHOD_ELECTRONIC, 0.07), (pb.DELIVERY_METHOD_LEFT_AT_RESIDENCE, 0.03))
DELIVERY_METHODS = [method for method, _ in DELIVERY_SHARES]


async def pick_up_leads(ctx: Ctx, work: Work) -> None:
    """Leads the service opened from events (a report filed, a rapid-test positive confirmed)."""
    page = await cases(ctx).ListCases(pb.ListCasesRequest(
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
    filed = await cases(ctx).FileCase(pb.FileCaseRequest(id=work.id, officer_ids=officers), timeout=ctx.timeout)
    work.info["team"] = list(filed.officer_ids)
    ctx.handoff("case:filed", work)


async def decline(ctx: Ctx, work: Work) -> None:
    await cases(ctx).DeclineLead(pb.DeclineLeadRequest(id=work.id, reason="经核查，违法事实不成立，不予立案"),
                                  timeout=ctx.timeout)


def _sanction(kind: int, yuan: int = 0, detail: str = "", days: int = 0) -> pb.Sanction:
    sanction = pb.Sanction(kind=kind, detail=detail, duration_days=days)
    if yuan:
        sanction.amount.CopyFrom(_money(Decimal(yuan)))
    return sanction


def _money(amount: Decimal) -> money_pb2.Money:
    units = int(amount)
    return money_pb2.Money(currency_code="CNY", units=units, nanos=int((amount - units) * 1_000_000_000))


def _yuan(money: money_pb2.Money) -> Decimal:
    return Decimal(money.units) + Decimal(money.nanos) / Decimal(1_000_000_000)


async def decide_on_the_spot(ctx: Ctx, work: Work) -> None:
    """Simplified procedure (当场处罚): a warning or a small fine; the case closes at once."""
    party = _party_kind(work)
    if ctx.chance(0.5):
        sanction = _sanction(pb.PENALTY_KIND_WARNING)
    else:
        low, high = SIMPLIFIED_FINE[party]
        sanction = _sanction(pb.PENALTY_KIND_FINE, ctx.rng.randint(low, high))
    penalty = pb.Penalty(party_kind=party, simplified=True, sanctions=[sanction])
    await cases(ctx).DecideCase(pb.DecideCaseRequest(id=work.id, penalty=penalty, note="当场作出处罚决定"),
                                 timeout=ctx.timeout)


def intended_penalty(ctx: Ctx, party: int) -> pb.Penalty:
    """What the investigation finds deserved: mostly a fine, sometimes with the illegal gains or goods
    confiscated, now and then a suspension or a revoked licence (which need a legal review, and open
    a hearing), a warning, or no penalty. The service classes it by its rule set; the simulator only
    follows the flags the case comes back with."""
    fine = ctx.rng.randint(10, 800) * 100 if party == pb.PARTY_KIND_ORGANISATION else ctx.rng.randint(5, 150) * 100
    roll = ctx.rng.random()
    if roll < 0.45:
        sanctions = [_sanction(pb.PENALTY_KIND_FINE, fine)]
    elif roll < 0.55:
        sanctions = [_sanction(pb.PENALTY_KIND_FINE, fine),
                     _sanction(pb.PENALTY_KIND_CONFISCATE_GAINS, ctx.rng.randint(2, 50) * 100)]
    elif roll < 0.6:
        sanctions = [_sanction(pb.PENALTY_KIND_CONFISCATE_GOODS, detail="过期食品一批，已登记保存"),
                     _sanction(pb.PENALTY_KIND_FINE, fine)]
    elif roll < 0.65:
        sanctions = [_sanction(pb.PENALTY_KIND_WARNING), _sanction(pb.PENALTY_KIND_PUBLIC_CRITICISM)]
    elif roll < 0.68:
        sanctions = [_sanction(pb.PENALTY_KIND_FINE, fine),
                     _sanction(pb.PENALTY_KIND_SUSPEND_BUSINESS, days=ctx.rng.choice((7, 15, 30)))]
    elif roll < 0.72:
        sanctions = [_sanction(pb.PENALTY_KIND_REVOKE_LICENCE, detail="食品经营许可证"),
                     _sanction(pb.PENALTY_KIND_FINE, fine)]
    elif roll < 0.9:
        sanctions = [_sanction(pb.PENALTY_KIND_WARNING)]
    else:
        sanctions = [_sanction(pb.PENALTY_KIND_NONE)]
    return pb.Penalty(party_kind=party, sanctions=sanctions)


def _no_penalty(penalty: pb.Penalty) -> bool:
    return all(s.kind == pb.PENALTY_KIND_NONE for s in penalty.sanctions)


async def outsider(ctx: Ctx, work: Work) -> str:
    """An officer of the office who may review or hear the case: not on its team, without a declared
    conflict with the party (法制审核人员、听证主持人 are others than the investigators)."""
    office = ctx.district.offices[work.office_id]
    conflicted = await conflicted_officers(ctx, work.info["entity"]) if work.info.get("entity") else set()
    able = [o for o in office.certified() if o not in work.info.get("team", ()) and o not in conflicted]
    if not able:
        raise NotReady(f"office {work.office_id} has no officer off the case who may review or hear {work.id}")
    return ctx.rng.choice(able)


def _after_conclusion(ctx: Ctx, work: Work, case: pb.Case) -> None:
    """The next step of a concluded case: the legal review or collective discussion it needs first,
    else the advance notice."""
    if case.state == pb.CASE_STATE_INVESTIGATED and case.legal_review_required and not case.HasField(
            "legal_reviewed_on"):
        ctx.handoff("case:review", work)
    elif case.collective_discussion_required and not case.HasField("collective_discussed_on"):
        ctx.handoff("case:discuss", work)
    else:
        ctx.handoff("case:notify", work)


async def conclude(ctx: Ctx, work: Work) -> None:
    """调查终结: the facts, the legal basis and the intended penalty."""
    penalty = intended_penalty(ctx, _party_kind(work))
    case = await cases(ctx).ConcludeInvestigation(pb.ConcludeInvestigationRequest(
        id=work.id, facts="经调查，当事人经营超过保质期的食品，有现场检查笔录、询问笔录、进货单据为证。",
        legal_basis="《中华人民共和国食品安全法》第三十四条第（十）项、第一百二十四条第一款第（五）项",
        proposed_penalty=penalty), timeout=ctx.timeout)
    work.info["penalty"] = penalty.SerializeToString()
    _after_conclusion(ctx, work, case)


async def submit_for_review(ctx: Ctx, work: Work) -> None:
    await cases(ctx).SubmitForLegalReview(pb.SubmitForLegalReviewRequest(id=work.id), timeout=ctx.timeout)
    ctx.handoff("case:reviewing", work)


async def legal_review(ctx: Ctx, work: Work) -> None:
    """法制审核 by an officer off the case; now and then the case goes back for more investigation."""
    reviewer = await outsider(ctx, work)
    approved = not ctx.chance(0.05)
    case = await cases(ctx).RecordLegalReview(pb.RecordLegalReviewRequest(
        id=work.id, reviewer_id=reviewer, approved=approved,
        opinion="事实清楚，证据确凿，适用依据正确，程序合法，处罚适当" if approved else "证据不足，退回补充调查"),
        timeout=ctx.timeout)
    if approved:
        _after_conclusion(ctx, work, case)
    else:
        ctx.handoff("case:filed", work)


async def collective_discussion(ctx: Ctx, work: Work) -> None:
    await cases(ctx).RecordCollectiveDiscussion(pb.RecordCollectiveDiscussionRequest(
        id=work.id, record="局务会议集体讨论：参会负责人一致同意拟处罚意见"), timeout=ctx.timeout)
    ctx.handoff("case:notify", work)


async def advance_notice(ctx: Ctx, work: Work) -> None:
    """行政处罚告知: the statement and defence period starts."""
    case = await cases(ctx).IssueAdvanceNotice(pb.IssueAdvanceNoticeRequest(id=work.id), timeout=ctx.timeout)
    work.info["hearing_eligible"] = case.hearing_eligible
    ctx.handoff("case:notified", work)


async def statement(ctx: Ctx, work: Work) -> None:
    """The party states its case or waives the period. The services judge periods by the real date,
    which a run of minutes never moves: without the waiver no decision could follow in the run, so
    the party waives (recorded in the trail), with or without a statement."""
    said = ctx.chance(0.4)
    await cases(ctx).RecordStatement(pb.RecordStatementRequest(
        id=work.id, statement="当事人对违法事实无异议，请求从轻处罚" if said else "", waived=True), timeout=ctx.timeout)
    ctx.handoff("case:deciding", work)


async def request_hearing(ctx: Ctx, work: Work) -> None:
    """The party asks for a hearing (听证), when the intended penalty opens one."""
    if not work.info.get("hearing_eligible"):
        raise NotReady("the intended penalty opens no hearing")
    await cases(ctx).RequestHearing(pb.RequestHearingRequest(id=work.id), timeout=ctx.timeout)
    ctx.handoff("case:hearing", work)


async def schedule_hearing(ctx: Ctx, work: Work) -> None:
    """The hearing is set HEARING_AFTER_DAYS ahead (beyond the notice the rule set requires) at 09:30,
    hosted by an officer off the case."""
    host = await outsider(ctx, work)
    day = ctx.today() + dt.timedelta(days=HEARING_AFTER_DAYS)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    when = timestamp_pb2.Timestamp()
    when.FromDatetime(dt.datetime.combine(day, dt.time(9, 30), SHANGHAI))
    await cases(ctx).ScheduleHearing(pb.ScheduleHearingRequest(id=work.id, host_id=host, hearing_time=when,
                                                                place="区局三楼听证室"), timeout=ctx.timeout)
    work.info["hearing_day"] = day.isoformat()
    ctx.handoff("case:hearing_scheduled", work)


async def hold_hearing(ctx: Ctx, work: Work) -> None:
    """On the hearing's day the hearing is held and recorded; before it the officer only looks the case
    up and comes back later (a short run never reaches the day: its cases wait in HEARING)."""
    if ctx.today() < dt.date.fromisoformat(work.info["hearing_day"]):
        await cases(ctx).GetCase(pb.GetCaseRequest(id=work.id), timeout=ctx.timeout)
        ctx.handoff("case:hearing_scheduled", work)
        return
    await cases(ctx).RecordHearing(pb.RecordHearingRequest(
        id=work.id, record="听证笔录：当事人陈述申辩意见已听取，主持人意见为维持拟处罚决定"), timeout=ctx.timeout)
    ctx.handoff("case:deciding", work)


async def decide(ctx: Ctx, work: Work) -> None:
    """The decision: what was notified, or now and then a lighter fine after the statement."""
    penalty = pb.Penalty.FromString(work.info["penalty"])
    if ctx.chance(0.1):
        for sanction in penalty.sanctions:
            if sanction.kind == pb.PENALTY_KIND_FINE and sanction.amount.units >= 200:
                sanction.amount.units = sanction.amount.units // 200 * 100  # halved, whole hundreds
    await cases(ctx).DecideCase(pb.DecideCaseRequest(id=work.id, penalty=penalty, note="经调查终结，作出处理决定"),
                                 timeout=ctx.timeout)
    # The decision is a document (行政处罚决定书), numbered and printed to be delivered.
    await documents(ctx).IssueDocument(pb.IssueDocumentRequest(
        request_id=ctx.request_id("decision"), subject=f"case/{work.id}", kind=pb.DOCUMENT_KIND_PENALTY_DECISION),
        timeout=ctx.timeout)
    # A penalty is published (企业信息公示); a decision not to punish is not.
    ctx.handoff("case:delivering" if _no_penalty(penalty) else "case:decided", work)


async def publish_decision(ctx: Ctx, work: Work) -> None:
    await cases(ctx).PublishDecision(pb.PublishDecisionRequest(id=work.id), timeout=ctx.timeout)
    ctx.handoff("case:delivering", work)


async def deliver(ctx: Ctx, work: Work) -> None:
    """送达 of the decision, mostly in person."""
    method = ctx.rng.choices(DELIVERY_METHODS, [w for _, w in DELIVERY_SHARES])[0]
    await cases(ctx).RecordDelivery(pb.RecordDeliveryRequest(id=work.id, method=method), timeout=ctx.timeout)
    penalty = pb.Penalty.FromString(work.info["penalty"])
    ctx.handoff("case:closing" if _no_penalty(penalty) else "case:executing", work)


async def execute(ctx: Ctx, work: Work) -> None:
    """The party pays the fine and the surcharge owed today, exactly as the case says (or the other
    penalties are carried out)."""
    case = await cases(ctx).GetCase(pb.GetCaseRequest(id=work.id), timeout=ctx.timeout)
    request = pb.RecordExecutionRequest(id=work.id, note="处罚决定已执行完毕")
    fines = [_yuan(s.amount) for s in case.penalty.sanctions if s.kind == pb.PENALTY_KIND_FINE]
    if fines:
        request.amount_paid.CopyFrom(_money(fines[0] + _yuan(case.surcharge)))
    await cases(ctx).RecordExecution(request, timeout=ctx.timeout)
    ctx.handoff("case:closing", work)


async def close_case(ctx: Ctx, work: Work) -> None:
    await cases(ctx).CloseCase(pb.CloseCaseRequest(id=work.id, note="处罚决定已执行完毕，结案"), timeout=ctx.timeout)


SPECS = [
    ActionSpec("case.pickup", SERVICE, pick_up_leads, per_office_daily=2.0, summary="an office lists its new leads"),
    ActionSpec("case.file", SERVICE, file_case, consumes="case:lead", share=LEAD_DECISIONS["file"],
               delay_hours=(24, 240), feeds=(("case:filed", 1.0),)),
    ActionSpec("case.decline", SERVICE, decline, consumes="case:lead", share=LEAD_DECISIONS["decline"],
               delay_hours=(24, 240)),
    ActionSpec("case.simplified", SERVICE, decide_on_the_spot, consumes="case:lead",
               share=LEAD_DECISIONS["simplified"], delay_hours=(1, 24)),
    # The ordinary procedure (一般程序): each step within its statutory limit, mostly well within it.
    ActionSpec("case.conclude", SERVICE, conclude, consumes="case:filed", delay_hours=(72, 600),
               feeds=(("case:review", 0.1), ("case:notify", 0.9))),
    ActionSpec("case.review_submit", SERVICE, submit_for_review, consumes="case:review", delay_hours=(2, 48),
               feeds=(("case:reviewing", 1.0),)),
    ActionSpec("case.legal_review", SERVICE, legal_review, consumes="case:reviewing", delay_hours=(24, 168),
               feeds=(("case:filed", 0.05), ("case:discuss", 0.2), ("case:notify", 0.75))),
    ActionSpec("case.discuss", SERVICE, collective_discussion, consumes="case:discuss", delay_hours=(24, 120),
               feeds=(("case:notify", 1.0),)),
    ActionSpec("case.notify", SERVICE, advance_notice, consumes="case:notify", delay_hours=(2, 48),
               feeds=(("case:notified", 1.0),)),
    # The party answers the notice: a statement (or its waiver), or, for a penalty that opens one, a
    # request for a hearing (the statement instead when the penalty opens none).
    ActionSpec("case.statement", SERVICE, statement, consumes="case:notified", share=0.85, delay_hours=(2, 72),
               feeds=(("case:deciding", 1.0),)),
    ActionSpec("case.hearing_request", SERVICE, request_hearing, consumes="case:notified", share=0.15,
               delay_hours=(2, 72), fallback="case.statement", feeds=(("case:hearing", 1.0),)),
    ActionSpec("case.hearing_schedule", SERVICE, schedule_hearing, consumes="case:hearing", delay_hours=(2, 48),
               feeds=(("case:hearing_scheduled", 1.0),)),
    ActionSpec("case.hearing_hold", SERVICE, hold_hearing, consumes="case:hearing_scheduled", delay_hours=(24, 48),
               feeds=(("case:deciding", 1.0),)),
    ActionSpec("case.decide", SERVICE, decide, consumes="case:deciding", delay_hours=(24, 120),
               feeds=(("case:decided", 0.9), ("case:delivering", 0.1))),
    ActionSpec("case.publish", SERVICE, publish_decision, consumes="case:decided", delay_hours=(2, 72),
               feeds=(("case:delivering", 1.0),)),
    ActionSpec("case.deliver", SERVICE, deliver, consumes="case:delivering", delay_hours=(2, 96),
               feeds=(("case:executing", 0.9), ("case:closing", 0.1))),
    ActionSpec("case.execute", SERVICE, execute, consumes="case:executing", delay_hours=(24, 300),
               feeds=(("case:closing", 1.0),)),
    ActionSpec("case.close", SERVICE, close_case, consumes="case:closing", delay_hours=(24, 120)),
]
