"""command_center and complaints wired as services.monolith wires them: each consumes the other's
events on the in-process bus. Offices registered in command_center route complaints; an overdue
complaint becomes a supervision task there."""

from __future__ import annotations

import datetime as dt

import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from tests.api.complaints.support import ComplaintsClient, district_offices
from tests.conftest import make_settings
from tests.support import host


@pytest.fixture(params=["sqlite", "postgres"])
def services(request, tmp_path):
    complaints_url = (f"sqlite:///{tmp_path / 'complaints.db'}" if request.param == "sqlite"
                      else request.getfixturevalue("postgres_database"))
    center = host("command_center", f"sqlite:///{tmp_path / 'command_center.db'}", make_settings())
    complaints = host("complaints", complaints_url, make_settings(), clock=center.clock)
    center.bus.subscribe(complaints.runtime.consumer(), complaints.runtime.subscriptions)
    complaints.bus.subscribe(center.runtime.consumer(), center.runtime.subscriptions)
    offices = cc_grpc.OfficeServiceStub(center.channel)
    for office in district_offices():
        offices.CreateOffice(cc_pb.CreateOfficeRequest(office=cc_pb.Office(
            id=office["id"], name=office["name"], district="闵行区", streets=office["streets"])))
    center.settle()
    yield center, ComplaintsClient(complaints), offices
    complaints.close()
    center.close()


def test_every_demo_street_routes_to_the_office_command_center_registered(services):
    _, complaints, _ = services
    for office in district_offices():
        for street in office["streets"]:
            assert complaints.create(street=street).office_id == office["id"], street
            by_address = complaints.create(street="", address=f"上海市闵行区{street}某某路88号")
            assert by_address.office_id == office["id"], street
    assert complaints.create(street="外滩街道", address="黄浦区中山东一路1号").office_id == "_district_queue"


def test_an_office_update_in_command_center_reroutes_the_waiting_items(services):
    center, complaints, offices = services
    waiting = complaints.create(street="春申", address="闵行区春申路1号")
    assert waiting.office_id == "_district_queue"
    offices.UpdateOffice(cc_pb.UpdateOfficeRequest(office=cc_pb.Office(id="MH01", streets=["莘庄镇", "春申"]),
                                                   update_mask=FieldMask(paths=["streets"])))
    center.settle()
    assert complaints.get(waiting.id).office_id == "MH01"
    assert complaints.create(street="春申").office_id == "MH01"


def test_an_overdue_complaint_becomes_a_supervision_task_of_its_office(services):
    center, complaints, _ = services
    late = complaints.create(street="浦锦街道")
    center.clock.today += dt.timedelta(days=14)
    complaints.running.runtime.timers[0].run()
    complaints.running.settle()
    tasks = cc_grpc.TaskServiceStub(center.channel).ListTasks(
        cc_pb.ListTasksRequest(filter='source = "complaints.overdue"')).tasks
    assert [(t.source_ref, t.office_id) for t in tasks] == [(late.id, "MH13")]
