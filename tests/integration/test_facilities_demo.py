"""The demo district's facilities as `make run` loads them: command_center's demo first, its
offices and officers delivered to facilities as events, then facilities' own demo, once."""

from __future__ import annotations

from sqlalchemy import select

from services.common import hash_chain
from services.common.contracts import type_name
from services.facilities.models import CustodyRecord, Outbox
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc
from supervision.facilities.v1 import events_pb2
from supervision.facilities.v1 import facilities_pb2 as pb
from supervision.facilities.v1 import facilities_pb2_grpc as pb_grpc


def test_the_demo_fills_every_office(demo_district):
    facilities = demo_district.services["facilities"]
    channel = demo_district.channels["facilities"]
    rooms = pb_grpc.RoomServiceStub(channel).ListRooms(pb.ListRoomsRequest(page_size=1000)).rooms
    assert len(rooms) == 14 * 10 and 0 < sum(not r.compliant for r in rooms) < 20
    tests = pb_grpc.RapidTestServiceStub(channel).ListTests(pb.ListTestsRequest(page_size=1000)).tests
    by_office: dict[str, list] = {}
    for test in tests:
        by_office.setdefault(test.office_id, []).append(test)
    assert len(by_office) == 14 and min(len(t) for t in by_office.values()) >= 24
    positives = [t for t in tests if t.result == pb.TEST_RESULT_POSITIVE]
    assert 0.005 <= len(positives) / len(tests) <= 0.02
    assert {t.state for t in positives} == {pb.TEST_STATE_CONFIRMED_POSITIVE, pb.TEST_STATE_POSITIVE_PENDING,
                                            pb.TEST_STATE_RETEST_REQUESTED}
    equipment = pb_grpc.EquipmentServiceStub(channel).ListEquipment(pb.ListEquipmentRequest(
        page_size=1000, filter="in_calibration = false")).equipment
    assert equipment, "some calibrations have lapsed in the demo"
    items = pb_grpc.CustodyServiceStub(channel).ListCustodyItems(pb.ListCustodyItemsRequest(page_size=100)).items
    assert len(items) == 28
    readings = indicators_pb2_grpc.IndicatorSourceStub(channel).ListIndicators(
        indicators_pb2.ListIndicatorsRequest()).indicators
    assert len(readings) == 14 * 5
    assert any(r.key == "facilities.equipment_in_calibration" and r.value < 1 for r in readings)
    store = facilities.runtime.store
    with store.read() as session:
        published = {row.event_type for row in session.scalars(select(Outbox))}
        assert {type_name(message) for message in (events_pb2.RoomNonCompliant, events_pb2.CalibrationDue,
                                                   events_pb2.RapidTestPositive, events_pb2.RetestWindowExpired,
                                                   events_pb2.CustodyChanged)} <= published
        assert all(hash_chain.verify(session, CustodyRecord, item.id, facilities.runtime.trail_keys,
                                     expected_head=item.trail_head).intact for item in items)
