"""complaints consumes command_center's office events: each produced by command_center's own gRPC
API, relayed through its outbox, applied by complaints' consumer; the effect read through
complaints' API and store. The captured pre-contract form of the same events is fed too. Officer
events (who handles an item) come the same way, and mobile_enforcement's CaseClosed (a report's
reward) from a case taken through mobile_enforcement's own procedure."""

from __future__ import annotations

import datetime as dt

from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import select

from services.common import contracts
from services.complaints.models import DeadLetter, Inbox, Office
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.command_center.v1 import events_pb2 as cc_events
from supervision.complaints.v1 import complaints_pb2 as pb
from supervision.mobile_enforcement.v1 import events_pb2 as me_events
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as me_grpc
from tests.api.complaints.support import ComplaintsClient
from tests.contracts import case_procedure, pre_contract

QUEUE = "_district_queue"


def applied(complaints: ComplaintsClient) -> list[str]:
    """The event types complaints' consumer applied, oldest first; fails if any was parked."""
    with complaints.running.store.read() as session:
        parked = session.execute(select(DeadLetter.event_type, DeadLetter.reason, DeadLetter.error)).all()
        assert parked == [], parked
        return list(session.scalars(select(Inbox.event_type).where(Inbox.source == "command_center")
                                    .order_by(Inbox.applied_at)))


def office(complaints: ComplaintsClient, office_id: str) -> tuple[str, int] | None:
    with complaints.running.store.read() as session:
        row = session.get(Office, office_id)
        return (row.name, row.version) if row else None


def test_an_office_registered_in_command_center_routes_the_complaints_on_its_streets(center):
    hosted = center("command_center", "complaints")
    offices = cc_grpc.OfficeServiceStub(hosted["command_center"].channel)
    complaints = ComplaintsClient(hosted["complaints"])
    assert complaints.create(street="颛桥镇").office_id == QUEUE  # nobody covers it yet

    offices.CreateOffice(cc_pb.CreateOfficeRequest(request_id="reg-mh05", office=cc_pb.Office(
        id="MH05", name="颛桥市场监督管理所", district="闵行区", streets=["颛桥镇", "北桥"])))
    hosted.settle()

    assert applied(complaints) == [contracts.type_name(cc_events.OfficeRegistered)]
    assert office(complaints, "MH05") == ("颛桥市场监督管理所", 1)
    assert complaints.create(street="颛桥镇").office_id == "MH05"
    assert complaints.create(street="", address="上海市闵行区北桥某路8号").office_id == "MH05"
    assert complaints.create(street="七宝镇").office_id == QUEUE


def test_an_office_update_adding_a_street_routes_it_and_moves_the_complaints_waiting_for_it(center):
    hosted = center("command_center", "complaints")
    offices = cc_grpc.OfficeServiceStub(hosted["command_center"].channel)
    complaints = ComplaintsClient(hosted["complaints"])
    offices.CreateOffice(cc_pb.CreateOfficeRequest(request_id="reg-mh01", office=cc_pb.Office(
        id="MH01", name="莘庄市场监督管理所", district="闵行区", streets=["莘庄镇"])))
    hosted.settle()
    waiting = complaints.create(street="春申", address="闵行区春申路1号")
    elsewhere = complaints.create(street="外滩街道", address="黄浦区中山东一路1号")
    assert (waiting.office_id, elsewhere.office_id) == (QUEUE, QUEUE)

    offices.UpdateOffice(cc_pb.UpdateOfficeRequest(office=cc_pb.Office(id="MH01", streets=["莘庄镇", "春申"]),
                                                   update_mask=FieldMask(paths=["streets"])))
    hosted.settle()

    assert applied(complaints) == [contracts.type_name(m) for m in (cc_events.OfficeRegistered,
                                                                   cc_events.OfficeUpdated)]
    assert office(complaints, "MH01") == ("莘庄市场监督管理所", 2)
    assert complaints.create(street="春申").office_id == "MH01"
    moved = complaints.get(waiting.id)
    assert moved.office_id == "MH01" and [h.action for h in moved.history] == ["received", "routed"]
    assert moved.acceptance_due == waiting.acceptance_due  # the clock keeps running, nothing restarts
    assert complaints.get(elsewhere.id).office_id == QUEUE


def test_office_events_written_before_the_contracts_still_route_and_move_the_waiting_complaints(center):
    hosted = center("complaints")
    complaints = ComplaintsClient(hosted["complaints"])
    waiting = complaints.create(street="春申")
    # As they may still sit in command_center's outbox or a queue after the upgrade (captured data).
    complaints.running.bus.publish(pre_contract.envelope("command_center", "OfficeRegistered", version=1))
    complaints.running.bus.publish(pre_contract.envelope("command_center", "OfficeUpdated", version=2))

    assert applied(complaints) == ["OfficeRegistered", "OfficeUpdated"]
    assert office(complaints, "MH01") == ("莘庄所", 2)
    assert complaints.create(street="莘庄镇").office_id == "MH01"
    assert complaints.get(waiting.id).office_id == "MH01"


# ---------------------------------------------------------------- officers: who handles an item


def register_officer(hosted, officer_id: str, office_id: str, group=cc_pb.GROUP_KIND_COMPLAINT_HANDLING,
                     certified: bool = False) -> None:
    """command_center registers the officer (with a year's certificate when `certified`)."""
    officer = cc_pb.Officer(id=officer_id, name="王伟", office_id=office_id, group=group)
    if certified:
        officer.certificate_no = f"SH{officer_id.replace('-', '')}"
        officer.certificate_expires.CopyFrom(contracts.date_of(hosted.clock.today + dt.timedelta(days=365)))
    cc_grpc.OfficerServiceStub(hosted["command_center"].channel).RegisterOfficer(
        cc_pb.RegisterOfficerRequest(request_id=f"reg-{officer_id}", officer=officer))


def test_officers_registered_and_moved_in_command_center_become_and_stop_being_handlers(center):
    hosted = center("command_center", "complaints")
    offices = cc_grpc.OfficeServiceStub(hosted["command_center"].channel)
    officers = cc_grpc.OfficerServiceStub(hosted["command_center"].channel)
    complaints = ComplaintsClient(hosted["complaints"])
    offices.CreateOffice(cc_pb.CreateOfficeRequest(request_id="reg-mh02", office=cc_pb.Office(
        id="MH02", name="七宝市场监督管理所", district="闵行区", streets=["七宝镇"])))
    register_officer(hosted, "MH02-05", "MH02", cc_pb.GROUP_KIND_SUPERVISION)
    hosted.settle()
    waiting = complaints.stub.AcceptComplaint(cc_accept(complaints.create().id))
    assert waiting.handler_id == ""  # nobody in the complaint handling group yet

    register_officer(hosted, "MH02-07", "MH02")
    hosted.settle()
    assert complaints.get(waiting.id).handler_id == "MH02-07"  # the newcomer takes the waiting item
    second = complaints.stub.AcceptComplaint(cc_accept(complaints.create().id))
    assert second.handler_id == "MH02-07"

    register_officer(hosted, "MH02-08", "MH02")
    hosted.settle()
    third = complaints.stub.AcceptComplaint(cc_accept(complaints.create().id))
    assert third.handler_id == "MH02-08"  # least loaded: 0 open items against 2

    officer = officers.GetOfficer(cc_pb.GetOfficerRequest(id="MH02-07"))
    officers.UpdateOfficer(cc_pb.UpdateOfficerRequest(
        officer=cc_pb.Officer(id="MH02-07", group=cc_pb.GROUP_KIND_SUPERVISION),
        update_mask=FieldMask(paths=["group"]), expected_version=officer.version))
    hosted.settle()

    assert applied(complaints) == [contracts.type_name(m) for m in (
        cc_events.OfficeRegistered, cc_events.OfficerRegistered, cc_events.OfficerRegistered,
        cc_events.OfficerRegistered, cc_events.OfficerUpdated)]
    # MH02-07 left the group: their items went to the one officer left in it.
    assert {complaints.get(c.id).handler_id for c in (waiting, second, third)} == {"MH02-08"}
    assert complaints.get(waiting.id).history[-1].action == "handler assigned"


def cc_accept(complaint_id: str) -> pb.AcceptComplaintRequest:
    return pb.AcceptComplaintRequest(id=complaint_id)


# ---------------------------------------------------------------- mobile_enforcement: report rewards


def test_a_case_closed_with_a_fine_in_mobile_enforcement_rewards_the_report_it_came_from(center):
    hosted = center("command_center", "complaints", "mobile_enforcement")
    cc_grpc.OfficeServiceStub(hosted["command_center"].channel).CreateOffice(cc_pb.CreateOfficeRequest(
        request_id="reg-mh02", office=cc_pb.Office(id="MH02", name="七宝市场监督管理所", district="闵行区",
                                                   streets=["七宝镇"])))
    for officer_id in ("MH02-01", "MH02-02", "MH02-03"):
        register_officer(hosted, officer_id, "MH02", cc_pb.GROUP_KIND_CASE_HANDLING, certified=True)
    hosted.settle()
    complaints = ComplaintsClient(hosted["complaints"])
    rewarded, unrated = (complaints.create(kind=pb.COMPLAINT_KIND_REPORT) for _ in range(2))
    for report, level in ((rewarded, pb.REWARD_LEVEL_SECOND), (unrated, pb.REWARD_LEVEL_UNSPECIFIED)):
        complaints.stub.VerifyReport(pb.VerifyReportRequest(id=report.id, note="现场核查属实"))
        complaints.stub.DecideReport(pb.DecideReportRequest(
            id=report.id, file_case=True, reward_level=level,
            reward_basis="举报内容与违法事实完全相符，证据确凿" if level else ""))
    hosted.settle()
    cases = me_grpc.CaseServiceStub(hosted["mobile_enforcement"].channel)
    leads = {lead.source_ref: lead.id for lead in cases.ListCases(me.ListCasesRequest(
        filter="source = REPORT", page_size=10)).cases}
    for report in (rewarded, unrated):
        cases.FileCase(me.FileCaseRequest(id=leads[report.id], officer_ids=["MH02-01", "MH02-02"]))
        closed = case_procedure.closed(cases, leads[report.id], case_procedure.fine(200000),
                                       reviewer_id="MH02-03")
        assert closed.state == me.CASE_STATE_CLOSED
    hosted.settle()

    assert contracts.type_name(me_events.CaseClosed) in applied_from(complaints, "mobile_enforcement")
    reward = complaints.get(rewarded.id).reward
    # Level 2 under the reward rules: 3 % of the 200,000 yuan fine, above the level's 3,000 minimum.
    assert (reward.case_id, reward.base_yuan, reward.rate_basis_points, reward.amount_yuan) == (
        leads[rewarded.id], "200000.00", 300, "6000.00")
    assert reward.level == pb.REWARD_LEVEL_SECOND and "3% × 200000.00 元" in reward.explanation
    assert not complaints.get(unrated.id).HasField("reward")  # no level recorded: no reward


def applied_from(complaints: ComplaintsClient, source: str) -> list[str]:
    with complaints.running.store.read() as session:
        parked = session.execute(select(DeadLetter.event_type, DeadLetter.reason, DeadLetter.error)).all()
        assert parked == [], parked
        return list(session.scalars(select(Inbox.event_type).where(Inbox.source == source)))
