"""What assessment does with the events it consumes, each produced by its publisher's own code through
its gRPC API: command_center's offices and officers become the offices it scores and the officers it
grades; every service's IndicatorsChanged goes into the indicator history (mobile_enforcement's
supervised population among them, the workload's entities); and the work the officers complete (a
supervision task, an inspection, a complaint, a case) becomes evidence for each officer credited
with it, on time when its statutory clocks were met (平时考核)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp
from google.type import latlng_pb2
from sqlalchemy import select

from services.assessment.domain import workload
from services.assessment.models import IndicatorHistory, Office, Officer
from services.common.auth import issue_token
from services.common.clock import shanghai_today
from services.common.contracts import date_of
from services.common.credit_code import check_character
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc
from supervision.command_center.v1 import command_center_pb2 as cc
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.complaints.v1 import complaints_pb2 as cp
from supervision.complaints.v1 import complaints_pb2_grpc as cp_grpc
from supervision.emergency.v1 import emergency_pb2 as em
from supervision.emergency.v1 import emergency_pb2_grpc as em_grpc
from supervision.facilities.v1 import facilities_pb2 as fa
from supervision.facilities.v1 import facilities_pb2_grpc as fa_grpc
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as me_grpc
from tests.contracts import case_procedure
from tests.support import Clock

SECRET = "contract-secret-of-at-least-32-bytes!"
STREET = "莘庄镇"
OFFICERS = ("MH01-01", "MH01-02", "MH01-03", "MH01-04")


def as_user(subject: str, *roles: str, office_id: str = ""):
    """Call metadata with a token for this subject (AUTH_MODE=jwt): who acts is who gets the credit."""
    token = issue_token(SECRET, subject=subject, roles=list(roles), office_id=office_id)
    return (("authorization", f"Bearer {token}"),)


LEADER = as_user("leader", "bureau_leader")


def uscc(number: int) -> str:
    first_17 = f"91310112MA1{number:06d}"
    return first_17 + check_character(first_17)


@pytest.fixture
def district(center, monkeypatch):
    """The publishers and assessment under AUTH_MODE=jwt, with MH01 and four certified officers
    registered through command_center's API."""
    monkeypatch.setenv("INDICATOR_SOURCES", "")  # assessment never calls a source in these tests
    # Today is the wall clock's day: mobile_enforcement stamps publication with the wall clock.
    built = center("command_center", "mobile_enforcement", "complaints", "assessment",
                   clock=Clock(shanghai_today()), AUTH_MODE="jwt", JWT_SECRET=SECRET)
    offices = cc_grpc.OfficeServiceStub(built["command_center"].channel)
    offices.CreateOffice(cc.CreateOfficeRequest(request_id="office-MH01", office=cc.Office(
        id="MH01", name="莘庄市场监督管理所", district="闵行区", streets=[STREET])), metadata=LEADER)
    officers = cc_grpc.OfficerServiceStub(built["command_center"].channel)
    expires = date_of(built.clock.today + dt.timedelta(days=365))
    for officer_id in OFFICERS:
        officers.RegisterOfficer(cc.RegisterOfficerRequest(request_id=f"officer-{officer_id}", officer=cc.Officer(
            id=officer_id, name=f"干部{officer_id}", office_id="MH01", group=cc.GROUP_KIND_SUPERVISION,
            certificate_no=f"SH{officer_id[-2:]}", certificate_expires=expires)), metadata=LEADER)
    built.settle()
    return built


def evidence_of(district, officer_id: str) -> list[pb.Evidence]:
    stub = pb_grpc.StaffAssessmentServiceStub(district["assessment"].channel)
    return list(stub.ListEvidence(pb.ListEvidenceRequest(filter=f'officer_id = "{officer_id}"', page_size=100),
                                  metadata=LEADER).evidence)


def register_entity(district, number: int) -> me.Entity:
    return me_grpc.EntityServiceStub(district["mobile_enforcement"].channel).RegisterEntity(
        me.RegisterEntityRequest(request_id=f"entity-{number}", entity=me.Entity(
            uscc=uscc(number), name=f"小杨生煎（{number}店）", category=me.ENTITY_CATEGORY_CATERING,
            address=f"莘松路{number}号", street=STREET, risk_level=me.RISK_LEVEL_LOW)), metadata=LEADER)


# ---------------------------------------------------------------- command_center's registry


def test_offices_and_officers_registered_and_changed_at_command_center_are_assessments(district):
    with district["assessment"].store.read() as session:
        office = session.get(Office, "MH01")
        officers = {o.id: (o.office_id, o.group, o.name) for o in session.scalars(select(Officer))}
    assert office.name == "莘庄市场监督管理所"
    assert officers == {officer_id: ("MH01", "SUPERVISION", f"干部{officer_id}") for officer_id in OFFICERS}

    offices = cc_grpc.OfficeServiceStub(district["command_center"].channel)
    offices.CreateOffice(cc.CreateOfficeRequest(request_id="office-MH02", office=cc.Office(
        id="MH02", name="七宝所", district="闵行区", streets=["七宝镇"])), metadata=LEADER)
    offices.UpdateOffice(cc.UpdateOfficeRequest(office=cc.Office(id="MH01", name="莘庄所"),
        update_mask=FieldMask(paths=["name"])),
                         metadata=LEADER)
    cc_grpc.OfficerServiceStub(district["command_center"].channel).UpdateOfficer(cc.UpdateOfficerRequest(
        officer=cc.Officer(id="MH01-04", office_id="MH02", group=cc.GROUP_KIND_CASE_HANDLING),
        update_mask=FieldMask(paths=["office_id", "group"])), metadata=LEADER)
    district.settle()
    with district["assessment"].store.read() as session:
        assert (session.get(Office, "MH01").name, session.get(Office, "MH02").name) == ("莘庄所", "七宝所")
        moved = session.get(Officer, "MH01-04")
        assert (moved.office_id, moved.group) == ("MH02", "CASE_HANDLING")


# ---------------------------------------------------------------- IndicatorsChanged, from every source


def test_indicators_changed_of_each_service_goes_into_the_history(district):
    for number in range(1, 4):
        register_entity(district, number)
    district.settle()
    with district["assessment"].store.read() as session:
        rows = list(session.scalars(select(IndicatorHistory).where(IndicatorHistory.office_id == "MH01")))
    sources = {row.source for row in rows}
    assert {"command_center", "mobile_enforcement"} <= sources
    assert all(row.key.startswith(row.source + ".") for row in rows)
    # The office's supervised population, the workload's entities input: its latest version.
    population = max((row for row in rows if row.key == workload.ENTITIES_SUPERVISED), key=lambda row: row.version)
    assert (population.numerator, population.denominator) == (3, 1)
    staffing = max((row for row in rows if row.key == "command_center.certificates_valid"),
                   key=lambda row: row.version)
    assert (staffing.numerator, staffing.denominator) == (4, 4)


def record_drill(built) -> None:
    """emergency: a drill held today, one of the office's two a year."""
    em_grpc.IncidentServiceStub(built["emergency"].channel).RecordDrill(em.RecordDrillRequest(
        request_id="drill-1", drill=em.Drill(office_id="MH01", held_on=date_of(built.clock.today),
                                             title="食物中毒应急处置演练", participant_count=12,
                                             incident_type=em.INCIDENT_TYPE_FOOD_SAFETY)), metadata=LEADER)


def register_calibrated_reader(built) -> None:
    """facilities: the office's pesticide reader, calibrated a month ago."""
    fa_grpc.EquipmentServiceStub(built["facilities"].channel).RegisterEquipment(fa.RegisterEquipmentRequest(
        request_id="reader-1", equipment=fa.Equipment(
            office_id="MH01", category="pesticide_reader", model="NY-12", serial_no="SN-0001",
            last_calibrated_on=date_of(built.clock.today - dt.timedelta(days=30)))), metadata=LEADER)


@pytest.mark.parametrize(("source", "act", "key", "moved"), [
    ("emergency", record_drill, "emergency.drills_per_year", ((0, 2), (1, 2))),
    ("facilities", register_calibrated_reader, "facilities.equipment_in_calibration", ((0, 0), (1, 1))),
], ids=["emergency", "facilities"])
def test_indicators_changed_of_emergency_and_facilities_goes_into_the_history(center, monkeypatch, source, act, key,
                                                                              moved):
    """The source learns MH01 from command_center and publishes its indicators; work recorded
    through its API moves one, and assessment's history holds each published version, the latest
    equal to the source's own answer."""
    monkeypatch.setenv("INDICATOR_SOURCES", "")  # assessment never calls a source in this test
    built = center("command_center", source, "assessment", AUTH_MODE="jwt", JWT_SECRET=SECRET)
    cc_grpc.OfficeServiceStub(built["command_center"].channel).CreateOffice(cc.CreateOfficeRequest(
        request_id="office-MH01", office=cc.Office(id="MH01", name="莘庄市场监督管理所", district="闵行区",
                                                   streets=[STREET])), metadata=LEADER)
    built.settle()
    act(built)
    built.settle()

    with built["assessment"].store.read() as session:
        rows = list(session.scalars(select(IndicatorHistory).where(
            IndicatorHistory.source == source, IndicatorHistory.office_id == "MH01")
            .order_by(IndicatorHistory.version)))
    history = [(row.numerator, row.denominator) for row in rows if row.key == key]
    # As first published for the office, and after the work.
    assert len(history) >= 2 and (history[0], history[-1]) == moved, history
    latest = {row.key: (row.numerator, row.denominator) for row in rows}  # the last version of each key
    answer = indicators_pb2_grpc.IndicatorSourceStub(built[source].channel).ListIndicators(
        indicators_pb2.ListIndicatorsRequest(office_ids=["MH01"]), metadata=LEADER)
    assert latest == {i.key: (i.numerator, i.denominator) for i in answer.indicators if i.office_id == "MH01"}


# ---------------------------------------------------------------- work done: evidence


def test_an_inspection_by_two_officers_is_evidence_for_both_on_time(district):
    register_entity(district, 1)
    inspections = me_grpc.InspectionServiceStub(district["mobile_enforcement"].channel)
    today = district.clock.today
    scheduled = inspections.ScheduleInspection(me.ScheduleInspectionRequest(request_id="inspect-1", inspection=(
        me.Inspection(entity_id=uscc(1), kind=me.INSPECTION_KIND_ROUTINE,
                      due_date=date_of(today + dt.timedelta(days=3))))), metadata=LEADER)
    started = inspections.StartInspection(me.StartInspectionRequest(
        id=scheduled.id, officer_ids=["MH01-01", "MH01-02"], location=me.Location(
            point=latlng_pb2.LatLng(latitude=31.11, longitude=121.38), address="莘松路1号")),
        metadata=LEADER)
    inspections.RecordFindings(me.RecordFindingsRequest(id=started.id, findings=[
        me.Finding(item_code=code, result=me.ITEM_RESULT_PASS) for code in started.unanswered_items]),
        metadata=LEADER)
    done = inspections.CompleteInspection(me.CompleteInspectionRequest(id=started.id), metadata=LEADER)
    district.settle()
    for officer_id in ("MH01-01", "MH01-02"):
        [item] = evidence_of(district, officer_id)
        assert (item.kind, item.reference, item.office_id, item.source) == (
            pb.EVIDENCE_KIND_INSPECTION, done.id, "MH01", "mobile_enforcement")
        assert item.HasField("on_time") and item.on_time
        assert sorted(item.officer_ids) == ["MH01-01", "MH01-02"] and item.occurred_on == date_of(today)
    assert evidence_of(district, "MH01-03") == []


def test_a_case_closed_by_its_two_officers_is_evidence_for_both(district):
    register_entity(district, 2)
    cases = me_grpc.CaseServiceStub(district["mobile_enforcement"].channel)
    lead = cases.OpenLead(me.OpenLeadRequest(request_id="lead-1", lead=me.Case(
        entity_id=uscc(2), source=me.LEAD_SOURCE_REFERRAL, source_ref="R-1", description="涉嫌销售过期食品")),
        metadata=LEADER)
    filed = cases.FileCase(me.FileCaseRequest(id=lead.id, officer_ids=["MH01-03", "MH01-04"]), metadata=LEADER)
    closed = case_procedure.closed(cases, filed.id, case_procedure.warning(), metadata=LEADER)
    assert closed.state == me.CASE_STATE_CLOSED
    district.settle()
    for officer_id in ("MH01-03", "MH01-04"):
        [item] = evidence_of(district, officer_id)
        assert (item.kind, item.reference, item.office_id) == (pb.EVIDENCE_KIND_CASE, filed.id, "MH01")
        assert item.HasField("on_time") and item.on_time
        assert sorted(item.officer_ids) == ["MH01-03", "MH01-04"]
        assert item.occurred_on == date_of(district.clock.today)


def test_a_complaint_resolved_by_an_officer_is_evidence_for_that_officer(district):
    received = Timestamp()
    received.FromDatetime(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    complaints = cp_grpc.ComplaintServiceStub(district["complaints"].channel)
    item = complaints.CreateComplaint(cp.CreateComplaintRequest(request_id=str(uuid.uuid4()), complaint=cp.Complaint(
        kind=cp.COMPLAINT_KIND_COMPLAINT, channel=cp.CHANNEL_HOTLINE_12315, received_at=received,
        complainant=cp.Complainant(name="欧阳娜娜", phone="13912345678"),
        respondent=cp.Respondent(name="莘庄鲜丰超市有限公司", address="闵行区莘庄镇莘松路100号", street=STREET),
        category="食品安全", description="购买的酸奶已过保质期，要求退货赔偿。", amount_yuan="38.50")), metadata=LEADER)
    assert item.office_id == "MH01"
    officer = as_user("MH01-02", "officer", office_id="MH01")
    complaints.AcceptComplaint(cp.AcceptComplaintRequest(id=item.id, note="予以受理"), metadata=officer)
    complaints.RecordMediationOutcome(cp.RecordMediationOutcomeRequest(
        id=item.id, outcome=cp.MEDIATION_OUTCOME_RESOLVED, note="双方达成一致，退货赔偿"), metadata=officer)
    district.settle()
    [evidence] = evidence_of(district, "MH01-02")
    assert (evidence.kind, evidence.reference, evidence.office_id, list(evidence.officer_ids)) == (
        pb.EVIDENCE_KIND_COMPLAINT, item.id, "MH01", ["MH01-02"])
    assert evidence.HasField("on_time") and evidence.on_time
    assert evidence.occurred_on == date_of(district.clock.today)


def test_a_task_completed_by_an_officer_is_evidence_for_that_officer(district):
    tasks = cc_grpc.TaskServiceStub(district["command_center"].channel)
    task = tasks.CreateTask(cc.CreateTaskRequest(request_id="task-1", task=cc.Task(
        office_id="MH01", title="督办：农贸市场整治回头看", source="bureau",
        due_date=date_of(district.clock.today + dt.timedelta(days=1)))), metadata=LEADER)
    officer = as_user("MH01-04", "officer", office_id="MH01")
    tasks.AcceptTask(cc.AcceptTaskRequest(id=task.id), metadata=officer)
    district.clock.today += dt.timedelta(days=2)  # done a day after it was due
    tasks.CompleteTask(cc.CompleteTaskRequest(id=task.id, note="整改完毕"), metadata=officer)
    district.settle()
    [evidence] = evidence_of(district, "MH01-04")
    assert (evidence.kind, evidence.reference, evidence.title, list(evidence.officer_ids)) == (
        pb.EVIDENCE_KIND_TASK, task.id, "督办：农贸市场整治回头看", ["MH01-04"])
    assert evidence.HasField("on_time") and not evidence.on_time
    assert evidence.occurred_on == date_of(district.clock.today)
