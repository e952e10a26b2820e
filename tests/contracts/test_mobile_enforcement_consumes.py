"""mobile_enforcement consumes command_center's office and officer events, complaints' CaseLeadRaised
and facilities' RapidTestPositive: each produced by its publisher's own gRPC API, relayed through
its outbox, applied by mobile_enforcement's consumer; the effect read through mobile_enforcement's
API and store."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message
from sqlalchemy import select

from services.common import contracts
from services.common.clock import shanghai_today
from services.common.credit_code import check_character
from services.mobile_enforcement.models import DeadLetter, Inbox
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.command_center.v1 import events_pb2 as cc_events
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.complaints.v1 import complaints_pb2 as complaints_pb
from supervision.complaints.v1 import complaints_pb2_grpc as complaints_grpc
from supervision.complaints.v1 import events_pb2 as complaints_events
from supervision.facilities.v1 import events_pb2 as facilities_events
from supervision.facilities.v1 import facilities_pb2 as facilities_pb
from supervision.facilities.v1 import facilities_pb2_grpc as facilities_grpc
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc
from tests.support import Clock, RunningService

ENFORCEMENT = "mobile_enforcement"


def uscc(number: int) -> str:
    first_17 = f"91310112MA1{number:06d}"
    return first_17 + check_character(first_17)


def date(day: dt.date):
    return contracts.date_of(day)


def published(running: RunningService, message_class: type[Message]) -> list[dict]:
    """The publisher's outbox rows of this event type, as they go on the wire."""
    outbox = running.runtime.outbox_model
    with running.store.read() as session:
        return list(session.scalars(select(outbox.envelope).where(
            outbox.event_type == contracts.type_name(message_class)).order_by(outbox.id)))


class Enforcement:
    """mobile_enforcement's API and store, as a hosted center holds it."""

    def __init__(self, hosted):
        running = hosted[ENFORCEMENT]
        self.running = running
        self.entities = pb_grpc.EntityServiceStub(running.channel)
        self.inspections = pb_grpc.InspectionServiceStub(running.channel)
        self.cases = pb_grpc.CaseServiceStub(running.channel)
        self.indicators = indicators_pb2_grpc.IndicatorSourceStub(running.channel)

    def applied(self, source: str) -> list[str]:
        """The event types applied from `source`, oldest first; fails if any delivery was parked."""
        with self.running.store.read() as session:
            parked = session.execute(select(DeadLetter.event_type, DeadLetter.reason, DeadLetter.error)).all()
            assert parked == [], parked
            return list(session.scalars(select(Inbox.event_type).where(Inbox.source == source)
                                        .order_by(Inbox.applied_at)))

    def register(self, number: int, street: str, category=pb.ENTITY_CATEGORY_CATERING) -> pb.Entity:
        return self.entities.RegisterEntity(pb.RegisterEntityRequest(entity=pb.Entity(
            uscc=uscc(number), name=f"小杨生煎（{number}店）", category=category, address=f"{street}{number}号",
            street=street, risk_level=pb.RISK_LEVEL_LOW)))

    def supervised(self, office_id: str) -> float:
        answer = self.indicators.ListIndicators(indicators_pb2.ListIndicatorsRequest(office_ids=[office_id]))
        return next(i.numerator for i in answer.indicators if i.key == "mobile_enforcement.entities_supervised")

    def leads(self, source: str) -> list[pb.Case]:
        return list(self.cases.ListCases(pb.ListCasesRequest(filter=f"source = {source}")).cases)


class Center:
    """command_center's API: offices and officers, the source of mobile_enforcement's local copies."""

    def __init__(self, hosted):
        self.offices = cc_grpc.OfficeServiceStub(hosted["command_center"].channel)
        self.officers = cc_grpc.OfficerServiceStub(hosted["command_center"].channel)

    def office(self, office_id: str, streets: list[str]) -> None:
        self.offices.CreateOffice(cc_pb.CreateOfficeRequest(request_id=f"office-{office_id}", office=cc_pb.Office(
            id=office_id, name=f"{office_id}市场监督管理所", district="闵行区", streets=streets)))

    def streets(self, office_id: str, streets: list[str]) -> None:
        self.offices.UpdateOffice(cc_pb.UpdateOfficeRequest(office=cc_pb.Office(id=office_id, streets=streets),
                                                            update_mask=FieldMask(paths=["streets"])))

    def officer(self, officer_id: str, office_id: str, expires: dt.date) -> None:
        self.officers.RegisterOfficer(cc_pb.RegisterOfficerRequest(request_id=f"officer-{officer_id}",
                                                                   officer=cc_pb.Officer(
            id=officer_id, name="王伟", office_id=office_id, group=cc_pb.GROUP_KIND_CASE_HANDLING,
            certificate_no=f"SH{officer_id}", certificate_expires=date(expires))))

    def certificate(self, officer_id: str, expires: dt.date) -> None:
        self.officers.UpdateOfficer(cc_pb.UpdateOfficerRequest(officer=cc_pb.Officer(
            id=officer_id, certificate_expires=date(expires)), update_mask=FieldMask(paths=["certificate_expires"])))


# ---------------------------------------------------------------- command_center


def test_an_office_registered_in_command_center_supervises_the_entities_on_its_streets(center):
    hosted = center("command_center", ENFORCEMENT)
    enforcement = Enforcement(hosted)
    with pytest.raises(grpc.RpcError) as unknown:
        enforcement.register(1, "莘庄镇")
    assert unknown.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # no office covers it yet

    Center(hosted).office("MH01", ["莘庄镇", "莘庄工业区"])
    hosted.settle()

    assert enforcement.applied("command_center") == [contracts.type_name(cc_events.OfficeRegistered)]
    assert (enforcement.register(1, "莘庄镇").office_id, enforcement.register(2, "莘庄工业区").office_id) == (
        "MH01", "MH01")
    hosted.settle()
    assert enforcement.supervised("MH01") == 2


def test_a_street_taken_over_in_command_center_takes_its_businesses_to_the_new_office(center):
    hosted = center("command_center", ENFORCEMENT)
    enforcement, command = Enforcement(hosted), Center(hosted)
    command.office("MH01", ["莘庄镇", "春申"])
    command.office("MH02", ["七宝镇"])
    hosted.settle()
    enforcement.register(1, "春申")
    enforcement.register(2, "莘庄镇")
    hosted.settle()
    assert (enforcement.supervised("MH01"), enforcement.supervised("MH02")) == (2, 0)

    # command_center lets a street go to another office only once its office released it.
    command.streets("MH01", ["莘庄镇"])
    command.streets("MH02", ["七宝镇", "春申"])
    hosted.settle()

    assert enforcement.applied("command_center")[-2:] == [contracts.type_name(cc_events.OfficeUpdated)] * 2
    assert enforcement.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(1))).office_id == "MH02"
    assert enforcement.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(2))).office_id == "MH01"
    assert enforcement.register(3, "春申").office_id == "MH02"
    hosted.settle()
    assert (enforcement.supervised("MH01"), enforcement.supervised("MH02")) == (1, 2)


def test_officers_registered_in_command_center_can_be_assigned_to_a_case(center):
    clock = Clock()
    hosted = center("command_center", ENFORCEMENT, clock=clock)
    enforcement, command = Enforcement(hosted), Center(hosted)
    command.office("MH01", ["莘庄镇"])
    command.officer("MH01-01", "MH01", clock.today + dt.timedelta(days=200))
    command.officer("MH01-02", "MH01", clock.today + dt.timedelta(days=200))
    hosted.settle()
    enforcement.register(1, "莘庄镇")
    lead = enforcement.cases.OpenLead(pb.OpenLeadRequest(lead=pb.Case(
        entity_id=uscc(1), source=pb.LEAD_SOURCE_REFERRAL, description="涉嫌销售过期食品")))

    filed = enforcement.cases.FileCase(pb.FileCaseRequest(id=lead.id, officer_ids=["MH01-01", "MH01-02"]))

    assert enforcement.applied("command_center")[1:] == [contracts.type_name(cc_events.OfficerRegistered)] * 2
    assert (filed.state, list(filed.officer_ids)) == (pb.CASE_STATE_FILED, ["MH01-01", "MH01-02"])


def test_a_certificate_lapsed_in_command_center_stops_the_officer_acting(center):
    clock = Clock()
    hosted = center("command_center", ENFORCEMENT, clock=clock)
    enforcement, command = Enforcement(hosted), Center(hosted)
    command.office("MH01", ["莘庄镇"])
    for officer_id in ("MH01-01", "MH01-02"):
        command.officer(officer_id, "MH01", clock.today + dt.timedelta(days=200))
    hosted.settle()
    enforcement.register(1, "莘庄镇")
    lead = enforcement.cases.OpenLead(pb.OpenLeadRequest(lead=pb.Case(
        entity_id=uscc(1), source=pb.LEAD_SOURCE_REFERRAL, description="涉嫌销售过期食品")))

    command.certificate("MH01-02", clock.today - dt.timedelta(days=1))
    hosted.settle()

    assert enforcement.applied("command_center")[-1] == contracts.type_name(cc_events.OfficerUpdated)
    with pytest.raises(grpc.RpcError) as refused:
        enforcement.cases.FileCase(pb.FileCaseRequest(id=lead.id, officer_ids=["MH01-01", "MH01-02"]))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "MH01-02 holds no valid enforcement certificate" in refused.value.details()
    command.certificate("MH01-02", clock.today + dt.timedelta(days=365))
    hosted.settle()
    assert enforcement.cases.FileCase(pb.FileCaseRequest(
        id=lead.id, officer_ids=["MH01-01", "MH01-02"])).state == pb.CASE_STATE_FILED


# ---------------------------------------------------------------- complaints


def test_a_report_accepted_as_a_lead_in_complaints_opens_a_case_lead_counted_from_receipt(center):
    hosted = center("command_center", "complaints", ENFORCEMENT)
    enforcement = Enforcement(hosted)
    Center(hosted).office("MH02", ["七宝镇"])
    hosted.settle()
    complaints = complaints_grpc.ComplaintServiceStub(hosted["complaints"].channel)
    report = complaints_pb.Complaint(
        kind=complaints_pb.COMPLAINT_KIND_REPORT, channel=complaints_pb.CHANNEL_HOTLINE_12315,
        complainant=complaints_pb.Complainant(name="欧阳娜娜", phone="13912345678"),
        respondent=complaints_pb.Respondent(name="七宝某面馆", uscc="", address="七宝老街9号", street="七宝镇"),
        category="食品安全", description="举报该店使用过期面粉")
    # Received on Wednesday 28 October 2026; the center's day is Monday 2 November.
    report.received_at.FromDatetime(dt.datetime(2026, 10, 28, 3, 0, tzinfo=dt.UTC))
    report = complaints.CreateComplaint(complaints_pb.CreateComplaintRequest(complaint=report))
    complaints.VerifyReport(complaints_pb.VerifyReportRequest(id=report.id, note="现场核查属实"))
    complaints.DecideReport(complaints_pb.DecideReportRequest(id=report.id, file_case=True))
    hosted.settle()

    assert enforcement.applied("complaints") == [contracts.type_name(complaints_events.CaseLeadRaised)]
    [lead] = enforcement.leads("REPORT")
    assert (lead.state, lead.office_id, lead.source_ref, lead.entity_id) == (pb.CASE_STATE_LEAD, "MH02", report.id, "")
    assert (lead.party.name, lead.party.uscc, lead.party.address) == ("七宝某面馆", "", "七宝镇 七宝老街9号")
    assert lead.description.startswith("举报（食品安全）：") and "过期面粉" in lead.description
    assert "欧阳娜娜" not in lead.description
    # 15 working days from receipt, as complaints counted the same report's filing decision.
    assert lead.received_time.ToDatetime(dt.UTC) == dt.datetime(2026, 10, 28, 3, 0, tzinfo=dt.UTC)
    assert lead.filing_decision_due == date(dt.date(2026, 11, 18)) == report.filing_decision_due

    # The relay delivers again after a crash: still one lead.
    [wire] = published(hosted["complaints"], complaints_events.CaseLeadRaised)
    hosted["complaints"].bus.publish(wire)
    assert [c.id for c in enforcement.leads("REPORT")] == [lead.id]


# ---------------------------------------------------------------- facilities


def test_a_rapid_test_positive_confirmed_in_facilities_opens_a_lead_and_a_follow_up(center):
    clock = Clock(today=shanghai_today())  # facilities dates a test by the wall clock
    hosted = center("command_center", "facilities", ENFORCEMENT, clock=clock)
    enforcement = Enforcement(hosted)
    Center(hosted).office("MH01", ["莘庄镇"])
    hosted.settle()
    vendor = enforcement.register(1, "莘庄镇", category=pb.ENTITY_CATEGORY_WET_MARKET)
    equipment = facilities_grpc.EquipmentServiceStub(hosted["facilities"].channel)
    tests = facilities_grpc.RapidTestServiceStub(hosted["facilities"].channel)
    reader = equipment.RegisterEquipment(facilities_pb.RegisterEquipmentRequest(equipment=facilities_pb.Equipment(
        office_id="MH01", category="pesticide_reader", model="NY-12", serial_no="SN-0001",
        last_calibrated_on=date(clock.today - dt.timedelta(days=30)))))

    def confirmed_positive(vendor_name: str, vendor_uscc: str) -> facilities_pb.RapidTest:
        test = tests.RecordTest(facilities_pb.RecordTestRequest(
            office_id="MH01", origin=facilities_pb.TEST_ORIGIN_MARKET_SAMPLING, sample=facilities_pb.Sample(
                name="青菜", vendor_name=vendor_name, vendor_uscc=vendor_uscc, market="莘庄农贸市场", stall="3号"),
            item="pesticide_residue", method="enzyme_inhibition", equipment_id=reader.id, reading=62))
        return tests.ConfirmResult(facilities_pb.ConfirmResultRequest(test_id=test.id, retest_waived=True,
                                                                      kg_destroyed=2.5))

    in_directory = confirmed_positive("莘庄菜场3号摊", vendor.uscc)
    unknown = confirmed_positive("流动摊贩", "")
    hosted.settle()

    assert enforcement.applied("facilities") == [contracts.type_name(facilities_events.RapidTestPositive)] * 2
    leads = {lead.source_ref: lead for lead in enforcement.leads("RAPID_TEST")}
    known, stranger = leads[in_directory.id], leads[unknown.id]
    assert (known.entity_id, known.office_id, known.party.name) == (vendor.uscc, "MH01", vendor.name)
    assert (stranger.entity_id, stranger.office_id, stranger.party.name, stranger.party.address) == (
        "", "MH01", "流动摊贩", "莘庄农贸市场 3号")
    assert known.description == "快检阳性：青菜 pesticide_residue 62 %"
    assert known.received_time == in_directory.tested_at  # the filing clock runs from the test
    follow_ups = enforcement.inspections.ListInspections(pb.ListInspectionsRequest(
        filter="kind = RAPID_TEST_FOLLOW_UP")).inspections
    assert [(i.entity_id, i.source_ref, i.state) for i in follow_ups] == [
        (vendor.uscc, in_directory.id, pb.INSPECTION_STATE_PLANNED)]
