"""facilities through a real gRPC server: office users see and change their own office only."""

from __future__ import annotations

import grpc

from services.common.auth import issue_token
from supervision.facilities.v1 import facilities_pb2 as pb
from tests.api.facilities.support import (
    FacilitiesClient,
    InstantClock,
    expect_error,
    host_facilities,
    room_check,
)


def test_office_users_see_and_change_their_own_office_only(tmp_path):
    secret = "test-secret-of-at-least-32-bytes!!"
    running = host_facilities(f"sqlite:///{tmp_path / 'facilities.db'}", InstantClock(), AUTH_MODE="jwt",
                              JWT_SECRET=secret)
    client = None
    try:
        client = FacilitiesClient(running, tmp_path)

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
        # The auditor role in the same token reads the district but widens no write scope.
        mixed = as_(["officer", "auditor"], "MH02")
        before = client.equipment.GetEquipment(pb.GetEquipmentRequest(id=vehicles["MH01"]), metadata=mixed)
        expect_error(lambda: client.rooms.RecordRoomCheck(pb.RecordRoomCheckRequest(check=room_check()),
                                                          metadata=mixed), denied)
        expect_error(lambda: client.equipment.RegisterEquipment(pb.RegisterEquipmentRequest(equipment=pb.Equipment(
            office_id="MH01", category="vehicle", model="EV", serial_no="V-mixed")), metadata=mixed), denied)
        expect_error(lambda: client.equipment.SetEquipmentStatus(pb.SetEquipmentStatusRequest(
            id=vehicles["MH01"], status=pb.EQUIPMENT_STATUS_RETIRED), metadata=mixed), denied)
        assert client.equipment.GetEquipment(pb.GetEquipmentRequest(id=vehicles["MH01"]), metadata=leader) == before
        expect_error(lambda: client.rooms.ListRooms(pb.ListRoomsRequest()), grpc.StatusCode.UNAUTHENTICATED)
    finally:
        if client is not None:
            client.close()
        else:
            running.close()
