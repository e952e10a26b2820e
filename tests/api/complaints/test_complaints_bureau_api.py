"""complaints as a bureau handles them, through a real gRPC server on SQLite and PostgreSQL: the 12315
classification on intake and in statistics, the handler of each item, the reporter's notice clock,
the provisional-rule flag and the public status lookup; with each new method's bad input and its
refusal to another office's officer (AUTH_MODE=jwt)."""

from __future__ import annotations

import datetime as dt

import grpc
from google.type import date_pb2

from services.common.contracts import date_of
from services.common.working_days import WorkingDayCalendar
from supervision.complaints.v1 import complaints_pb2 as pb
from supervision.complaints.v1 import events_pb2 as events
from tests.api.complaints.support import PHONE, TODAY, as_user, at, complaint, expect_error

CALENDAR = WorkingDayCalendar.load()


def date(value) -> dt.date:
    return dt.date(value.year, value.month, value.day)


def test_the_classification_is_checked_on_intake_and_counted_per_office_and_district(client):
    stub = client.stub
    coded = client.create(category="", category_code="g0101")
    assert (coded.category_code, coded.category_path, coded.category) == ("G0101", "商品 / 食品 / 预包装食品",
                                                                          "预包装食品")
    assert client.create(category="食品安全").category_code == "G01"  # an older caller's subject, read as the class
    unclassified = client.create(category="其他问题", street="莘庄镇")
    assert (unclassified.category_code, unclassified.office_id) == ("", "MH01")
    before = client.counts()
    assert expect_error(lambda: client.create(category_code="G9999"), grpc.StatusCode.INVALID_ARGUMENT) == {
        "complaint.category_code": "the code G9999 is not in the 12315 classification cn12315-2026"}
    assert client.counts() == before

    # A second complaint by the same person about the same shop, worded differently but in the same
    # class: a possible duplicate of the first.
    again = client.create(category="散装食品")
    assert again.category_code == "G0102" and again.possible_duplicate_of == coded.id

    stats = stub.GetCategoryStatistics(pb.GetCategoryStatisticsRequest())
    by_office = {(c.office_id, c.category_code): c.count for c in stats.by_office}
    assert by_office == {("MH01", ""): 1, ("MH02", "G01"): 1, ("MH02", "G0101"): 1, ("MH02", "G0102"): 1}
    district = {c.category_code: (c.count, c.category_path, c.class_code) for c in stats.district}
    assert district[""] == (1, "未分类", "") and district["G0102"] == (1, "商品 / 食品 / 散装食品", "G01")
    only_mh02 = stub.GetCategoryStatistics(pb.GetCategoryStatisticsRequest(office_id="MH02"))
    assert sum(c.count for c in only_mh02.district) == 3
    tomorrow = stub.GetCategoryStatistics(pb.GetCategoryStatisticsRequest(
        from_date=date_of(TODAY + dt.timedelta(days=1)), to_date=date_of(TODAY + dt.timedelta(days=1))))
    assert list(tomorrow.by_office) == []
    assert "from_date" in expect_error(lambda: stub.GetCategoryStatistics(pb.GetCategoryStatisticsRequest(
        from_date=date_of(TODAY), to_date=date_of(TODAY - dt.timedelta(days=1)))),
        grpc.StatusCode.INVALID_ARGUMENT)
    tree = stub.ListCategories(pb.ListCategoriesRequest())
    assert tree.tree_id == "cn12315-2026"
    assert expect_error(lambda: stub.ListCategories(pb.ListCategoriesRequest(on=date_pb2.Date(year=2026, month=13,
                                                                                             day=1))),
                        grpc.StatusCode.INVALID_ARGUMENT).keys() == {"on"}
    assert {node.category_code for node in tree.nodes} >= {"G01", "G0101", "S08", "S0801"}


def test_each_accepted_complaint_and_each_report_gets_the_least_loaded_handler_of_its_office(client):
    stub = client.stub
    for officer_id, group in (("MH02-01", "COMPLAINT_HANDLING"), ("MH02-02", "COMPLAINT_HANDLING"),
                              ("MH02-03", "SUPERVISION"), ("MH01-01", "COMPLAINT_HANDLING")):
        client.announce_officer(officer_id, "MH02" if officer_id.startswith("MH02") else "MH01", group)
    received = client.create()
    assert received.handler_id == ""  # a complaint gets its handler when accepted
    first = stub.AcceptComplaint(pb.AcceptComplaintRequest(id=received.id))
    second = stub.AcceptComplaint(pb.AcceptComplaintRequest(id=client.create().id))
    report = client.create(kind=pb.COMPLAINT_KIND_REPORT)
    assert (first.handler_id, second.handler_id, report.handler_id) == ("MH02-01", "MH02-02", "MH02-01")
    [accepted, _] = client.events(events.ComplaintAccepted)
    assert accepted.handler_id == "MH02-01"
    assert client.events(events.ComplaintReceived)[-1].handler_id == "MH02-01"

    moved = stub.AssignHandler(pb.AssignHandlerRequest(id=first.id, officer_id="MH02-02", reason="原承办人休假"))
    assert moved.handler_id == "MH02-02" and moved.history[-1].note == "MH02-01 -> MH02-02: 原承办人休假"
    before = client.counts()
    assert expect_error(lambda: stub.AssignHandler(pb.AssignHandlerRequest(id=first.id, officer_id="", reason="")),
                        grpc.StatusCode.INVALID_ARGUMENT).keys() == {"officer_id", "reason"}
    for officer_id in ("MH02-03", "MH01-01"):  # another group, another office
        expect_error(lambda officer_id=officer_id: stub.AssignHandler(pb.AssignHandlerRequest(
            id=first.id, officer_id=officer_id, reason="改派")),
                     grpc.StatusCode.FAILED_PRECONDITION)
    expect_error(lambda: stub.AssignHandler(pb.AssignHandlerRequest(id=first.id, officer_id="MH02-99", reason="改派")),
                 grpc.StatusCode.NOT_FOUND)
    assert client.counts() == before

    # Re-routed to MH01, the item takes MH01's handler; its ComplaintRerouted says who.
    rerouted = stub.RerouteComplaint(pb.RerouteComplaintRequest(id=second.id, office_id="MH01", reason="管辖错误"))
    assert rerouted.handler_id == "MH01-01"
    assert client.events(events.ComplaintRerouted)[-1].handler_id == "MH01-01"


def test_a_real_name_reporter_is_told_the_decision_within_the_notice_limit_or_the_clock_goes_overdue(client):
    stub = client.stub
    named, anonymous = client.create(kind=pb.COMPLAINT_KIND_REPORT), client.create(
        kind=pb.COMPLAINT_KIND_REPORT, name="", phone="", anonymous=True)
    for report in (named, anonymous):
        stub.VerifyReport(pb.VerifyReportRequest(id=report.id, note="核查属实"))
        decided = stub.DecideReport(pb.DecideReportRequest(id=report.id, file_case=False, note="证据不足"))
    assert [d.kind for d in decided.deadlines] == [pb.DEADLINE_KIND_FILING_DECISION]  # nobody to tell
    notice = stub.GetComplaint(pb.GetComplaintRequest(id=named.id)).deadlines[-1]
    due = CALENDAR.add_working_days(TODAY, 5).date
    assert (notice.kind, notice.status, date(notice.due_date)) == (pb.DEADLINE_KIND_REPORTER_NOTICE,
                                                                  pb.DEADLINE_STATUS_RUNNING, due)
    # Order 121's figures are marked unconfirmed: every clock it starts runs by a provisional rule.
    assert notice.provisional_rule and notice.rule_set == "samr-order-121"

    client.running.clock.today = due + dt.timedelta(days=1)
    client.running.runtime.timers[0].run()
    overdue = [e for e in client.events(events.ComplaintOverdue) if e.complaint_id == named.id]
    assert [(e.deadline, e.provisional_rule) for e in overdue] == [("reporter_notice", True)]
    told = stub.RecordNotification(pb.RecordNotificationRequest(id=named.id, note="电话告知举报人不予立案"))
    assert told.deadlines[-1].status == pb.DEADLINE_STATUS_LATE


def test_a_clock_started_under_a_confirmed_rule_set_is_not_provisional(client):
    earlier = client.create(received_at=at(dt.date(2026, 4, 10)))  # Order 20, confirmed
    later = client.create()
    assert [d.provisional_rule for d in earlier.deadlines] == [False] and not earlier.provisional_rule
    assert [d.provisional_rule for d in later.deadlines] == [True] and later.provisional_rule
    received = {e.complaint_id: e for e in client.events(events.ComplaintReceived)}
    assert (received[earlier.id].provisional_rule, received[later.id].provisional_rule) == (False, True)


def test_the_public_status_shows_state_and_dates_only_and_one_answer_for_every_miss(client):
    stub = client.stub
    item = stub.AcceptComplaint(pb.AcceptComplaintRequest(id=client.create().id))
    status = stub.GetComplaintStatus(pb.GetComplaintStatusRequest(number=item.id, phone_last4=PHONE[-4:]))
    assert (status.state, date(status.received_on)) == (pb.COMPLAINT_STATE_ACCEPTED, TODAY)
    assert [(d.kind, d.status, d.provisional_rule) for d in status.deadlines] == [
        (pb.DEADLINE_KIND_ACCEPTANCE, pb.DEADLINE_STATUS_MET, True),
        (pb.DEADLINE_KIND_MEDIATION, pb.DEADLINE_STATUS_RUNNING, True)]
    wire = status.SerializeToString()
    assert PHONE.encode() not in wire and "欧阳".encode() not in wire and b"MH02" not in wire
    anonymous = client.create(kind=pb.COMPLAINT_KIND_REPORT, name="", phone="", anonymous=True)
    answers = set()
    # Wrong digits, an unknown number, an anonymous item (no phone to match): the same answer.
    for number, digits in ((item.id, "0000"), ("20261102-000000000-000000", PHONE[-4:]), (anonymous.id, "0000")):
        try:
            stub.GetComplaintStatus(pb.GetComplaintStatusRequest(number=number, phone_last4=digits))
        except grpc.RpcError as error:
            answers.add((error.code(), error.details()))
    assert answers == {(grpc.StatusCode.NOT_FOUND, "no item matches this number and these digits")}
    assert expect_error(lambda: stub.GetComplaintStatus(pb.GetComplaintStatusRequest(number="x y", phone_last4="12")),
                        grpc.StatusCode.INVALID_ARGUMENT).keys() == {"number", "phone_last4"}


def test_the_new_methods_refuse_another_offices_officer_and_the_status_lookup_everyone_but_the_service(secured):
    stub, leader = secured.stub, as_user("bureau_leader")
    secured.announce_officer("MH02-01", "MH02")
    item = stub.AcceptComplaint(pb.AcceptComplaintRequest(
        id=stub.CreateComplaint(pb.CreateComplaintRequest(complaint=complaint()), metadata=leader).id),
        metadata=leader)
    other = as_user("officer", office_id="MH01")
    expect_error(lambda: stub.AssignHandler(pb.AssignHandlerRequest(id=item.id, officer_id="MH02-01", reason="改派"),
                                            metadata=other), grpc.StatusCode.PERMISSION_DENIED)
    expect_error(lambda: stub.GetCategoryStatistics(pb.GetCategoryStatisticsRequest(office_id="MH02"),
                                                    metadata=other), grpc.StatusCode.PERMISSION_DENIED)
    own = stub.GetCategoryStatistics(pb.GetCategoryStatisticsRequest(), metadata=other)
    assert list(own.by_office) == []  # their own office only, which has nothing
    # The classification itself is no office's record: every signed-in user reads it, nobody else.
    assert stub.ListCategories(pb.ListCategoriesRequest(), metadata=other).tree_id == "cn12315-2026"
    expect_error(lambda: stub.ListCategories(pb.ListCategoriesRequest()), grpc.StatusCode.UNAUTHENTICATED)
    for user in (other, leader, as_user("auditor")):
        expect_error(lambda user=user: stub.GetComplaintStatus(pb.GetComplaintStatusRequest(
            number=item.id, phone_last4=PHONE[-4:]), metadata=user), grpc.StatusCode.PERMISSION_DENIED)
