"""facilities through a real gRPC server: the standard rooms, room checks and four-unified checks."""

from __future__ import annotations

import datetime as dt

from google.type import date_pb2

from services.facilities.models import Office
from supervision.command_center.v1 import events_pb2 as cc_events
from supervision.facilities.v1 import events_pb2
from supervision.facilities.v1 import facilities_pb2 as pb
from tests.api.facilities.support import (
    ALL_MET,
    INVALID,
    NOT_FOUND,
    TODAY,
    date,
    expect_error,
    refused,
    room_check,
)


def rooms_of(client, office_id="MH01") -> dict[str, pb.Room]:
    listed = client.rooms.ListRooms(pb.ListRoomsRequest(filter=f'office_id = "{office_id}"'))
    return {room.kind: room for room in listed.rooms}


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
    client.rename_office("MH01", "莘庄所")
    [renamed] = client.published("command_center", cc_events.OfficeUpdated)
    client.deliver(renamed)  # a redelivery is absorbed by the inbox
    assert len(rooms_of(client)) == 10
    with client.running.store.read() as session:
        assert session.get(Office, "MH01").name == "莘庄所"

    # An older event never overrides a newer one: the later rename overtakes the earlier one.
    client.rename_office("MH01", "旧名", deliver=False)
    client.rename_office("MH01", "莘庄镇所", deliver=False)
    client.deliver(client.published("command_center", cc_events.OfficeUpdated)[-1])
    client.settle()
    with client.running.store.read() as session:
        assert session.get(Office, "MH01").name == "莘庄镇所"


def test_room_checks_judge_against_the_standard_and_report_non_compliance(client):
    good = client.rooms.RecordRoomCheck(pb.RecordRoomCheckRequest(request_id="c1", check=room_check()))
    assert good.compliant and good.problems == [] and good.checked_on == date(TODAY)
    again = client.rooms.RecordRoomCheck(pb.RecordRoomCheckRequest(request_id="c1", check=room_check()))
    assert again == good  # the retry returns the first result
    assert client.readings()["facilities.rooms_compliant"] == (1, 10)
    assert client.events(events_pb2.RoomNonCompliant) == []

    client.clock.advance(days=3)
    bad = client.rooms.RecordRoomCheck(pb.RecordRoomCheckRequest(check=room_check(
        area=18, met=["ventilation", "water_supply", "result_board"], findings="样品区被占用",
        photo_refs=["photos/r1.jpg"])))
    assert not bad.compliant
    assert bad.problems == ["area 18 m² is below the standard's 20 m²", "not met: 样品接收与留样区"]
    room = rooms_of(client)["rapid_test"]
    assert (room.compliant, room.last_check_id, room.version) == (False, bad.id, 3)
    assert {r.code: r.met for r in room.requirements}["sample_zone"] is False
    [event] = client.events(events_pb2.RoomNonCompliant)
    assert (event.aggregate_id, event.aggregate_version, event.office_id) == ("MH01/rapid_test", 3, "MH01")
    assert event.message == events_pb2.RoomNonCompliant(
        room_key="MH01/rapid_test", version=3, office_id="MH01", room_kind="rapid_test", room_name="快检室",
        check_id=bad.id, checked_on=date(dt.date(2026, 11, 13)), problems=bad.problems)
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
