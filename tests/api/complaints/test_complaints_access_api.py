"""complaints with AUTH_MODE=jwt through a real gRPC server: personal data shown only to those
handling an item, office users confined to their office, and nothing personal in logs or events."""

from __future__ import annotations

import datetime as dt
import json
import logging

import grpc
from sqlalchemy import select

from services.common import contracts
from services.common.logs import JsonFormatter
from services.complaints.models import Outbox
from supervision.complaints.v1 import complaints_pb2 as pb
from supervision.complaints.v1 import events_pb2 as events
from tests.api.complaints.support import (
    ID_NUMBER,
    NAME,
    PHONE,
    TODAY,
    as_user,
    carries_personal_data,
    complaint,
    expect_error,
)


def test_personal_data_is_shown_only_to_those_handling_the_item(secured):
    stub = secured.stub
    leader = as_user("bureau_leader")
    item = stub.CreateComplaint(pb.CreateComplaintRequest(complaint=complaint(
        id_number=ID_NUMBER, description=f"本人{NAME}，联系电话{PHONE}，要求退款。")), metadata=leader)
    assert item.office_id == "MH02"
    for metadata in (leader, as_user("office_head", office_id="MH02"), as_user("officer", office_id="MH02")):
        seen = stub.GetComplaint(pb.GetComplaintRequest(id=item.id), metadata=metadata)
        assert (seen.complainant.name, seen.complainant.phone, seen.complainant.id_number) == (NAME, PHONE, ID_NUMBER)
        assert PHONE in seen.description and not seen.personal_data_masked
    auditor = as_user("auditor")
    masked = stub.GetComplaint(pb.GetComplaintRequest(id=item.id), metadata=auditor)
    assert (masked.complainant.name, masked.complainant.phone, masked.complainant.id_number) == (
        "欧***", "139****5678", "110*************2X")
    assert masked.personal_data_masked and not carries_personal_data(masked)
    listed = stub.ListComplaints(pb.ListComplaintsRequest(), metadata=auditor).complaints
    assert [c.id for c in listed] == [item.id] and not carries_personal_data(listed[0])
    # An officer of another office registers a walk-in routed to MH02: the item is not theirs.
    walk_in = stub.CreateComplaint(pb.CreateComplaintRequest(complaint=complaint(channel=pb.CHANNEL_WALK_IN)),
                                   metadata=as_user("officer", office_id="MH01"))
    assert walk_in.office_id == "MH02" and walk_in.personal_data_masked and not carries_personal_data(walk_in)


def test_office_users_see_and_handle_their_own_office_only(secured):
    stub = secured.stub
    item = stub.CreateComplaint(pb.CreateComplaintRequest(complaint=complaint()), metadata=as_user("bureau_leader"))
    other = as_user("officer", office_id="MH01")
    assert expect_error(lambda: stub.GetComplaint(pb.GetComplaintRequest(id=item.id), metadata=other),
                        grpc.StatusCode.PERMISSION_DENIED) == {}
    assert list(stub.ListComplaints(pb.ListComplaintsRequest(), metadata=other).complaints) == []
    expect_error(lambda: stub.ListComplaints(pb.ListComplaintsRequest(filter="office_id = MH02"), metadata=other),
                 grpc.StatusCode.PERMISSION_DENIED)
    expect_error(lambda: stub.AcceptComplaint(pb.AcceptComplaintRequest(id=item.id), metadata=other),
                 grpc.StatusCode.PERMISSION_DENIED)
    auditor = as_user("auditor")
    for call in (lambda: stub.AcceptComplaint(pb.AcceptComplaintRequest(id=item.id), metadata=auditor),
                 lambda: stub.CreateComplaint(pb.CreateComplaintRequest(complaint=complaint()), metadata=auditor)):
        expect_error(call, grpc.StatusCode.PERMISSION_DENIED)
    own = stub.AcceptComplaint(pb.AcceptComplaintRequest(id=item.id), metadata=as_user("officer", office_id="MH02"))
    assert own.state == pb.COMPLAINT_STATE_ACCEPTED
    assert [h.actor for h in own.history] == ["bureau_leader@district", "officer@MH02"]
    expect_error(lambda: stub.GetComplaint(pb.GetComplaintRequest(id=item.id)), grpc.StatusCode.UNAUTHENTICATED)


def test_an_auditor_role_never_widens_an_officers_write_scope(secured):
    """A token holding officer of MH01 and auditor reads the whole district but changes MH01 only."""
    stub, leader = secured.stub, as_user("bureau_leader")
    item = stub.CreateComplaint(pb.CreateComplaintRequest(complaint=complaint()), metadata=leader)
    assert item.office_id == "MH02"
    mixed = as_user("officer", "auditor", office_id="MH01")
    assert stub.GetComplaint(pb.GetComplaintRequest(id=item.id), metadata=mixed).id == item.id
    for call in (lambda: stub.AcceptComplaint(pb.AcceptComplaintRequest(id=item.id), metadata=mixed),
                 lambda: stub.RerouteComplaint(pb.RerouteComplaintRequest(id=item.id, office_id="MH01",
                                                                          reason="误派"), metadata=mixed)):
        expect_error(call, grpc.StatusCode.PERMISSION_DENIED)
    after = stub.GetComplaint(pb.GetComplaintRequest(id=item.id), metadata=leader)
    assert (after.state, after.office_id, after.version, len(after.history)) == (
        item.state, "MH02", item.version, len(item.history))
    mine = stub.CreateComplaint(pb.CreateComplaintRequest(complaint=complaint(
        street="莘庄镇", address="闵行区莘庄镇莘松路1号")), metadata=leader)
    assert mine.office_id == "MH01"
    accepted = stub.AcceptComplaint(pb.AcceptComplaintRequest(id=mine.id), metadata=mixed)
    assert accepted.state == pb.COMPLAINT_STATE_ACCEPTED


def test_personal_data_never_reaches_logs_or_events(secured, caplog):
    for library in ("kombu", "amqp", "nameko", "alembic", "sqlalchemy.engine"):  # as logs.configure sets them
        caplog.set_level(logging.WARNING, logger=library)
    caplog.set_level(logging.DEBUG)  # last: it also sets the capturing handler's level
    stub, leader = secured.stub, as_user("bureau_leader")
    story = f"举报人{NAME}（身份证{ID_NUMBER}，电话{PHONE}）反映该店无证经营。"
    report = stub.CreateComplaint(pb.CreateComplaintRequest(complaint=complaint(
        kind=pb.COMPLAINT_KIND_REPORT, id_number=ID_NUMBER, description=story)), metadata=leader)
    stub.VerifyReport(pb.VerifyReportRequest(id=report.id, note=f"已联系{NAME}核实"), metadata=leader)
    stub.DecideReport(pb.DecideReportRequest(id=report.id, file_case=True, note="立案"), metadata=leader)
    expect_error(lambda: stub.CreateComplaint(pb.CreateComplaintRequest(complaint=complaint(
        phone=PHONE + "0", id_number=ID_NUMBER[:-1] + "1")), metadata=leader), grpc.StatusCode.INVALID_ARGUMENT)
    secured.running.clock.today = TODAY + dt.timedelta(days=40)
    secured.running.runtime.timers[0].run()
    secured.running.settle()
    assert caplog.records, "the flow logs nothing: the check below would be empty"
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    with secured.running.store.read() as session:
        published = json.dumps([row.envelope for row in session.scalars(select(Outbox))], ensure_ascii=False)
    assert {contracts.type_name(m) for m in (events.ComplaintReceived, events.CaseLeadRaised,
                                             events.ComplaintResolved)} <= {e["type"] for e in json.loads(published)}
    for value in (NAME, PHONE, ID_NUMBER, PHONE + "0"):
        assert value not in logged and value not in published
