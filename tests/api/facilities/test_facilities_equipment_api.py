"""facilities through a real gRPC server: equipment, its calibration and the configuration."""

from __future__ import annotations

import datetime as dt

import grpc

from services.common.contracts import day_of
from supervision.facilities.v1 import events_pb2
from supervision.facilities.v1 import facilities_pb2 as pb
from tests.api.facilities.support import (
    INVALID,
    NOT_FOUND,
    PRECONDITION,
    TODAY,
    date,
    expect_error,
    refused,
)


def test_equipment_is_registered_calibrated_and_counted_against_the_configuration(client):
    reader = client.register("rapid_test_reader", serial="RTR-001", request_id="e1",
                             last_calibrated=dt.date(2026, 1, 31))
    assert reader.calibration_due == date(dt.date(2027, 1, 31)) and reader.in_calibration
    assert reader.category_name == "食品安全快速检测仪" and reader.status == pb.EQUIPMENT_STATUS_IN_SERVICE
    assert client.register("rapid_test_reader", serial="RTR-001", request_id="e1",
                           last_calibrated=dt.date(2026, 1, 31)) == reader
    vehicle = client.register("vehicle", serial="HU-A12345")
    assert not vehicle.needs_calibration and vehicle.in_calibration
    expect_error(lambda: client.register("rapid_test_reader", serial="RTR-001"), grpc.StatusCode.ALREADY_EXISTS)

    stale = client.register("thermometer", last_calibrated=TODAY - dt.timedelta(days=400),
                            due=TODAY - dt.timedelta(days=35))
    assert not stale.in_calibration
    assert client.readings()["facilities.equipment_in_calibration"] == (1, 2)
    renewed = client.equipment.RecordCalibration(pb.RecordCalibrationRequest(
        equipment_id=stale.id, calibrated_on=date(TODAY - dt.timedelta(days=1)), certificate_no="JD-2026-118"))
    assert renewed.calibration_due == date(dt.date(2027, 11, 9)) and renewed.version == 2
    assert client.readings()["facilities.equipment_in_calibration"] == (2, 2)

    configuration = {c.category: c for c in client.equipment.GetEquipmentConfiguration(
        pb.GetEquipmentConfigurationRequest(office_id="MH01")).categories}
    assert (configuration["rapid_test_reader"].required, configuration["rapid_test_reader"].held) == (2, 1)
    assert not configuration["rapid_test_reader"].complete and configuration["vehicle"].held == 1
    retired = client.equipment.SetEquipmentStatus(pb.SetEquipmentStatusRequest(
        id=stale.id, status=pb.EQUIPMENT_STATUS_RETIRED))
    assert retired.status == pb.EQUIPMENT_STATUS_RETIRED
    assert client.readings()["facilities.equipment_in_calibration"] == (1, 1)
    listed = client.equipment.ListEquipment(pb.ListEquipmentRequest(
        filter='office_id = "MH01" AND status = IN_SERVICE AND in_calibration = true'))
    assert {e.id for e in listed.equipment} == {reader.id, vehicle.id}


def test_bad_equipment_requests_are_refused_and_change_nothing(client):
    def register(**changes):
        fields = {"office_id": "MH01", "category": "rapid_test_reader", "model": "FS-2000", "serial_no": "S-1",
                  "last_calibrated_on": date(TODAY - dt.timedelta(days=3))}
        fields.update(changes)
        return lambda: client.equipment.RegisterEquipment(pb.RegisterEquipmentRequest(
            equipment=pb.Equipment(**fields)))

    for call, code, field in [
        (register(category="laser_gun"), INVALID, "equipment.category"),
        (register(serial_no="bad serial!"), INVALID, "equipment.serial_no"),
        (register(model=""), INVALID, "equipment.model"),
        (register(last_calibrated_on=None), INVALID, "equipment.last_calibrated_on"),
        (register(last_calibrated_on=date(TODAY + dt.timedelta(days=1))), INVALID, "equipment.last_calibrated_on"),
        (register(calibration_due=date(TODAY - dt.timedelta(days=5))), INVALID, "equipment.calibration_due"),
        (register(category="vehicle"), INVALID, "equipment.calibration_due"),
        (register(office_id="MH77"), NOT_FOUND, None),
    ]:
        refused(client, call, code, field)
    reader = client.register("rapid_test_reader")
    vehicle = client.register("vehicle")
    for request, code, field in [
        (pb.RecordCalibrationRequest(equipment_id=reader.id, certificate_no="JD-1"), INVALID, "calibrated_on"),
        (pb.RecordCalibrationRequest(equipment_id=reader.id, calibrated_on=date(TODAY - dt.timedelta(days=90)),
                                     certificate_no="JD-1"), INVALID, "calibrated_on"),
        (pb.RecordCalibrationRequest(equipment_id=reader.id, calibrated_on=date(TODAY)), INVALID, "certificate_no"),
        (pb.RecordCalibrationRequest(equipment_id=reader.id, calibrated_on=date(TODAY), certificate_no="JD-1",
                                     calibration_due=date(TODAY)), INVALID, "calibration_due"),
        (pb.RecordCalibrationRequest(equipment_id=vehicle.id, calibrated_on=date(TODAY), certificate_no="JD-1"),
         PRECONDITION, None),
        (pb.RecordCalibrationRequest(equipment_id="nope", calibrated_on=date(TODAY), certificate_no="JD-1"),
         NOT_FOUND, None),
    ]:
        refused(client, lambda request=request: client.equipment.RecordCalibration(request), code, field)
    assert "status" in expect_error(lambda: client.equipment.SetEquipmentStatus(
        pb.SetEquipmentStatusRequest(id=reader.id)), INVALID)
    client.equipment.SetEquipmentStatus(pb.SetEquipmentStatusRequest(id=reader.id,
                                                                      status=pb.EQUIPMENT_STATUS_RETIRED))
    expect_error(lambda: client.equipment.SetEquipmentStatus(pb.SetEquipmentStatusRequest(
        id=reader.id, status=pb.EQUIPMENT_STATUS_IN_SERVICE)), PRECONDITION)
    expect_error(lambda: client.equipment.GetEquipment(pb.GetEquipmentRequest(id="nope")), NOT_FOUND)
    expect_error(lambda: client.equipment.GetEquipmentConfiguration(
        pb.GetEquipmentConfigurationRequest(office_id="MH77")), NOT_FOUND)
    assert "filter" in expect_error(lambda: client.equipment.ListEquipment(
        pb.ListEquipmentRequest(filter="status = BROKEN")), INVALID)


def test_calibration_due_is_published_once_per_due_date(client):
    notify = client.running.runtime.timers[0]
    assert notify.name == "notify_calibration_due"
    near = client.register("pesticide_reader", last_calibrated=TODAY - dt.timedelta(days=30),
                           due=TODAY + dt.timedelta(days=20))
    client.register("pesticide_reader", last_calibrated=TODAY - dt.timedelta(days=30),
                    due=TODAY + dt.timedelta(days=45))
    notify.run()
    notify.run()
    [event] = client.events(events_pb2.CalibrationDue)
    assert (event.aggregate_id, event.office_id) == (near.id, "MH01")
    assert event.message == events_pb2.CalibrationDue(
        equipment_id=near.id, version=1, office_id="MH01", category="pesticide_reader",
        category_name="农药残留速测仪",
        serial_no=near.serial_no, calibration_due=date(dt.date(2026, 11, 30)), overdue=False)

    client.clock.advance(days=21)  # past due: nothing new for the same due date, but the figure drops
    notify.run()
    assert len(client.events(events_pb2.CalibrationDue)) == 2  # the second device entered its notice period
    assert client.readings()["facilities.equipment_in_calibration"] == (1, 2)
    client.equipment.RecordCalibration(pb.RecordCalibrationRequest(
        equipment_id=near.id, calibrated_on=date(client.clock.today), certificate_no="JD-9",
        calibration_due=date(client.clock.today + dt.timedelta(days=10))))
    notify.run()
    notices = [e.message for e in client.events(events_pb2.CalibrationDue) if e.message.equipment_id == near.id]
    assert [(day_of(n.calibration_due), n.overdue) for n in notices] == [
        (dt.date(2026, 11, 30), False), (dt.date(2026, 12, 11), False)]
