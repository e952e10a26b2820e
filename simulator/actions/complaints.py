"""12315: complaints, reports and inquiries arrive (by phone, online, through the gateway's public
form, referred by 12345, in person, by letter) and the office handles each to its end."""

from __future__ import annotations

from simulator import content
from simulator.context import ActionSpec, Ctx, NotReady
from simulator.world import Office, Work
from supervision.complaints.v1 import complaints_pb2 as pb
from supervision.complaints.v1 import complaints_pb2_grpc as pb_grpc

SERVICE = "complaints"
DISTRICT_QUEUE = "_district_queue"
# How people reach 12315 (the form is counted apart, as complaint.form).
CHANNELS = {pb.CHANNEL_HOTLINE_12315: 0.55, pb.CHANNEL_ONLINE_12315: 0.15, pb.CHANNEL_REFERRAL_12345: 0.2,
            pb.CHANNEL_WALK_IN: 0.07, pb.CHANNEL_LETTER: 0.03}
# Seconds between the contact and the moment it is entered (a letter is opened a day or two later).
ENTRY_LAG = {pb.CHANNEL_HOTLINE_12315: (5, 300), pb.CHANNEL_ONLINE_12315: (1, 30),
             pb.CHANNEL_REFERRAL_12345: (600, 7200), pb.CHANNEL_WALK_IN: (60, 900),
             pb.CHANNEL_LETTER: (86_400, 172_800)}
ACCEPTED_SHARE = 0.85
MEDIATION = {pb.MEDIATION_OUTCOME_RESOLVED: 0.7, pb.MEDIATION_OUTCOME_FAILED: 0.2, pb.MEDIATION_OUTCOME_TERMINATED: 0.1}
FEEDBACK_SHARE = 0.5
REPORT_ANONYMOUS = 0.3
REPORT_FILED = 0.3
INQUIRY_ANONYMOUS = 0.1
GROUNDS = [pb.REFUSAL_GROUND_OUTSIDE_DUTIES, pb.REFUSAL_GROUND_HANDLED_ELSEWHERE,
           pb.REFUSAL_GROUND_NO_CONSUMER_DISPUTE, pb.REFUSAL_GROUND_TIME_BARRED]
RATINGS = ([pb.FEEDBACK_RATING_SATISFIED, pb.FEEDBACK_RATING_BASICALLY_SATISFIED, pb.FEEDBACK_RATING_DISSATISFIED],
           [0.7, 0.2, 0.1])


def _stub(ctx: Ctx) -> pb_grpc.ComplaintServiceStub:
    return ctx.stub(SERVICE, pb_grpc.ComplaintServiceStub)


def respondent(ctx: Ctx, office: Office) -> tuple[str, str, str, str]:
    """(name, credit code, address, street) of a business of the office: one it supervises when
    mobile_enforcement listed them, else a shop in its streets."""
    if office.businesses:
        business = ctx.rng.choice(office.businesses)
        return business.name, business.uscc if ctx.chance(0.6) else "", business.address, business.street
    street = ctx.rng.choice(office.streets)
    return content.shop_name(ctx.rng, street), "", content.address(ctx.rng, street), street


def complainant(ctx: Ctx, anonymous: bool) -> pb.Complainant:
    if anonymous:
        return pb.Complainant(anonymous=True)
    return pb.Complainant(name=content.person_name(ctx.rng), phone=content.mobile_number(ctx.rng),
                          id_number=content.id_number(ctx.rng) if ctx.chance(0.2) else "")


# The 12315 codes of the subjects whose words the classification does not read by itself (the others,
# e.g. 食品安全 or 价格, are names or aliases of a class and are classified by complaints).
CATEGORY_CODES = {"无证经营": "S0101", "计量": "S0802"}
REWARD_LEVELS = (pb.REWARD_LEVEL_FIRST, pb.REWARD_LEVEL_SECOND, pb.REWARD_LEVEL_THIRD)
# The share of filed reports the office judges serious enough to carry a reward level.
REPORT_REWARDED = 0.5


async def _create(ctx: Ctx, work: Work, kind: int, anonymous: bool) -> None:
    office = ctx.district.offices[work.office_id]
    channel = ctx.rng.choices(list(CHANNELS), list(CHANNELS.values()))[0]
    if kind == pb.COMPLAINT_KIND_INQUIRY:
        category, description = "咨询", ctx.rng.choice(content.INQUIRIES)
        name, uscc, address, street = "", "", "", ""
        if ctx.chance(0.5):  # a question about a particular business still routes to its office
            name, uscc, address, street = respondent(ctx, office)
    else:
        subjects = content.COMPLAINT_SUBJECTS if kind == pb.COMPLAINT_KIND_COMPLAINT else content.REPORT_SUBJECTS
        category = ctx.rng.choice(list(subjects))
        description = ctx.rng.choice(subjects[category])
        name, uscc, address, street = respondent(ctx, office)
    if not street:
        street = ctx.rng.choice(office.streets)
    lag = ENTRY_LAG[channel]
    item = pb.Complaint(
        kind=kind, channel=channel, received_at=ctx.ago(*lag), complainant=complainant(ctx, anonymous),
        respondent=pb.Respondent(name=name, uscc=uscc, address=address, street=street), category=category,
        category_code=CATEGORY_CODES.get(category, ""), description=description,
        amount_yuan=content.amount_yuan(ctx.rng) if kind == pb.COMPLAINT_KIND_COMPLAINT and ctx.chance(0.6) else "")
    created = await _stub(ctx).CreateComplaint(pb.CreateComplaintRequest(request_id=ctx.request_id("complaint"),
                                                                         complaint=item), timeout=ctx.timeout)
    received(ctx, created.id, created.office_id, kind, anonymous)


def received(ctx: Ctx, complaint_id: str, office_id: str, kind: int, anonymous: bool) -> None:
    """Hands a new item to its office's desk; one the service could not route waits in the district
    queue, which the bureau handles (not simulated)."""
    ctx.known.add(complaint_id)
    if office_id == DISTRICT_QUEUE or office_id not in ctx.district.offices:
        return
    queue = {pb.COMPLAINT_KIND_COMPLAINT: "complaint:received", pb.COMPLAINT_KIND_REPORT: "report:received",
             pb.COMPLAINT_KIND_INQUIRY: "inquiry:received"}[kind]
    ctx.handoff(queue, Work(complaint_id, office_id, {"anonymous": anonymous}))


async def create_complaint(ctx: Ctx, work: Work) -> None:
    await _create(ctx, work, pb.COMPLAINT_KIND_COMPLAINT, anonymous=False)


async def create_report(ctx: Ctx, work: Work) -> None:
    await _create(ctx, work, pb.COMPLAINT_KIND_REPORT, anonymous=ctx.chance(REPORT_ANONYMOUS))


async def create_inquiry(ctx: Ctx, work: Work) -> None:
    await _create(ctx, work, pb.COMPLAINT_KIND_INQUIRY, anonymous=ctx.chance(INQUIRY_ANONYMOUS))


async def submit_form(ctx: Ctx, work: Work) -> None:
    """A citizen fills in the public complaint form (gateway, POST /api/v1/complaints)."""
    office = ctx.district.offices[work.office_id]
    if ctx.form_bucket is None or not ctx.form_bucket.take():
        raise NotReady("the form's rate limit for this client is used up")
    category = ctx.rng.choice(list(content.COMPLAINT_SUBJECTS))
    name, uscc, address, street = respondent(ctx, office)
    # The form takes a request id only as a token the gateway issued (one per form).
    token = (await ctx.clients.http("GET", "/api/v1/complaints/form-token"))["token"]
    form = {"kind": "complaint", "request_id": token,
            "complainant": {"name": content.person_name(ctx.rng), "phone": content.mobile_number(ctx.rng)},
            "respondent": {"name": name, "uscc": uscc, "address": address, "street": street},
            "category": category, "description": ctx.rng.choice(content.COMPLAINT_SUBJECTS[category]),
            "amount_yuan": content.amount_yuan(ctx.rng) if ctx.chance(0.5) else ""}
    created = await ctx.clients.http("POST", "/api/v1/complaints", form)
    received(ctx, created["id"], created["office_id"], pb.COMPLAINT_KIND_COMPLAINT, anonymous=False)


async def accept(ctx: Ctx, work: Work) -> None:
    await _stub(ctx).AcceptComplaint(pb.AcceptComplaintRequest(id=work.id, note="符合受理条件，予以受理并组织调解"),
                                     timeout=ctx.timeout)
    ctx.handoff("complaint:accepted", work)


async def refuse(ctx: Ctx, work: Work) -> None:
    await _stub(ctx).RefuseComplaint(pb.RefuseComplaintRequest(id=work.id, ground=ctx.rng.choice(GROUNDS),
                                                               note="经审查不予受理，已告知投诉人"),
                                     timeout=ctx.timeout)
    _closed(ctx, work)


async def mediate(ctx: Ctx, work: Work) -> None:
    outcome = ctx.rng.choices(list(MEDIATION), list(MEDIATION.values()))[0]
    note = "双方达成调解协议" if outcome == pb.MEDIATION_OUTCOME_RESOLVED else "调解未能达成一致"
    await _stub(ctx).RecordMediationOutcome(pb.RecordMediationOutcomeRequest(id=work.id, outcome=outcome, note=note),
                                            timeout=ctx.timeout)
    if outcome == pb.MEDIATION_OUTCOME_RESOLVED:
        _closed(ctx, work)
    else:  # ended without agreement: both parties are told
        ctx.handoff("complaint:notice", work)


async def notify(ctx: Ctx, work: Work) -> None:
    await _stub(ctx).RecordNotification(pb.RecordNotificationRequest(id=work.id, note="已电话告知双方终止调解"),
                                        timeout=ctx.timeout)
    _closed(ctx, work)


async def feedback(ctx: Ctx, work: Work) -> None:
    rating = ctx.rng.choices(*RATINGS)[0]
    await _stub(ctx).RecordFeedback(pb.RecordFeedbackRequest(id=work.id, rating=rating, comment="回访记录"),
                                    timeout=ctx.timeout)


def _closed(ctx: Ctx, work: Work) -> None:
    """Handling ended: some complainants answer the satisfaction call (never an anonymous one)."""
    if not work.info.get("anonymous") and ctx.chance(FEEDBACK_SHARE):
        ctx.handoff("complaint:closed", work)


async def verify_report(ctx: Ctx, work: Work) -> None:
    await _stub(ctx).VerifyReport(pb.VerifyReportRequest(id=work.id, note="经现场核查，举报情况基本属实"),
                                  timeout=ctx.timeout)
    ctx.handoff("report:verified", work)


async def decide_report(ctx: Ctx, work: Work) -> None:
    file_case = ctx.chance(REPORT_FILED)
    rewarded = file_case and ctx.chance(REPORT_REWARDED)
    await _stub(ctx).DecideReport(pb.DecideReportRequest(
        id=work.id, file_case=file_case, note="" if file_case else "违法事实不成立，不予立案",
        reward_level=ctx.rng.choice(REWARD_LEVELS) if rewarded else pb.REWARD_LEVEL_UNSPECIFIED,
        reward_basis="举报线索与查实的违法事实相符" if rewarded else ""), timeout=ctx.timeout)
    # Filing raises a lead in mobile_enforcement (CaseLeadRaised); leads are picked up there.
    if not work.info.get("anonymous"):
        ctx.handoff("report:decided", work)


async def notify_reporter(ctx: Ctx, work: Work) -> None:
    await _stub(ctx).RecordNotification(pb.RecordNotificationRequest(id=work.id, note="已书面告知举报人处理结果"),
                                        timeout=ctx.timeout)
    _closed(ctx, work)


async def answer(ctx: Ctx, work: Work) -> None:
    await _stub(ctx).AnswerInquiry(pb.AnswerInquiryRequest(id=work.id, answer="已按相关规定电话答复"),
                                   timeout=ctx.timeout)
    _closed(ctx, work)


async def list_open(ctx: Ctx, work: Work) -> None:
    """An office head looks at the desk's open items."""
    await _stub(ctx).ListComplaints(pb.ListComplaintsRequest(
        page_size=50, filter=f'office_id = "{work.office_id}" AND state = COMPLAINT_STATE_RECEIVED'),
        timeout=ctx.timeout)


# Per average office and day: Minhang's 14 offices see some 180 complaints, 40 reports and 100
# inquiries a day between them (an assumption of the simulation, not a published figure).
SPECS = [
    ActionSpec("complaint.create", SERVICE, create_complaint, per_office_daily=12.0, profile="hotline",
               officer=False, feeds=(("complaint:received", 1.0),), summary="a complaint comes in (12315/12345 ...)"),
    ActionSpec("complaint.form", "gateway_http", submit_form, per_office_daily=1.0, profile="online", officer=False,
               also=(SERVICE,), feeds=(("complaint:received", 1.0),), fallback="complaint.create",
               ready=lambda ctx: ctx.form_bucket is not None and ctx.form_bucket.ready(),
               summary="a citizen submits the gateway's public complaint form"),
    ActionSpec("report.create", SERVICE, create_report, per_office_daily=3.0, profile="hotline", officer=False,
               feeds=(("report:received", 1.0),), summary="a report (举报) comes in"),
    ActionSpec("inquiry.create", SERVICE, create_inquiry, per_office_daily=7.0, profile="hotline", officer=False,
               feeds=(("inquiry:received", 1.0),), summary="an inquiry comes in"),
    ActionSpec("complaint.accept", SERVICE, accept, consumes="complaint:received", share=ACCEPTED_SHARE,
               delay_hours=(2, 72), feeds=(("complaint:accepted", 1.0),)),
    ActionSpec("complaint.refuse", SERVICE, refuse, consumes="complaint:received", share=1 - ACCEPTED_SHARE,
               delay_hours=(2, 72), feeds=(("complaint:closed", FEEDBACK_SHARE),)),
    ActionSpec("complaint.mediate", SERVICE, mediate, consumes="complaint:accepted", delay_hours=(24, 240),
               feeds=(("complaint:closed", 0.7 * FEEDBACK_SHARE), ("complaint:notice", 0.3))),
    ActionSpec("complaint.notify", SERVICE, notify, consumes="complaint:notice", delay_hours=(4, 48),
               feeds=(("complaint:closed", FEEDBACK_SHARE),)),
    ActionSpec("complaint.feedback", SERVICE, feedback, consumes="complaint:closed", delay_hours=(24, 96)),
    ActionSpec("report.verify", SERVICE, verify_report, consumes="report:received", delay_hours=(4, 72),
               feeds=(("report:verified", 1.0),)),
    ActionSpec("report.decide", SERVICE, decide_report, consumes="report:verified", delay_hours=(24, 120),
               feeds=(("report:decided", 1 - REPORT_ANONYMOUS),)),
    ActionSpec("report.notify", SERVICE, notify_reporter, consumes="report:decided", delay_hours=(4, 48),
               feeds=(("complaint:closed", FEEDBACK_SHARE),)),
    ActionSpec("inquiry.answer", SERVICE, answer, consumes="inquiry:received", delay_hours=(0.2, 8),
               feeds=(("complaint:closed", (1 - INQUIRY_ANONYMOUS) * FEEDBACK_SHARE),)),
    ActionSpec("complaint.list", SERVICE, list_open, per_office_daily=6.0, summary="an office head reads the desk"),
]
