"""facilities consumes command_center's office and officer events and mobile_enforcement's case
events: each produced by its publisher's own gRPC API, relayed through its outbox, applied by
facilities' consumer; the effect read through facilities' API and store. The last test feeds the
captured pre-contract form of the same events."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import select

from services.common import contracts
from services.facilities.models import Case, DeadLetter, Inbox, Office, Officer
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.command_center.v1 import events_pb2 as cc_events
from supervision.facilities.v1 import facilities_pb2 as pb
from supervision.facilities.v1 import facilities_pb2_grpc as pb_grpc
from supervision.mobile_enforcement.v1 import events_pb2 as me_events
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me_pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as me_grpc
from tests.contracts import case_procedure, pre_contract
from tests.support import RunningService, violations

OFFICERS = ["MH01-01", "MH01-02"]


def applied(facilities: RunningService, source: str) -> list[str]:
    """The event types facilities' consumer applied from `source`, oldest first; fails if any was parked."""
    with facilities.store.read() as session:
        parked = session.execute(select(DeadLetter.event_type, DeadLetter.reason, DeadLetter.error)).all()
        assert parked == [], parked
        return list(session.scalars(select(Inbox.event_type).where(Inbox.source == source)
                                    .order_by(Inbox.applied_at)))


def names(*messages) -> list[str]:
    return [contracts.type_name(m) for m in messages]


def rooms_of(facilities: RunningService, office_id: str) -> dict[str, pb.Room]:
    listed = pb_grpc.RoomServiceStub(facilities.channel).ListRooms(pb.ListRoomsRequest(
        filter=f'office_id = "{office_id}"', page_size=100))
    return {room.kind: room for room in listed.rooms}


def register_office(hosted, office_id: str = "MH01", name: str = "莘庄市场监督管理所") -> None:
    cc_grpc.OfficeServiceStub(hosted["command_center"].channel).CreateOffice(cc_pb.CreateOfficeRequest(
        request_id=f"reg-{office_id}", office=cc_pb.Office(id=office_id, name=name, district="闵行区",
                                                           streets=["莘庄镇"])))


def register_officers(hosted, officer_ids=OFFICERS, office_id: str = "MH01") -> None:
    officers = cc_grpc.OfficerServiceStub(hosted["command_center"].channel)
    for officer_id in officer_ids:
        officers.RegisterOfficer(cc_pb.RegisterOfficerRequest(officer=cc_pb.Officer(
            id=officer_id, name="王伟", office_id=office_id, group=cc_pb.GROUP_KIND_CASE_HANDLING,
            certificate_no=f"SH{officer_id.replace('-', '')}",
            certificate_expires=contracts.date_of(hosted.clock.today + dt.timedelta(days=365)))))


def check_in(facilities: RunningService, case_id: str = "MH01-AJ-2026-001", signed_by=OFFICERS) -> pb.CustodyItem:
    return pb_grpc.CustodyServiceStub(facilities.channel).CheckIn(pb.CheckInRequest(
        office_id="MH01", case_id=case_id, description="假冒注册商标白酒", quantity=36, unit="瓶",
        location="罚没物品库 A-01", signed_by=signed_by))


def dispose(facilities: RunningService, item_id: str) -> pb.CustodyItem:
    return pb_grpc.CustodyServiceStub(facilities.channel).Dispose(pb.DisposeRequest(
        item_id=item_id, method=pb.DISPOSAL_METHOD_DESTROYED, signed_by=OFFICERS))


def refused(call, code: grpc.StatusCode) -> tuple[str, dict[str, str]]:
    """The error's message and its field violations."""
    with pytest.raises(grpc.RpcError) as info:
        call()
    assert info.value.code() == code, info.value.details()
    return info.value.details(), violations(info.value)


def case_state(facilities: RunningService, case_id: str) -> tuple[str, bool] | None:
    with facilities.store.read() as session:
        case = session.get(Case, case_id)
        return (case.office_id, case.closed) if case else None


# ---------------------------------------------------------------- command_center


def test_an_office_registered_in_command_center_gets_the_standard_rooms(center):
    hosted = center("command_center", "facilities")
    facilities = hosted["facilities"]
    assert rooms_of(facilities, "MH01") == {}

    register_office(hosted)
    hosted.settle()

    assert applied(facilities, "command_center") == names(cc_events.OfficeRegistered)
    with facilities.store.read() as session:
        office = session.get(Office, "MH01")
        assert (office.name, office.district) == ("莘庄市场监督管理所", "闵行区")
    rooms = rooms_of(facilities, "MH01")
    assert len(rooms) == 10 and rooms["rapid_test"].name == "快检室"
    assert not any(room.compliant for room in rooms.values())
    checked = pb_grpc.RoomServiceStub(facilities.channel).RecordRoomCheck(pb.RecordRoomCheckRequest(
        check=pb.RoomCheck(office_id="MH01", kind="activity", present=False, checked_by="区局检查组")))
    assert checked.problems == ["活动室 is missing"]  # the office is known: its rooms can be checked


def test_an_office_renamed_in_command_center_is_renamed_and_keeps_its_rooms(center):
    hosted = center("command_center", "facilities")
    facilities = hosted["facilities"]
    register_office(hosted)
    hosted.settle()
    before = rooms_of(facilities, "MH01")

    cc_grpc.OfficeServiceStub(hosted["command_center"].channel).UpdateOffice(cc_pb.UpdateOfficeRequest(
        office=cc_pb.Office(id="MH01", name="莘庄所", district="闵行区"),
            update_mask=FieldMask(paths=["name", "district"])))
    hosted.settle()

    assert applied(facilities, "command_center") == names(cc_events.OfficeRegistered, cc_events.OfficeUpdated)
    with facilities.store.read() as session:
        assert session.get(Office, "MH01").name == "莘庄所"
    assert rooms_of(facilities, "MH01") == before


def test_officers_registered_in_command_center_may_sign_custody_steps(center):
    hosted = center("command_center", "facilities")
    facilities = hosted["facilities"]
    register_office(hosted)
    hosted.settle()
    _, unknown = refused(lambda: check_in(facilities), grpc.StatusCode.INVALID_ARGUMENT)
    assert set(unknown) == {"signed_by[0]", "signed_by[1]"}  # nobody known may sign yet

    register_officers(hosted)
    hosted.settle()

    assert applied(facilities, "command_center") == names(cc_events.OfficeRegistered, cc_events.OfficerRegistered,
                                                         cc_events.OfficerRegistered)
    with facilities.store.read() as session:
        officer = session.get(Officer, "MH01-01")
        assert (officer.office_id, officer.group, officer.certificate_no, officer.certificate_expires) == (
            "MH01", "CASE_HANDLING", "SHMH0101", hosted.clock.today + dt.timedelta(days=365))
    item = check_in(facilities)
    assert item.state == pb.CUSTODY_STATE_IN_STORE and item.trail_length == 1


def test_an_officer_whose_certificate_command_center_records_as_lapsed_may_no_longer_sign(center):
    hosted = center("command_center", "facilities")
    facilities = hosted["facilities"]
    register_office(hosted)
    register_officers(hosted, [*OFFICERS, "MH01-03"])
    hosted.settle()
    item = check_in(facilities)

    lapsed = hosted.clock.today - dt.timedelta(days=1)
    cc_grpc.OfficerServiceStub(hosted["command_center"].channel).UpdateOfficer(cc_pb.UpdateOfficerRequest(
        officer=cc_pb.Officer(id="MH01-02", certificate_expires=contracts.date_of(lapsed)),
        update_mask=FieldMask(paths=["certificate_expires"])))
    hosted.settle()

    assert applied(facilities, "command_center")[-1] == contracts.type_name(cc_events.OfficerUpdated)
    with facilities.store.read() as session:
        assert session.get(Officer, "MH01-02").certificate_expires == lapsed
    move = pb_grpc.CustodyServiceStub(facilities.channel).Move
    _, lapsed_signers = refused(lambda: move(pb.MoveRequest(item_id=item.id, to_location="B-01", signed_by=OFFICERS)),
                                grpc.StatusCode.FAILED_PRECONDITION)
    assert list(lapsed_signers) == ["signed_by[1]"] and "MH01-02" in lapsed_signers["signed_by[1]"]
    moved = move(pb.MoveRequest(item_id=item.id, to_location="B-01", signed_by=["MH01-01", "MH01-03"]))
    assert moved.location == "B-01"


# ---------------------------------------------------------------- mobile_enforcement


def file_case(hosted) -> str:
    """mobile_enforcement opens a lead and files it with two certified officers; returns the case id."""
    cases = me_grpc.CaseServiceStub(hosted["mobile_enforcement"].channel)
    lead = cases.OpenLead(me_pb.OpenLeadRequest(lead=me_pb.Case(
        office_id="MH01", source=me_pb.LEAD_SOURCE_REFERRAL, description="涉嫌销售假冒注册商标白酒",
        party=me_pb.Party(name="莘庄烟酒商行"))))
    filed = cases.FileCase(me_pb.FileCaseRequest(id=lead.id, officer_ids=OFFICERS))
    assert filed.state == me_pb.CASE_STATE_FILED
    return lead.id


def close_case(hosted, case_id: str) -> None:
    cases = me_grpc.CaseServiceStub(hosted["mobile_enforcement"].channel)
    closed = case_procedure.closed(cases, case_id, case_procedure.warning())
    assert closed.state == me_pb.CASE_STATE_CLOSED


def district(center):
    """command_center, mobile_enforcement and facilities, with office MH01 and two certified officers."""
    hosted = center("command_center", "mobile_enforcement", "facilities")
    register_office(hosted)
    register_officers(hosted)
    hosted.settle()
    return hosted


def test_a_case_filed_in_mobile_enforcement_keeps_its_goods_in_custody_as_evidence(center):
    hosted = district(center)
    facilities = hosted["facilities"]

    case_id = file_case(hosted)
    hosted.settle()

    assert applied(facilities, "mobile_enforcement") == names(me_events.CaseFiled)
    assert case_state(facilities, case_id) == ("MH01", False)
    item = check_in(facilities, case_id)
    assert item.case_id == case_id and item.state == pb.CUSTODY_STATE_IN_STORE
    message, _ = refused(lambda: dispose(facilities, item.id), grpc.StatusCode.FAILED_PRECONDITION)
    assert message == f"case {case_id} is open: its goods are evidence until the case is closed"


def test_a_case_closed_in_mobile_enforcement_releases_its_goods_for_disposal(center):
    hosted = district(center)
    facilities = hosted["facilities"]
    case_id = file_case(hosted)
    hosted.settle()
    item = check_in(facilities, case_id)

    close_case(hosted, case_id)
    hosted.settle()

    assert applied(facilities, "mobile_enforcement") == names(me_events.CaseFiled, me_events.CaseClosed)
    assert case_state(facilities, case_id) == ("MH01", True)
    disposed = dispose(facilities, item.id)
    assert disposed.state == pb.CUSTODY_STATE_DISPOSED and disposed.trail_length == 2


# ---------------------------------------------------------------- events written before the contracts


def test_events_written_before_the_contracts_still_keep_offices_officers_and_cases(center):
    facilities = center("facilities")["facilities"]
    # As they may still sit in the publishers' outboxes or a queue after the upgrade (captured data).
    for source, event_type, version in [("command_center", "OfficeRegistered", 1),
                                        ("command_center", "OfficerRegistered", 1),
                                        ("mobile_enforcement", "CaseFiled", 1),
                                        ("mobile_enforcement", "CaseClosed", 4)]:
        data = pre_contract.sample(source, event_type)["data"]
        if source == "mobile_enforcement":  # the captured filing and closing, as of one case
            data = {**data, "case_id": "AJ-OLD-1"}
        facilities.bus.publish(pre_contract.envelope(source, event_type, data, version=version))

    assert applied(facilities, "command_center") == ["OfficeRegistered", "OfficerRegistered"]
    assert applied(facilities, "mobile_enforcement") == ["CaseFiled", "CaseClosed"]
    assert len(rooms_of(facilities, "MH01")) == 10
    with facilities.store.read() as session:
        officer = session.get(Officer, "MH01-01")
        assert (officer.office_id, officer.certificate_no, officer.certificate_expires) == (
            "MH01", "SH0101", dt.date(2026, 12, 2))
    assert case_state(facilities, "AJ-OLD-1") == ("MH01", True)
