"""facilities through a real gRPC server, on SQLite and on PostgreSQL, with offices, officers and
cases learned from other services' events on the in-process bus."""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from google.type import date_pb2
from sqlalchemy import delete, select, update

from services.common.auth import issue_token
from services.common.clock import SHANGHAI
from services.facilities.models import CustodyRecord, Office
from supervision.facilities.v1 import facilities_pb2 as pb
from tests.api.facilities_fixtures import (
    START,
    FacilitiesClient,
    InstantClock,
    date,
    expect_error,
    host_facilities,
    rapid_test_request,
)

INVALID, PRECONDITION, NOT_FOUND = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                                    grpc.StatusCode.NOT_FOUND)
TODAY = dt.date(2026, 11, 10)
ALL_MET = {"rapid_test": ["ventilation", "water_supply", "result_board", "sample_zone"]}


@pytest.fixture
def client(store_url):
    running = host_facilities(store_url, InstantClock())
    client = FacilitiesClient(running)
    client.office()
    yield client
    running.close()


def refused(client, call, code: grpc.StatusCode, field: str | None) -> None:
    """The call is refused with `code` (and a violation on `field`), and nothing changed."""
    before = client.counts()
    found = expect_error(call, code)
    if field:
        assert field in found, found
    assert client.counts() == before


# ---------------------------------------------------------------- rooms


def rooms_of(client, office_id="MH01") -> dict[str, pb.Room]:
    listed = client.rooms.ListRooms(pb.ListRoomsRequest(filter=f'office_id = "{office_id}"'))
    return {room.kind: room for room in listed.rooms}


def room_check(kind="rapid_test", area=25.0, met=None, present=True, checked_on=None, **changes) -> pb.RoomCheck:
    return pb.RoomCheck(office_id=changes.pop("office_id", "MH01"), kind=kind, present=present, area_m2=area,
                        requirements_met=ALL_MET.get(kind, []) if met is None else met, checked_by="区局检查组",
                        checked_on=date(checked_on) if checked_on else None, **changes)


def test_a_registered_office_gets_the_ten_standard_rooms_once(client):
    rooms = rooms_of(client)
    assert len(rooms) == 10
    assert rooms["rapid_test"].name == "快检室" and rooms["confiscated_store"].name == "罚没物品库"
    assert not any(room.compliant for room in rooms.values())
    assert [r.code for r in rooms["rapid_test"].requirements] == ALL_MET["rapid_test"]
    readings = client.readings()
    assert readings["facilities.rooms_compliant"] == (0, 10)
    assert set(readings) == {"facilities.rooms_compliant", "facilities.four_unified",
                             "facilities.equipment_in_calibration", "facilities.rapid_tests_per_week",
                             "facilities.positive_followed_up"}
    assert readings["facilities.rapid_tests_per_week"] == (0, 35)
    renamed = client.office(name="莘庄所", version=2, event_type="OfficeUpdated")
    client.running.bus.publish(renamed)  # a redelivery is absorbed by the inbox
    client.office(name="旧名", version=1)  # an older event never overrides a newer one
    assert len(rooms_of(client)) == 10
    with client.running.store.read() as session:
        assert session.get(Office, "MH01").name == "莘庄所"


def test_room_checks_judge_against_the_standard_and_report_non_compliance(client):
    good = client.rooms.RecordRoomCheck(pb.RecordRoomCheckRequest(request_id="c1", check=room_check()))
    assert good.compliant and good.problems == [] and good.checked_on == date(TODAY)
    again = client.rooms.RecordRoomCheck(pb.RecordRoomCheckRequest(request_id="c1", check=room_check(area=1)))
    assert again == good  # the retry returns the first result
    assert client.readings()["facilities.rooms_compliant"] == (1, 10)
    assert client.events("RoomNonCompliant") == []

    client.clock.advance(days=3)
    bad = client.rooms.RecordRoomCheck(pb.RecordRoomCheckRequest(check=room_check(
        area=18, met=["ventilation", "water_supply", "result_board"], findings="样品区被占用",
        photo_refs=["photos/r1.jpg"])))
    assert not bad.compliant
    assert bad.problems == ["area 18 m² is below the standard's 20 m²", "not met: 样品接收与留样区"]
    room = rooms_of(client)["rapid_test"]
    assert (room.compliant, room.last_check_id, room.version) == (False, bad.id, 3)
    assert {r.code: r.met for r in room.requirements}["sample_zone"] is False
    [event] = client.events("RoomNonCompliant")
    assert event["data"] == {"office_id": "MH01", "room_kind": "rapid_test", "room_name": "快检室",
                             "check_id": bad.id, "checked_on": "2026-11-13", "problems": bad.problems}
    assert client.readings()["facilities.rooms_compliant"] == (0, 10)

    # A check entered late (dated before the last one) is history; the room keeps the newer verdict.
    late = client.rooms.RecordRoomCheck(pb.RecordRoomCheckRequest(check=room_check(checked_on=TODAY)))
    assert late.compliant and rooms_of(client)["rapid_test"].last_check_id == bad.id
    absent = client.rooms.RecordRoomCheck(pb.RecordRoomCheckRequest(check=room_check(
        kind="activity", present=False, area=0)))
    assert absent.problems == ["活动室 is missing"]
    wanting = client.rooms.ListRooms(pb.ListRoomsRequest(filter="compliant = false", page_size=20))
    assert {"rapid_test", "activity"} <= {r.kind for r in wanting.rooms}


def test_bad_room_checks_are_refused_and_change_nothing(client):
    cases = [
        (room_check(kind="kitchen"), INVALID, "check.kind"),
        (room_check(area=-1), INVALID, "check.area_m2"),
        (room_check(area=float("nan")), INVALID, "check.area_m2"),
        (room_check(present=False, area=12), INVALID, "check.area_m2"),
        (room_check(met=["ventilation", "ventilation"]), INVALID, "check.requirements_met[1]"),
        (room_check(met=["swimming_pool"]), INVALID, "check.requirements_met[0]"),
        (room_check(checked_on=TODAY + dt.timedelta(days=1)), INVALID, "check.checked_on"),
        (room_check(photo_refs=["x"] * 21), INVALID, "check.photo_refs"),
        (room_check(photo_refs=[" "]), INVALID, "check.photo_refs[0]"),
        (pb.RoomCheck(office_id="MH01", kind="archive", checked_by=""), INVALID, "check.checked_by"),
        (pb.RoomCheck(office_id="MH01", kind="archive", checked_by="x",
                      checked_on=date_pb2.Date(year=2026, month=2, day=30)), INVALID, "check.checked_on"),
        (room_check(office_id="MH77"), NOT_FOUND, None),
    ]
    for check, code, field in cases:
        refused(client, lambda check=check: client.rooms.RecordRoomCheck(pb.RecordRoomCheckRequest(check=check)),
                code, field)
    for request, field in [(pb.ListRoomsRequest(filter="size = 3"), "filter"),
                           (pb.ListRoomsRequest(page_token="nope"), "page_token"),
                           (pb.ListRoomsRequest(page_size=-2), "page_size")]:
        assert field in expect_error(lambda request=request: client.rooms.ListRooms(request), INVALID)


def test_four_unified_counts_the_latest_check_of_each_aspect(client):
    for aspect in (pb.FOUR_UNIFIED_ASPECT_FUNCTION, pb.FOUR_UNIFIED_ASPECT_EQUIPMENT,
                   pb.FOUR_UNIFIED_ASPECT_DISCLOSURE, pb.FOUR_UNIFIED_ASPECT_SIGNAGE):
        client.rooms.RecordFourUnifiedCheck(pb.RecordFourUnifiedCheckRequest(check=pb.FourUnifiedCheck(
            office_id="MH01", aspect=aspect, passed=True, checked_by="区局检查组",
            checked_on=date(TODAY - dt.timedelta(days=10)))))
    assert client.readings()["facilities.four_unified"] == (4, 4)
    failed = client.rooms.RecordFourUnifiedCheck(pb.RecordFourUnifiedCheckRequest(check=pb.FourUnifiedCheck(
        office_id="MH01", aspect=pb.FOUR_UNIFIED_ASPECT_SIGNAGE, passed=False, findings="门头标识未更换",
        checked_by="区局检查组")))
    assert failed.checked_on == date(TODAY)
    assert client.readings()["facilities.four_unified"] == (3, 4)
    signage = client.rooms.ListFourUnifiedChecks(pb.ListFourUnifiedChecksRequest(filter="aspect = SIGNAGE"))
    assert sorted(c.passed for c in signage.checks) == [False, True]

    base = {"office_id": "MH01", "aspect": pb.FOUR_UNIFIED_ASPECT_SIGNAGE, "passed": True, "checked_by": "x"}
    for changes, code, field in [({"aspect": 0}, INVALID, "check.aspect"),
                                 ({"aspect": 9}, INVALID, "check.aspect"),
                                 ({"passed": False}, INVALID, "check.findings"),
                                 ({"checked_on": date(TODAY + dt.timedelta(days=2))}, INVALID, "check.checked_on"),
                                 ({"office_id": "MH77"}, NOT_FOUND, None)]:
        check = pb.FourUnifiedCheck(**{**base, **changes})
        refused(client, lambda check=check: client.rooms.RecordFourUnifiedCheck(
            pb.RecordFourUnifiedCheckRequest(check=check)), code, field)
    assert "filter" in expect_error(lambda: client.rooms.ListFourUnifiedChecks(
        pb.ListFourUnifiedChecksRequest(filter="aspect = PAINT")), INVALID)


# ---------------------------------------------------------------- equipment


def test_equipment_is_registered_calibrated_and_counted_against_the_configuration(client):
    reader = client.register("rapid_test_reader", serial="RTR-001", request_id="e1",
                             last_calibrated=dt.date(2026, 1, 31))
    assert reader.calibration_due == date(dt.date(2027, 1, 31)) and reader.in_calibration
    assert reader.category_name == "食品安全快速检测仪" and reader.status == pb.EQUIPMENT_STATUS_IN_SERVICE
    assert client.register("rapid_test_reader", serial="other", request_id="e1") == reader
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
    [event] = client.events("CalibrationDue")
    assert event["data"]["equipment_id"] == near.id and event["data"]["calibration_due"] == "2026-11-30"
    assert event["data"]["overdue"] is False

    client.clock.advance(days=21)  # past due: nothing new for the same due date, but the figure drops
    notify.run()
    assert len(client.events("CalibrationDue")) == 2  # the second device entered its notice period
    assert client.readings()["facilities.equipment_in_calibration"] == (1, 2)
    client.equipment.RecordCalibration(pb.RecordCalibrationRequest(
        equipment_id=near.id, calibrated_on=date(client.clock.today), certificate_no="JD-9",
        calibration_due=date(client.clock.today + dt.timedelta(days=10))))
    notify.run()
    notices = [e["data"] for e in client.events("CalibrationDue") if e["data"]["equipment_id"] == near.id]
    assert [n["calibration_due"] for n in notices] == ["2026-11-30", "2026-12-11"]


# ---------------------------------------------------------------- rapid tests


@pytest.fixture
def reader(client) -> str:
    return client.register("pesticide_reader").id


def test_results_follow_the_methods_threshold(client, reader):
    negative = client.record(reader, 49.9, request_id="t1")
    assert (negative.result, negative.state) == (pb.TEST_RESULT_NEGATIVE, pb.TEST_STATE_NEGATIVE)
    assert not negative.HasField("retest_deadline") and negative.unit == "%"
    assert client.record(reader, 80, request_id="t1") == negative
    positive = client.record(reader, 50.0, result=pb.TEST_RESULT_POSITIVE)
    assert positive.state == pb.TEST_STATE_POSITIVE_PENDING
    assert positive.retest_deadline.ToDatetime(dt.UTC) == START + dt.timedelta(hours=4)
    multi = client.register("rapid_test_reader").id
    at_limit = client.record(multi, 30.0, item="nitrite", method="colorimetric")  # positive only above 30 mg/kg
    assert at_limit.result == pb.TEST_RESULT_NEGATIVE and at_limit.item_name == "亚硝酸盐"
    above = client.record(multi, 30.5, item="nitrite", method="colorimetric")
    assert above.result == pb.TEST_RESULT_POSITIVE
    assert client.readings()["facilities.rapid_tests_per_week"] == (4, 35)
    client.clock.advance(days=7)
    assert client.readings()["facilities.rapid_tests_per_week"] == (4, 35)  # moved by the sweep only
    client.running.runtime.timers[0].run()
    assert client.readings()["facilities.rapid_tests_per_week"] == (0, 35)
    listed = client.tests.ListTests(pb.ListTestsRequest(filter='tested_on = "2026-11-10" AND state = POSITIVE_PENDING'))
    assert {t.id for t in listed.tests} == {positive.id, above.id}
    assert client.tests.GetTest(pb.GetTestRequest(id=positive.id)) == positive


def test_bad_tests_are_refused_and_change_nothing(client, reader):
    camera = client.register("body_camera").id
    stale = client.register("pesticide_reader", last_calibrated=TODAY - dt.timedelta(days=400),
                            due=TODAY - dt.timedelta(days=1)).id
    client.office("MH02", "七宝市场监督管理所")
    elsewhere = client.register("pesticide_reader", office_id="MH02").id
    retired = client.register("pesticide_reader").id
    client.equipment.SetEquipmentStatus(pb.SetEquipmentStatusRequest(id=retired, status=pb.EQUIPMENT_STATUS_RETIRED))
    cases = [
        (rapid_test_request(reader, 120), INVALID, "reading"),
        (rapid_test_request(reader, -0.5), INVALID, "reading"),
        (rapid_test_request(reader, float("inf")), INVALID, "reading"),
        (rapid_test_request(reader, 70, result=pb.TEST_RESULT_NEGATIVE), INVALID, "result"),
        (rapid_test_request(reader, item="melamine"), INVALID, "item"),
        (rapid_test_request(reader, method="hplc"), INVALID, "method"),
        (rapid_test_request(reader, vendor_uscc="91350100M000100Y44"), INVALID, "sample.vendor_uscc"),
        (rapid_test_request(reader, vendor_uscc="91350100M000100Y4"), INVALID, "sample.vendor_uscc"),
        (rapid_test_request(reader, name=""), INVALID, "sample.name"),
        (rapid_test_request(reader, vendor_name=""), INVALID, "sample.vendor_name"),
        (rapid_test_request(reader, origin=0), INVALID, "origin"),
        (rapid_test_request(reader, tested_at=START + dt.timedelta(hours=1)), INVALID, "tested_at"),
        (rapid_test_request(reader, tested_at=START - dt.timedelta(days=32)), INVALID, "tested_at"),
        (rapid_test_request(camera), INVALID, "equipment_id"),
        (rapid_test_request(stale), PRECONDITION, "equipment_id"),
        (rapid_test_request(elsewhere), PRECONDITION, "equipment_id"),
        (rapid_test_request(retired), PRECONDITION, "equipment_id"),
        (rapid_test_request("no-such-device"), NOT_FOUND, None),
        (rapid_test_request(reader, office_id="MH77"), NOT_FOUND, None),
    ]
    for request, code, field in cases:
        refused(client, lambda request=request: client.tests.RecordTest(request), code, field)
    assert "out of calibration" in expect_error(lambda: client.tests.RecordTest(rapid_test_request(stale)),
                                                PRECONDITION)["equipment_id"]
    due_today = client.register("pesticide_reader", last_calibrated=TODAY - dt.timedelta(days=365), due=TODAY).id
    assert client.record(due_today).state == pb.TEST_STATE_NEGATIVE  # usable on its due date, not after
    for request, field in [(pb.ListTestsRequest(filter='tested_on = "2026-13-01"'), "filter"),
                           (pb.ListTestsRequest(filter="state = LOST"), "filter")]:
        assert field in expect_error(lambda request=request: client.tests.ListTests(request), INVALID)
    expect_error(lambda: client.tests.GetTest(pb.GetTestRequest(id="nope")), NOT_FOUND)


def test_a_retest_is_possible_within_the_window_only(client, reader):
    early = client.record(reader, 66)
    client.clock.advance(hours=3, minutes=59)
    assert "retest_method" in expect_error(lambda: client.tests.RequestRetest(pb.RequestRetestRequest(
        test_id=early.id, retest_method="enzyme_inhibition")), INVALID)
    requested = client.tests.RequestRetest(pb.RequestRetestRequest(test_id=early.id,
                                                                   retest_method="GB 23200.113-2018"))
    assert requested.state == pb.TEST_STATE_RETEST_REQUESTED and requested.retest_method == "GB 23200.113-2018"
    expect_error(lambda: client.tests.RequestRetest(pb.RequestRetestRequest(
        test_id=early.id, retest_method="GB 23200.113-2018")), PRECONDITION)
    assert "retest_result" in expect_error(lambda: client.tests.ConfirmResult(pb.ConfirmResultRequest(
        test_id=early.id)), INVALID)
    assert "kg_destroyed" in expect_error(lambda: client.tests.ConfirmResult(pb.ConfirmResultRequest(
        test_id=early.id, retest_result=pb.TEST_RESULT_NEGATIVE, kg_destroyed=2)), INVALID)
    cleared = client.tests.ConfirmResult(pb.ConfirmResultRequest(test_id=early.id,
                                                                 retest_result=pb.TEST_RESULT_NEGATIVE))
    assert cleared.state == pb.TEST_STATE_CLEARED_ON_RETEST and client.events("RapidTestPositive") == []

    late = client.record(reader, 70)
    client.clock.advance(hours=4, seconds=1)
    before = client.counts()
    expect_error(lambda: client.tests.RequestRetest(pb.RequestRetestRequest(
        test_id=late.id, retest_method="GB 23200.113-2018")), PRECONDITION)
    assert client.tests.GetTest(pb.GetTestRequest(id=late.id)).state == pb.TEST_STATE_POSITIVE_PENDING
    assert client.counts() == before
    negative = client.record(reader, 10)
    expect_error(lambda: client.tests.RequestRetest(pb.RequestRetestRequest(
        test_id=negative.id, retest_method="GB 23200.113-2018")), PRECONDITION)
    expect_error(lambda: client.tests.ConfirmResult(pb.ConfirmResultRequest(test_id=negative.id)), PRECONDITION)
    expect_error(lambda: client.tests.RequestRetest(pb.RequestRetestRequest(test_id="nope", retest_method="x")),
                 NOT_FOUND)


def test_a_confirmed_positive_publishes_rapid_test_positive(client, reader):
    tested_at = START - dt.timedelta(hours=1)
    positive = client.record(reader, 72.5, tested_at=tested_at, name="韭菜", vendor_name="李记蔬菜", stall="07号")
    assert "retest_result" in expect_error(lambda: client.tests.ConfirmResult(pb.ConfirmResultRequest(
        test_id=positive.id, retest_result=pb.TEST_RESULT_POSITIVE)), INVALID)
    expect_error(lambda: client.tests.ConfirmResult(pb.ConfirmResultRequest(test_id=positive.id)), PRECONDITION)
    assert "kg_destroyed" in expect_error(lambda: client.tests.ConfirmResult(pb.ConfirmResultRequest(
        test_id=positive.id, retest_waived=True, kg_destroyed=-1)), INVALID)
    assert client.events("RapidTestPositive") == []
    confirmed = client.tests.ConfirmResult(pb.ConfirmResultRequest(test_id=positive.id, retest_waived=True,
                                                                   kg_destroyed=3.2))
    assert confirmed.state == pb.TEST_STATE_CONFIRMED_POSITIVE and confirmed.kg_destroyed == 3.2
    [event] = client.events("RapidTestPositive")
    assert event["source"] == "facilities" and event["office_id"] == "MH01"
    assert event["aggregate_id"] == positive.id and event["aggregate_version"] == 2
    assert event["data"] == {
        "test_id": positive.id, "office_id": "MH01",
        "sample": {"name": "韭菜", "vendor_name": "李记蔬菜", "vendor_uscc": "91350100M000100Y43",
                   "market": "莘庄农贸市场", "stall": "07号"},
        "item": "pesticide_residue", "method": "enzyme_inhibition", "reading": 72.5, "unit": "%",
        "tested_at": "2026-11-10T01:00:00Z"}
    assert client.readings()["facilities.positive_followed_up"] == (1, 1)
    expect_error(lambda: client.tests.ConfirmResult(pb.ConfirmResultRequest(test_id=positive.id,
                                                                            retest_waived=True)), PRECONDITION)


def test_closed_windows_are_published_once_and_count_as_due_for_follow_up(client, reader):
    expire = client.running.runtime.timers[1]
    assert expire.name == "expire_retest_windows"
    positive = client.record(reader, 90)
    expire.run()
    assert client.events("RetestWindowExpired") == []
    assert client.readings()["facilities.positive_followed_up"] == (0, 0)
    client.clock.advance(hours=5)
    expire.run()
    expire.run()
    [event] = client.events("RetestWindowExpired")
    assert event["data"] == {"test_id": positive.id, "office_id": "MH01", "item": "pesticide_residue",
                             "retest_deadline": "2026-11-10T06:00:00Z"}
    assert client.readings()["facilities.positive_followed_up"] == (0, 1)
    client.tests.ConfirmResult(pb.ConfirmResultRequest(test_id=positive.id, kg_destroyed=1.5))
    assert client.readings()["facilities.positive_followed_up"] == (1, 1)


def test_monthly_report_and_daily_notice(client, reader):
    client.office("MH02", "七宝市场监督管理所")
    other = client.register("pesticide_reader", office_id="MH02").id
    october = dt.datetime(2026, 10, 31, 23, 30, tzinfo=SHANGHAI)  # 15:30 UTC: October in Shanghai
    client.record(reader, 5, tested_at=october)
    for hours_ago, value in [(50, 10), (30, 20), (6, 61), (5, 75), (1, 3)]:
        client.record(reader, value, tested_at=START - dt.timedelta(hours=hours_ago))
    client.record(other, 4, office_id="MH02")
    pending = client.tests.ListTests(pb.ListTestsRequest(filter="state = POSITIVE_PENDING")).tests
    confirmed = next(test for test in pending if test.reading == 61)
    client.tests.ConfirmResult(pb.ConfirmResultRequest(test_id=confirmed.id, kg_destroyed=2.5))
    report = client.tests.MonthlyReport(pb.MonthlyReportRequest(year=2026, month=11))
    rooms = {r.office_id: r for r in report.rooms}
    mh01 = rooms["MH01"]
    assert (mh01.batches, mh01.passed, mh01.failed, mh01.pending, mh01.kg_destroyed) == (5, 3, 1, 1, 2.5)
    assert mh01.pass_rate == pytest.approx(0.6)
    assert (report.total.batches, report.total.passed, report.total.office_id) == (6, 4, "")
    assert client.tests.MonthlyReport(pb.MonthlyReportRequest(office_id="MH01", year=2026, month=10)).total.batches == 1
    single = client.tests.MonthlyReport(pb.MonthlyReportRequest(office_id="MH02", year=2026, month=11))
    assert [r.office_id for r in single.rooms] == ["MH02"] and single.total.pass_rate == 1.0
    for request, field in [(pb.MonthlyReportRequest(year=2026, month=13), "month"),
                           (pb.MonthlyReportRequest(year=2026, month=12), "month"),
                           (pb.MonthlyReportRequest(year=1999, month=5), "year")]:
        assert field in expect_error(lambda request=request: client.tests.MonthlyReport(request), INVALID)
    expect_error(lambda: client.tests.MonthlyReport(pb.MonthlyReportRequest(office_id="MH77", year=2026, month=11)),
                 NOT_FOUND)

    notice = client.tests.GetDailyNotice(pb.GetDailyNoticeRequest(office_id="MH01"))
    assert notice.day == date(TODAY) and (notice.batches, notice.passed, notice.positive) == (3, 1, 2)
    assert [line.state for line in notice.lines] == [pb.TEST_STATE_CONFIRMED_POSITIVE, pb.TEST_STATE_POSITIVE_PENDING,
                                                     pb.TEST_STATE_NEGATIVE]
    assert notice.lines[0].item_name.startswith("农药残留") and notice.lines[0].market == "莘庄农贸市场"
    assert "day" in expect_error(lambda: client.tests.GetDailyNotice(pb.GetDailyNoticeRequest(
        office_id="MH01", day=date(TODAY + dt.timedelta(days=1)))), INVALID)
    expect_error(lambda: client.tests.GetDailyNotice(pb.GetDailyNoticeRequest(office_id="MH77")), NOT_FOUND)


# ---------------------------------------------------------------- custody


@pytest.fixture
def officers(client) -> list[str]:
    for officer_id in ("MH01-01", "MH01-02", "MH01-03"):
        client.officer(officer_id)
    return ["MH01-01", "MH01-02"]


def check_in(client, signed_by, case_id="MH01-AJ-2026-001", request_id="", **changes) -> pb.CustodyItem:
    fields = {"office_id": "MH01", "case_id": case_id, "description": "假冒注册商标白酒", "quantity": 36,
              "unit": "瓶", "location": "罚没物品库 A-01", "signed_by": signed_by}
    fields.update(changes)
    return client.custody.CheckIn(pb.CheckInRequest(request_id=request_id, **fields))


def test_custody_steps_are_signed_by_two_officers_and_chained(client, officers):
    item = check_in(client, officers, request_id="in-1", note="随案移交")
    assert item.state == pb.CUSTODY_STATE_IN_STORE and item.trail_length == 1
    assert check_in(client, officers, request_id="in-1") == item
    moved = client.custody.Move(pb.MoveRequest(item_id=item.id, to_location="罚没物品库 B-03",
                                                signed_by=["MH01-03", "MH01-01"]))
    assert moved.location == "罚没物品库 B-03" and moved.trail_length == 2
    expect_error(lambda: client.custody.Dispose(pb.DisposeRequest(
        item_id=item.id, method=pb.DISPOSAL_METHOD_DESTROYED, signed_by=officers)), PRECONDITION)  # unknown case
    client.case("MH01-AJ-2026-001", "CaseFiled", 1)
    expect_error(lambda: client.custody.Dispose(pb.DisposeRequest(
        item_id=item.id, method=pb.DISPOSAL_METHOD_DESTROYED, signed_by=officers)), PRECONDITION)
    client.case("MH01-AJ-2026-001", "CaseClosed", 4)
    client.case("MH01-AJ-2026-001", "CaseFiled", 1)  # redelivered late: older than the closing
    disposed = client.custody.Dispose(pb.DisposeRequest(item_id=item.id, method=pb.DISPOSAL_METHOD_DESTROYED,
                                                        signed_by=officers, note="监督销毁"))
    assert disposed.state == pb.CUSTODY_STATE_DISPOSED and disposed.disposal_method == pb.DISPOSAL_METHOD_DESTROYED
    expect_error(lambda: client.custody.Move(pb.MoveRequest(item_id=item.id, to_location="门卫室",
                                                            signed_by=officers)), PRECONDITION)

    full = client.custody.GetCustodyItem(pb.GetCustodyItemRequest(id=item.id))
    assert [(r.sequence, r.step) for r in full.trail] == [
        (1, pb.CUSTODY_STEP_CHECK_IN), (2, pb.CUSTODY_STEP_MOVE), (3, pb.CUSTODY_STEP_DISPOSAL)]
    assert list(full.trail[1].signed_by) == ["MH01-03", "MH01-01"] and full.trail[0].note == "随案移交"
    assert full.trail[0].previous_hash == "0" * 64 and full.trail[1].previous_hash == full.trail[0].hash
    assert full.trail_head == full.trail[2].hash and full.trail[2].record_time.ToDatetime(dt.UTC) == START
    changed = client.events("CustodyChanged")
    assert [e["data"]["step"] for e in changed] == ["CHECK_IN", "MOVE", "DISPOSAL"]
    assert changed[-1]["data"]["hash"] == full.trail_head and changed[-1]["data"]["state"] == "DISPOSED"
    verified = client.custody.VerifyCustody(pb.VerifyCustodyRequest(item_id=item.id))
    assert verified.intact and verified.records_checked == 3
    in_store = client.custody.ListCustodyItems(pb.ListCustodyItemsRequest(filter="state = IN_STORE"))
    assert list(in_store.items) == []


def test_bad_custody_steps_are_refused_and_change_nothing(client, officers):
    client.office("MH02", "七宝市场监督管理所")
    client.officer("MH02-01", office_id="MH02")
    client.officer("MH01-04", expires=TODAY - dt.timedelta(days=1))
    for signed_by, code, field in [
        (["MH01-01"], INVALID, "signed_by"),
        (["MH01-01", "MH01-01"], INVALID, "signed_by[1]"),
        ([], INVALID, "signed_by"),
        (["MH01-01", "MH01-99"], INVALID, "signed_by[1]"),
        (["MH02-01", "MH01-01"], INVALID, "signed_by[0]"),
        (["MH01-01", "MH01-04"], PRECONDITION, "signed_by[1]"),
    ]:
        refused(client, lambda signed_by=signed_by: check_in(client, signed_by), code, field)
    for changes, field in [({"quantity": 0}, "quantity"), ({"description": ""}, "description"),
                           ({"case_id": "bad case"}, "case_id"), ({"unit": ""}, "unit"),
                           ({"location": ""}, "location")]:
        refused(client, lambda changes=changes: check_in(client, officers, **changes), INVALID, field)
    refused(client, lambda: check_in(client, officers, office_id="MH77"), NOT_FOUND, None)

    item = check_in(client, officers)
    client.officer("MH01-02", expires=TODAY - dt.timedelta(days=3), version=2, event_type="OfficerUpdated")
    refused(client, lambda: client.custody.Move(pb.MoveRequest(item_id=item.id, to_location="B-01",
                                                               signed_by=officers)), PRECONDITION, "signed_by[1]")
    refused(client, lambda: client.custody.Move(pb.MoveRequest(item_id=item.id, to_location="罚没物品库 A-01",
                                                               signed_by=["MH01-01", "MH01-03"])),
            INVALID, "to_location")
    refused(client, lambda: client.custody.Dispose(pb.DisposeRequest(item_id=item.id, signed_by=["MH01-01"])),
            INVALID, "method")
    refused(client, lambda: client.custody.Move(pb.MoveRequest(item_id="nope", to_location="B-01",
                                                               signed_by=["MH01-01", "MH01-03"])), NOT_FOUND, None)
    expect_error(lambda: client.custody.VerifyCustody(pb.VerifyCustodyRequest(item_id="nope")), NOT_FOUND)
    expect_error(lambda: client.custody.GetCustodyItem(pb.GetCustodyItemRequest(id="nope")), NOT_FOUND)
    assert "filter" in expect_error(lambda: client.custody.ListCustodyItems(
        pb.ListCustodyItemsRequest(filter="state = LOST")), INVALID)


def test_verify_custody_names_a_tampered_record(client, officers):
    items = [check_in(client, officers) for _ in range(3)]
    for item in items:
        for location in ("B-01", "C-02"):
            client.custody.Move(pb.MoveRequest(item_id=item.id, to_location=location, signed_by=officers))
    altered, cut, renumbered = (item.id for item in items)
    with client.running.store.transaction() as session:  # straight to the table, as a tamperer would
        record = session.scalar(select(CustodyRecord.record).where(CustodyRecord.chain_key == altered,
                                                                   CustodyRecord.sequence == 2))
        session.execute(update(CustodyRecord).where(CustodyRecord.chain_key == altered, CustodyRecord.sequence == 2)
                        .values(record=record.replace("B-01", "门卫室")))
        session.execute(delete(CustodyRecord).where(CustodyRecord.chain_key == cut, CustodyRecord.sequence == 3))
        session.execute(update(CustodyRecord).where(CustodyRecord.chain_key == renumbered,
                                                    CustodyRecord.sequence == 1).values(sequence=9))
    results = {item_id: client.custody.VerifyCustody(pb.VerifyCustodyRequest(item_id=item_id))
               for item_id in (altered, cut, renumbered)}
    assert (results[altered].intact, results[altered].broken_sequence, results[altered].problem) == (
        False, 2, pb.TRAIL_PROBLEM_CONTENT)
    assert results[altered].records_checked == 1 and "record 2" in results[altered].detail
    assert (results[cut].broken_sequence, results[cut].problem) == (3, pb.TRAIL_PROBLEM_TRUNCATED)
    assert (results[renumbered].broken_sequence, results[renumbered].problem) == (2, pb.TRAIL_PROBLEM_SEQUENCE)
    untouched = check_in(client, officers)
    assert client.custody.VerifyCustody(pb.VerifyCustodyRequest(item_id=untouched.id)).intact


# ---------------------------------------------------------------- office scoping


def test_office_users_see_and_change_their_own_office_only(tmp_path):
    secret = "test-secret-of-at-least-32-bytes!!"
    running = host_facilities(f"sqlite:///{tmp_path / 'facilities.db'}", InstantClock(), AUTH_MODE="jwt",
                              JWT_SECRET=secret)
    try:
        client = FacilitiesClient(running)

        def as_(roles, office_id=""):
            return (("authorization", f"Bearer {issue_token(secret, subject='u1', roles=roles, office_id=office_id)}"),)

        leader, mh02, auditor = as_(["bureau_leader"]), as_(["officer"], "MH02"), as_(["auditor"])
        for office_id in ("MH01", "MH02"):
            client.office(office_id, f"{office_id}所")
        vehicles = {office_id: client.equipment.RegisterEquipment(pb.RegisterEquipmentRequest(
            equipment=pb.Equipment(office_id=office_id, category="vehicle", model="EV", serial_no=f"V-{office_id}")),
            metadata=leader).id for office_id in ("MH01", "MH02")}
        mine = client.rooms.ListRooms(pb.ListRoomsRequest(page_size=100), metadata=mh02).rooms
        assert {room.office_id for room in mine} == {"MH02"} and len(mine) == 10
        listed = client.equipment.ListEquipment(pb.ListEquipmentRequest(), metadata=mh02).equipment
        assert [e.office_id for e in listed] == ["MH02"]
        report = client.tests.MonthlyReport(pb.MonthlyReportRequest(year=2026, month=11), metadata=mh02)
        assert [r.office_id for r in report.rooms] == ["MH02"]
        denied = grpc.StatusCode.PERMISSION_DENIED
        expect_error(lambda: client.equipment.GetEquipment(pb.GetEquipmentRequest(id=vehicles["MH01"]),
                                                           metadata=mh02), denied)
        expect_error(lambda: client.rooms.ListRooms(pb.ListRoomsRequest(filter='office_id = "MH01"'),
                                                    metadata=mh02), denied)
        expect_error(lambda: client.rooms.RecordRoomCheck(pb.RecordRoomCheckRequest(check=room_check()),
                                                          metadata=mh02), denied)
        expect_error(lambda: client.rooms.RecordRoomCheck(pb.RecordRoomCheckRequest(check=room_check()),
                                                          metadata=auditor), denied)
        assert len(client.rooms.ListRooms(pb.ListRoomsRequest(page_size=100), metadata=auditor).rooms) == 20
        expect_error(lambda: client.rooms.ListRooms(pb.ListRoomsRequest()), grpc.StatusCode.UNAUTHENTICATED)
    finally:
        running.close()
