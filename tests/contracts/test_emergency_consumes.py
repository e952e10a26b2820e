"""What emergency does with the events it consumes, each produced by command_center's own code through
its gRPC API: an office registered or updated is one incidents and drills can belong to (with its
drill indicator from the start), and an officer registered or moved is dispatched only to the
incidents of their own office."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp
from google.type import date_pb2

from services.emergency.models import Office, Officer
from supervision.command_center.v1 import command_center_pb2 as cc
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.emergency.v1 import emergency_pb2 as em
from supervision.emergency.v1 import emergency_pb2_grpc as em_grpc


@pytest.fixture
def district(center):
    return center("command_center", "emergency")


def create_office(district, office_id: str, street: str) -> cc.Office:
    return cc_grpc.OfficeServiceStub(district["command_center"].channel).CreateOffice(cc.CreateOfficeRequest(
        request_id=f"office-{office_id}", office=cc.Office(id=office_id, name=f"{street}市场监督管理所",
                                                           district="闵行区", streets=[street])))


def register_officer(district, officer_id: str, office_id: str) -> cc.Officer:
    return cc_grpc.OfficerServiceStub(district["command_center"].channel).RegisterOfficer(
        cc.RegisterOfficerRequest(request_id=f"officer-{officer_id}", officer=cc.Officer(
            id=officer_id, name="王伟", office_id=office_id, group=cc.GROUP_KIND_SUPERVISION,
            certificate_no="SH0101", certificate_expires=date_pb2.Date(year=2027, month=6, day=30))))


def incidents(district) -> em_grpc.IncidentServiceStub:
    return em_grpc.IncidentServiceStub(district["emergency"].channel)


def report_incident(district, office_id: str) -> em.Incident:
    learned = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    occurred, learned_at = Timestamp(), Timestamp()
    occurred.FromDatetime(learned - dt.timedelta(hours=1))
    learned_at.FromDatetime(learned)
    return incidents(district).ReportIncident(em.ReportIncidentRequest(
        request_id=str(uuid.uuid4()), incident=em.Incident(
            type=em.INCIDENT_TYPE_FOOD_SAFETY, office_id=office_id, title="某小学食堂学生腹泻",
            occurred_at=occurred, learned_at=learned_at, ill_count=6)))


def assign_onsite(district, incident: em.Incident, officer_id: str) -> em.Incident:
    onsite = next(a.id for a in incident.actions if a.code == "ONSITE")
    return incidents(district).AssignAction(em.AssignActionRequest(incident_id=incident.id, action_id=onsite,
                                                                   officer_id=officer_id))


def refused(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value.code()


def test_an_office_registered_in_command_center_is_one_emergency_reports_incidents_for(district):
    assert refused(lambda: report_incident(district, "MH01")) == grpc.StatusCode.NOT_FOUND
    create_office(district, "MH01", "莘庄镇")
    district.settle()
    reported = report_incident(district, "MH01")
    assert (reported.office_id, reported.level) == ("MH01", em.LEVEL_IV)
    # Newly known, the office has its drill indicator at once: no drills yet against the yearly target.
    source = indicators_pb2_grpc.IndicatorSourceStub(district["emergency"].channel)
    district.settle()
    readings = {i.key: (i.numerator, i.denominator) for i in source.ListIndicators(
        indicators_pb2.ListIndicatorsRequest(office_ids=["MH01"])).indicators}
    assert readings["emergency.drills_per_year"] == (0, 2)


def test_an_office_updated_in_command_center_replaces_emergencys_copy(district):
    created = create_office(district, "MH01", "莘庄镇")
    district.settle()
    cc_grpc.OfficeServiceStub(district["command_center"].channel).UpdateOffice(cc.UpdateOfficeRequest(
        office=cc.Office(id="MH01", name="莘庄中心所", streets=["莘庄镇", "春申路街道"]),
        update_mask=FieldMask(paths=["name", "streets"]), expected_version=created.version))
    district.settle()
    with district["emergency"].store.read() as session:
        office = session.get(Office, "MH01")
        assert (office.name, office.district, office.streets) == ("莘庄中心所", "闵行区", ["莘庄镇", "春申路街道"])
    assert report_incident(district, "MH01").office_id == "MH01"


def test_an_officer_registered_in_command_center_is_dispatched_to_their_offices_incidents(district):
    create_office(district, "MH01", "莘庄镇")
    create_office(district, "MH02", "七宝镇")
    district.settle()
    incident = report_incident(district, "MH01")
    assert refused(lambda: assign_onsite(district, incident, "MH01-01")) == grpc.StatusCode.NOT_FOUND
    register_officer(district, "MH01-01", "MH01")
    register_officer(district, "MH02-01", "MH02")
    district.settle()
    assigned = assign_onsite(district, incident, "MH01-01")
    assert next(a.assignee_id for a in assigned.actions if a.code == "ONSITE") == "MH01-01"
    assert refused(lambda: assign_onsite(district, incident, "MH02-01")) == grpc.StatusCode.FAILED_PRECONDITION
    with district["emergency"].store.read() as session:
        officer = session.get(Officer, "MH01-01")
        assert (officer.name, officer.office_id, officer.group, officer.certificate_no, officer.certificate_expires) \
            == ("王伟", "MH01", "SUPERVISION", "SH0101", dt.date(2027, 6, 30))


def test_an_officer_moved_in_command_center_is_dispatched_to_the_new_offices_incidents(district):
    create_office(district, "MH01", "莘庄镇")
    create_office(district, "MH02", "七宝镇")
    registered = register_officer(district, "MH02-01", "MH02")
    district.settle()
    incident = report_incident(district, "MH01")
    assert refused(lambda: assign_onsite(district, incident, "MH02-01")) == grpc.StatusCode.FAILED_PRECONDITION
    cc_grpc.OfficerServiceStub(district["command_center"].channel).UpdateOfficer(cc.UpdateOfficerRequest(
        officer=cc.Officer(id="MH02-01", office_id="MH01", certificate_no="SH0202",
                           certificate_expires=date_pb2.Date(year=2028, month=1, day=31)),
        update_mask=FieldMask(paths=["office_id", "certificate_no", "certificate_expires"]),
        expected_version=registered.version))
    district.settle()
    assigned = assign_onsite(district, incident, "MH02-01")
    assert next(a.assignee_id for a in assigned.actions if a.code == "ONSITE") == "MH02-01"
    with district["emergency"].store.read() as session:
        officer = session.get(Officer, "MH02-01")
        assert (officer.office_id, officer.certificate_no, officer.certificate_expires) == (
            "MH01", "SH0202", dt.date(2028, 1, 31))
