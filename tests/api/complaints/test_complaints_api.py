"""complaints through a real gRPC server, on SQLite and on PostgreSQL, with offices learned from
command_center's events on the in-process bus."""

from __future__ import annotations

import datetime as dt

import grpc
from google.type import date_pb2

from supervision.common.v1 import indicators_pb2
from supervision.complaints.v1 import complaints_pb2 as pb
from supervision.complaints.v1 import events_pb2 as events
from tests.api.complaints.support import ID_NUMBER, NAME, PHONE, TODAY, at, complaint, expect_error

QUEUE = "_district_queue"


def day(value: date_pb2.Date) -> dt.date:
    return dt.date(value.year, value.month, value.day)


def clock(item: pb.Complaint, kind: int) -> pb.Deadline:
    return next(d for d in item.deadlines if d.kind == kind)


# ---------------------------------------------------------------- intake


def test_create_routes_by_street_and_computes_the_acceptance_due_date(client):
    created = client.create("r1", amount_yuan="1280.5", id_number=ID_NUMBER)
    assert (created.office_id, created.state) == ("MH02", pb.COMPLAINT_STATE_RECEIVED)
    # Received Monday 2026-11-02: seven working days, the day itself not counted.
    assert day(created.acceptance_due) == dt.date(2026, 11, 11) and not created.acceptance_due_provisional
    assert created.amount_yuan == "1280.50" and not created.personal_data_masked
    assert (created.complainant.name, created.complainant.phone) == (NAME, PHONE)
    assert [d.rule_set for d in created.deadlines] == ["samr-order-121"]
    assert [h.action for h in created.history] == ["received"]
    assert client.get(created.id) == created
    [received] = client.events(events.ComplaintReceived)
    assert (received.complaint_id, received.office_id, received.state, received.channel) == (
        created.id, "MH02", "RECEIVED", "HOTLINE_12315")
    assert (day(received.acceptance_due), received.rule_set) == (dt.date(2026, 11, 11), "samr-order-121")
    assert received.respondent.street == "七宝镇" and received.received_at == created.received_at
    assert client.readings("MH02")["complaints.backlog"] == (1, 1)


def test_repeated_request_id_returns_the_first_result(client):
    first = client.create("same")
    again = client.create("same")
    assert again == first
    assert client.counts()["complaints"] == 1 and len(client.events(events.ComplaintReceived)) == 1


def test_routing_falls_back_to_the_address_then_to_the_district_queue(client):
    by_address = client.create(street="", address="上海市闵行区莘庄镇莘松路1号")
    assert by_address.office_id == "MH01"
    waiting = client.create(street="颛桥镇", address="闵行区都市路5001号")
    assert waiting.office_id == QUEUE
    expect_error(lambda: client.stub.AcceptComplaint(pb.AcceptComplaintRequest(id=waiting.id)),
                 grpc.StatusCode.FAILED_PRECONDITION)
    queue = client.stub.ListComplaints(pb.ListComplaintsRequest(filter=f'office_id = "{QUEUE}"'))
    assert [c.id for c in queue.complaints] == [waiting.id]
    client.announce_office("MH03", ["颛桥镇"])  # an office now covers the street: the item moves there
    moved = client.get(waiting.id)
    assert moved.office_id == "MH03" and [h.action for h in moved.history] == ["received", "routed"]
    assert day(moved.acceptance_due) == day(waiting.acceptance_due)  # nothing restarts
    assert (client.events(events.ComplaintRerouted)[-1].from_office_id,
            client.events(events.ComplaintRerouted)[-1].office_id) == (QUEUE, "MH03")


def test_an_office_update_moves_its_streets(client):
    client.announce_office("MH02", ["虹桥镇"])  # MH02 gives 七宝镇 up ...
    assert client.create().office_id == QUEUE
    client.announce_office("MH01", ["莘庄镇", "七宝镇"])  # ... MH01 takes it, and the waiting item with it
    assert client.create().office_id == "MH01"
    assert {c.office_id for c in client.stub.ListComplaints(pb.ListComplaintsRequest()).complaints} == {"MH01"}
    client.announce_office("MH01", ["莘庄镇"])
    client.announce_office("MH02", ["七宝镇"])
    assert client.create().office_id == "MH02"


def test_bad_complaints_are_invalid_argument_and_change_nothing(client):
    no_time = complaint()
    no_time.ClearField("received_at")
    cases = [
        (complaint(kind=pb.COMPLAINT_KIND_UNSPECIFIED), {"complaint.kind"}),
        (complaint(kind=42), {"complaint.kind"}),
        (complaint(channel=pb.CHANNEL_UNSPECIFIED), {"complaint.channel"}),
        (no_time, {"complaint.received_at"}),
        (complaint(received_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)), {"complaint.received_at"}),
        (complaint(received_at=at(TODAY + dt.timedelta(days=1))), {"complaint.received_at"}),
        (complaint(received_at=at(dt.date(2019, 12, 30))), {"complaint.received_at"}),  # before any rule set
        (complaint(name="", phone="", anonymous=True), {"complaint.complainant.anonymous"}),
        (complaint(kind=pb.COMPLAINT_KIND_REPORT, anonymous=True), {"complaint.complainant.anonymous"}),
        (complaint(name="", phone=""), {"complaint.complainant.name", "complaint.complainant.phone"}),
        (complaint(phone="12345"), {"complaint.complainant.phone"}),
        (complaint(phone="1391234567x"), {"complaint.complainant.phone"}),
        (complaint(id_number="110105194912310021"), {"complaint.complainant.id_number"}),
        (complaint(credit="91310112MA1G000010"), {"complaint.respondent.uscc"}),
        (complaint(credit="91310112MA1G0000IO"), {"complaint.respondent.uscc"}),
        (complaint(respondent="", address=""), {"complaint.respondent.name", "complaint.respondent.address"}),
        (complaint(description=" "), {"complaint.description"}),
        (complaint(category="", description="x" * 4001), {"complaint.category", "complaint.description"}),
        (complaint(amount_yuan="12.345"), {"complaint.amount_yuan"}),
        (complaint(amount_yuan="-5"), {"complaint.amount_yuan"}),
        (complaint(phone="12345", credit="91310112MA1G000010"),
         {"complaint.complainant.phone", "complaint.respondent.uscc"}),
    ]
    before = client.counts()
    for message, fields in cases:
        found = expect_error(lambda m=message: client.stub.CreateComplaint(pb.CreateComplaintRequest(complaint=m)),
                             grpc.StatusCode.INVALID_ARGUMENT)
        assert set(found) == fields, (message, found)
    anonymous = expect_error(lambda: client.create(name="", phone="", anonymous=True),
                             grpc.StatusCode.INVALID_ARGUMENT)
    assert "MISSING_INFORMATION" in anonymous["complaint.complainant.anonymous"]
    assert client.counts() == before


def test_an_anonymous_report_is_accepted_and_nobody_is_asked_for_feedback(client):
    report = client.create(kind=pb.COMPLAINT_KIND_REPORT, name="", phone="", anonymous=True)
    assert report.complainant.anonymous and report.state == pb.COMPLAINT_STATE_RECEIVED
    # Fifteen working days for the filing decision, none for acceptance.
    assert day(report.filing_decision_due) == dt.date(2026, 11, 23) and not report.HasField("acceptance_due")
    client.stub.VerifyReport(pb.VerifyReportRequest(id=report.id, note="现场核查"))
    client.stub.DecideReport(pb.DecideReportRequest(id=report.id, file_case=False, note="证据不足"))
    expect_error(lambda: client.stub.RecordNotification(pb.RecordNotificationRequest(id=report.id, note="告知")),
                 grpc.StatusCode.FAILED_PRECONDITION)
    expect_error(lambda: client.stub.RecordFeedback(pb.RecordFeedbackRequest(
        id=report.id, rating=pb.FEEDBACK_RATING_SATISFIED)), grpc.StatusCode.FAILED_PRECONDITION)


def test_possible_duplicates_are_flagged_and_linked_not_merged(client):
    first = client.create(phone="139-1234-5678")
    again = client.create(phone="+86 13912345678", received_at=at(TODAY, 15))
    other_subject = client.create(category="价格", received_at=at(TODAY, 16))
    assert again.possible_duplicate_of == first.id and again.id != first.id
    assert first.possible_duplicate_of == "" and other_subject.possible_duplicate_of == ""
    assert client.counts()["complaints"] == 3


# ---------------------------------------------------------------- handling


def test_complaint_mediation_without_agreement_then_notice_and_feedback(client):
    item = client.create()
    accepted = client.stub.AcceptComplaint(pb.AcceptComplaintRequest(id=item.id, note="予以受理"))
    mediation = clock(accepted, pb.DEADLINE_KIND_MEDIATION)
    assert accepted.state == pb.COMPLAINT_STATE_ACCEPTED and day(mediation.due_date) == dt.date(2027, 1, 4)
    assert mediation.provisional  # 45 working days from 2026-11-02 reach into 2027, not published yet
    assert clock(accepted, pb.DEADLINE_KIND_ACCEPTANCE).status == pb.DEADLINE_STATUS_MET
    failed = client.stub.RecordMediationOutcome(pb.RecordMediationOutcomeRequest(
        id=item.id, outcome=pb.MEDIATION_OUTCOME_FAILED, note="被投诉人拒绝调解"))
    assert failed.state == pb.COMPLAINT_STATE_MEDIATION_FAILED
    assert day(clock(failed, pb.DEADLINE_KIND_MEDIATION_NOTICE).due_date) == dt.date(2026, 11, 11)
    notified = client.stub.RecordNotification(pb.RecordNotificationRequest(id=item.id, note="电话告知双方"))
    assert notified.HasField("notify_time")
    assert clock(notified, pb.DEADLINE_KIND_MEDIATION_NOTICE).status == pb.DEADLINE_STATUS_MET
    done = client.stub.RecordFeedback(pb.RecordFeedbackRequest(id=item.id, rating=pb.FEEDBACK_RATING_DISSATISFIED,
                                                               comment="希望更快"))
    assert done.feedback.rating == pb.FEEDBACK_RATING_DISSATISFIED and done.version == 5
    assert [h.action for h in done.history] == ["received", "accepted", "mediation failed", "notified", "feedback"]
    [resolved] = client.events(events.ComplaintResolved)
    assert (resolved.outcome, resolved.handled_by, resolved.on_time, list(resolved.officer_ids)) == (
        "MEDIATION_FAILED", "system", True, [])  # AUTH_MODE=off: the system acted, nobody is credited
    assert [(c.clock, day(c.due_date), c.met, c.provisional) for c in resolved.clocks] == [
        ("acceptance", dt.date(2026, 11, 11), True, False), ("mediation", dt.date(2027, 1, 4), True, True)]
    assert day(resolved.resolved_on) == TODAY
    assert client.readings("MH02") == {"complaints.acceptance_on_time": (1, 1), "complaints.mediation_on_time": (1, 1),
                                       "complaints.satisfaction": (0, 1), "complaints.backlog": (0, 1)}


def test_refusal_takes_a_ground_of_the_rule_set_in_force(client):
    item = client.create()
    for ground in (pb.REFUSAL_GROUND_UNSPECIFIED, 99):
        found = expect_error(lambda g=ground: client.stub.RefuseComplaint(pb.RefuseComplaintRequest(
            id=item.id, ground=g)), grpc.StatusCode.INVALID_ARGUMENT)
        assert "ground" in found
    refused = client.stub.RefuseComplaint(pb.RefuseComplaintRequest(
        id=item.id, ground=pb.REFUSAL_GROUND_HANDLED_ELSEWHERE, note="已由消保委受理"))
    assert refused.state == pb.COMPLAINT_STATE_REFUSED
    assert refused.refusal_ground == pb.REFUSAL_GROUND_HANDLED_ELSEWHERE
    [refused_event] = client.events(events.ComplaintRefused)
    assert (refused_event.ground, refused_event.state, refused_event.version) == ("HANDLED_ELSEWHERE", "REFUSED", 2)
    expect_error(lambda: client.stub.RefuseComplaint(pb.RefuseComplaintRequest(
        id=item.id, ground=pb.REFUSAL_GROUND_TIME_BARRED)), grpc.StatusCode.FAILED_PRECONDITION)


def test_transitions_the_state_does_not_allow_are_failed_precondition_and_change_nothing(client):
    item = client.create()
    report = client.create(kind=pb.COMPLAINT_KIND_REPORT)
    inquiry = client.create(kind=pb.COMPLAINT_KIND_INQUIRY, respondent="", address="", credit="")
    calls = [
        lambda: client.stub.AcceptComplaint(pb.AcceptComplaintRequest(id=report.id)),
        lambda: client.stub.VerifyReport(pb.VerifyReportRequest(id=item.id, note="n")),
        lambda: client.stub.DecideReport(pb.DecideReportRequest(id=report.id, file_case=True)),  # not verified
        lambda: client.stub.AnswerInquiry(pb.AnswerInquiryRequest(id=item.id, answer="a")),
        lambda: client.stub.RecordMediationOutcome(pb.RecordMediationOutcomeRequest(
            id=item.id, outcome=pb.MEDIATION_OUTCOME_RESOLVED)),
        lambda: client.stub.RecordNotification(pb.RecordNotificationRequest(id=item.id, note="n")),
        lambda: client.stub.RecordNotification(pb.RecordNotificationRequest(id=inquiry.id, note="n")),
        lambda: client.stub.RecordFeedback(pb.RecordFeedbackRequest(id=item.id, rating=pb.FEEDBACK_RATING_SATISFIED)),
        lambda: client.stub.ExtendFilingDeadline(pb.ExtendFilingDeadlineRequest(
            id=item.id, approved_by="局长", reason="r")),
    ]
    before = client.counts()
    for call in calls:
        expect_error(call, grpc.StatusCode.FAILED_PRECONDITION)
    answered = client.stub.AnswerInquiry(pb.AnswerInquiryRequest(id=inquiry.id, answer="可通过12315平台提交"))
    assert answered.state == pb.COMPLAINT_STATE_ANSWERED
    expect_error(lambda: client.stub.RerouteComplaint(pb.RerouteComplaintRequest(
        id=inquiry.id, office_id="MH01", reason="r")), grpc.StatusCode.FAILED_PRECONDITION)
    after = client.counts()
    assert after["complaints"] == before["complaints"] and after["complaint_deadlines"] == before["complaint_deadlines"]
    assert (client.get(item.id).version, client.get(report.id).version) == (1, 1)


def test_bad_handling_requests_are_invalid_argument_or_not_found(client):
    item = client.create()
    report = client.create(kind=pb.COMPLAINT_KIND_REPORT)
    cases = [
        (lambda: client.stub.AcceptComplaint(pb.AcceptComplaintRequest(id=item.id, note="n" * 2001)), "note"),
        (lambda: client.stub.RecordMediationOutcome(pb.RecordMediationOutcomeRequest(id=item.id)), "outcome"),
        (lambda: client.stub.RecordNotification(pb.RecordNotificationRequest(id=item.id, note=" ")), "note"),
        (lambda: client.stub.VerifyReport(pb.VerifyReportRequest(id=report.id)), "note"),
        (lambda: client.stub.ExtendFilingDeadline(pb.ExtendFilingDeadlineRequest(id=report.id, reason="r")),
         "approved_by"),
        (lambda: client.stub.DecideReport(pb.DecideReportRequest(id=report.id, file_case=False)), "note"),
        (lambda: client.stub.AnswerInquiry(pb.AnswerInquiryRequest(id=item.id)), "answer"),
        (lambda: client.stub.RecordFeedback(pb.RecordFeedbackRequest(id=item.id)), "rating"),
        (lambda: client.stub.RerouteComplaint(pb.RerouteComplaintRequest(id=item.id, office_id="MH01")), "reason"),
        (lambda: client.stub.RerouteComplaint(pb.RerouteComplaintRequest(id=item.id, reason="r")), "office_id"),
        (lambda: client.stub.RerouteComplaint(pb.RerouteComplaintRequest(id=item.id, office_id="MH02", reason="r")),
         "office_id"),
        (lambda: client.stub.ListComplaints(pb.ListComplaintsRequest(page_size=-1)), "page_size"),
        (lambda: client.stub.ListComplaints(pb.ListComplaintsRequest(page_token="nope")), "page_token"),
        (lambda: client.stub.ListComplaints(pb.ListComplaintsRequest(filter="state = OPEN")), "filter"),
        (lambda: client.stub.ListComplaints(pb.ListComplaintsRequest(filter="colour = red")), "filter"),
    ]
    for call, field in cases:
        assert field in expect_error(call, grpc.StatusCode.INVALID_ARGUMENT)
    for call in (lambda: client.get("missing"),
                 lambda: client.stub.AcceptComplaint(pb.AcceptComplaintRequest(id="missing")),
                 lambda: client.stub.RerouteComplaint(pb.RerouteComplaintRequest(
                     id=item.id, office_id="MH77", reason="r"))):
        expect_error(call, grpc.StatusCode.NOT_FOUND)
    assert (client.get(item.id).version, client.get(report.id).version) == (1, 1)


def test_report_is_verified_extended_once_and_filed_as_a_case_lead(client):
    report = client.create(kind=pb.COMPLAINT_KIND_REPORT, id_number=ID_NUMBER,
                           description=f"该店无证经营，举报人{NAME}，电话{PHONE}。")
    client.stub.VerifyReport(pb.VerifyReportRequest(id=report.id, note="现场核查属实"))
    extended = client.stub.ExtendFilingDeadline(pb.ExtendFilingDeadlineRequest(
        id=report.id, approved_by="局负责人", reason="需检验检测"))
    filing = clock(extended, pb.DEADLINE_KIND_FILING_DECISION)
    assert filing.extended and day(extended.filing_decision_due) == dt.date(2026, 12, 14)
    expect_error(lambda: client.stub.ExtendFilingDeadline(pb.ExtendFilingDeadlineRequest(
        id=report.id, approved_by="局负责人", reason="再延")), grpc.StatusCode.FAILED_PRECONDITION)
    filed = client.stub.DecideReport(pb.DecideReportRequest(id=report.id, file_case=True, note="予以立案"))
    assert filed.state == pb.COMPLAINT_STATE_CASE_FILED
    [lead] = client.events(events.CaseLeadRaised)
    assert (lead.complaint_id, lead.office_id, lead.category) == (report.id, "MH02", "食品安全")
    assert lead.respondent.name == "七宝鲜丰超市有限公司" and lead.received_at == report.received_at
    assert NAME not in lead.description and PHONE not in lead.description and "无证经营" in lead.description
    [filed_event] = client.events(events.ComplaintResolved)
    assert (filed_event.outcome, filed_event.on_time, [c.clock for c in filed_event.clocks]) == (
        "CASE_FILED", True, ["filing_decision"])
    client.stub.RecordNotification(pb.RecordNotificationRequest(id=report.id, note="已告知举报人"))
    expect_error(lambda: client.stub.RecordNotification(pb.RecordNotificationRequest(id=report.id, note="again")),
                 grpc.StatusCode.FAILED_PRECONDITION)


def test_reroute_moves_the_item_and_its_running_clock_and_keeps_the_history(client):
    item = client.create()
    moved = client.stub.RerouteComplaint(pb.RerouteComplaintRequest(id=item.id, office_id="MH01",
                                                                     reason="经营地实际在莘庄镇"))
    assert moved.office_id == "MH01" and moved.acceptance_due == item.acceptance_due
    assert [(h.action, h.from_office_id, h.to_office_id) for h in moved.history][-1] == ("rerouted", "MH02", "MH01")
    [rerouted] = client.events(events.ComplaintRerouted)
    assert (rerouted.from_office_id, rerouted.office_id, rerouted.version) == ("MH02", "MH01", moved.version)
    client.stub.AcceptComplaint(pb.AcceptComplaintRequest(id=item.id))
    assert client.readings("MH01")["complaints.acceptance_on_time"] == (1, 1)
    assert client.readings("MH02")["complaints.acceptance_on_time"] == (0, 0)


# ---------------------------------------------------------------- time


def test_the_sweep_marks_overdue_clocks_once_and_moves_the_indicators(client):
    late = client.create()
    sweep = client.running.runtime.timers[0]
    client.running.clock.today = dt.date(2026, 11, 11)  # the due date itself is not overdue
    sweep.run()
    assert client.events(events.ComplaintOverdue) == []
    client.running.clock.today = dt.date(2026, 11, 12)
    sweep.run()
    sweep.run()
    [overdue] = client.events(events.ComplaintOverdue)
    # Received under Order 121, whose figures are marked unconfirmed: the clock runs by a provisional rule.
    assert overdue == events.ComplaintOverdue(complaint_id=late.id, version=2, office_id="MH02", kind="COMPLAINT",
                                              deadline="acceptance", due_date=date_pb2.Date(year=2026, month=11,
                                                                                           day=11),
                                              provisional_rule=True)
    listed = client.stub.ListComplaints(pb.ListComplaintsRequest(filter="overdue = true"))
    assert [c.id for c in listed.complaints] == [late.id]
    assert client.readings("MH02")["complaints.acceptance_on_time"] == (0, 1)
    accepted = client.stub.AcceptComplaint(pb.AcceptComplaintRequest(id=late.id))
    assert clock(accepted, pb.DEADLINE_KIND_ACCEPTANCE).status == pb.DEADLINE_STATUS_LATE and not accepted.overdue
    assert client.readings("MH02")["complaints.acceptance_on_time"] == (0, 1)


def test_due_dates_over_the_spring_festival_and_national_day(client):
    spring = client.create(received_at=at(dt.date(2026, 2, 10)))
    # Feb 14 (Saturday) is worked, Feb 15-23 are holidays: 11, 12, 13, 14, 24, 25, 26.
    assert day(spring.acceptance_due) == dt.date(2026, 2, 26)
    assert [d.rule_set for d in spring.deadlines] == ["samr-order-20"]
    autumn = client.create(kind=pb.COMPLAINT_KIND_REPORT, received_at=at(dt.date(2026, 9, 28)))
    # Oct 1-7 are holidays and Oct 10 (Saturday) is worked: the 15th working day is Oct 23.
    assert day(autumn.filing_decision_due) == dt.date(2026, 10, 23)
    national_day = client.create(received_at=at(dt.date(2026, 9, 30)))
    assert day(national_day.acceptance_due) == dt.date(2026, 10, 15)


def test_due_dates_reaching_into_2027_are_provisional(client):
    client.running.clock.today = dt.date(2026, 11, 25)
    report = client.create(kind=pb.COMPLAINT_KIND_REPORT, received_at=at(dt.date(2026, 11, 20)))
    assert day(report.filing_decision_due) == dt.date(2026, 12, 11) and not report.filing_decision_due_provisional
    extended = client.stub.ExtendFilingDeadline(pb.ExtendFilingDeadlineRequest(
        id=report.id, approved_by="局负责人", reason="需鉴定"))
    assert day(extended.filing_decision_due) == dt.date(2027, 1, 1) and extended.filing_decision_due_provisional


# ---------------------------------------------------------------- lists and indicators


def test_list_pages_newest_first_and_filters(client):
    ids = [client.create(street=street, kind=kind).id
           for street, kind in [("七宝镇", pb.COMPLAINT_KIND_COMPLAINT), ("莘庄镇", pb.COMPLAINT_KIND_REPORT),
                                ("七宝镇", pb.COMPLAINT_KIND_REPORT), ("七宝镇", pb.COMPLAINT_KIND_COMPLAINT),
                                ("莘庄镇", pb.COMPLAINT_KIND_COMPLAINT)]]
    client.stub.AcceptComplaint(pb.AcceptComplaintRequest(id=ids[3]))
    seen, token = [], ""
    while True:
        page = client.stub.ListComplaints(pb.ListComplaintsRequest(page_size=2, page_token=token))
        assert all(not c.history for c in page.complaints)
        seen += [c.id for c in page.complaints]
        token = page.next_page_token
        if not token:
            break
    assert seen == ids[::-1]

    def listed(text: str) -> list[str]:
        return [c.id for c in client.stub.ListComplaints(pb.ListComplaintsRequest(filter=text)).complaints]

    assert listed('office_id = "MH02"') == [ids[3], ids[2], ids[0]]
    assert listed("office_id = MH02 AND kind = REPORT") == [ids[2]]
    assert listed("state = COMPLAINT_STATE_ACCEPTED") == [ids[3]]
    assert listed("overdue = true") == []


def test_indicator_source_serves_the_four_indicators_per_office(client):
    client.running.settle()
    answer = client.indicators.ListIndicators(indicators_pb2.ListIndicatorsRequest())
    assert {(i.office_id, i.key) for i in answer.indicators} == {
        (office, key) for office in ("MH01", "MH02") for key in (
            "complaints.acceptance_on_time", "complaints.mediation_on_time", "complaints.satisfaction",
            "complaints.backlog")}
    assert {i.key for i in answer.indicators if i.has_data} == {"complaints.backlog"}
