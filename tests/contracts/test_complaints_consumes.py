"""complaints consumes command_center's office events: each produced by command_center's own gRPC
API, relayed through its outbox, applied by complaints' consumer; the effect read through
complaints' API and store. The last test feeds the captured pre-contract form of the same events."""

from __future__ import annotations

from google.protobuf.field_mask_pb2 import FieldMask
from sqlalchemy import select

from services.common import contracts
from services.complaints.models import DeadLetter, Inbox, Office
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.command_center.v1 import events_pb2 as cc_events
from tests.api.complaints.support import ComplaintsClient
from tests.contracts import pre_contract

QUEUE = "_district_queue"


def applied(complaints: ComplaintsClient) -> list[str]:
    """The event types complaints' consumer applied, oldest first; fails if any was parked."""
    with complaints.running.store.read() as session:
        parked = session.execute(select(DeadLetter.event_type, DeadLetter.reason, DeadLetter.error)).all()
        assert parked == [], parked
        return list(session.scalars(select(Inbox.event_type).where(Inbox.source == "command_center")
                                    .order_by(Inbox.applied_at)))


def office(complaints: ComplaintsClient, office_id: str) -> tuple[str, int] | None:
    with complaints.running.store.read() as session:
        row = session.get(Office, office_id)
        return (row.name, row.version) if row else None


def test_an_office_registered_in_command_center_routes_the_complaints_on_its_streets(center):
    hosted = center("command_center", "complaints")
    offices = cc_grpc.OfficeServiceStub(hosted["command_center"].channel)
    complaints = ComplaintsClient(hosted["complaints"])
    assert complaints.create(street="颛桥镇").office_id == QUEUE  # nobody covers it yet

    offices.CreateOffice(cc_pb.CreateOfficeRequest(request_id="reg-mh05", office=cc_pb.Office(
        id="MH05", name="颛桥市场监督管理所", district="闵行区", streets=["颛桥镇", "北桥"])))
    hosted.settle()

    assert applied(complaints) == [contracts.type_name(cc_events.OfficeRegistered)]
    assert office(complaints, "MH05") == ("颛桥市场监督管理所", 1)
    assert complaints.create(street="颛桥镇").office_id == "MH05"
    assert complaints.create(street="", address="上海市闵行区北桥某路8号").office_id == "MH05"
    assert complaints.create(street="七宝镇").office_id == QUEUE


def test_an_office_update_adding_a_street_routes_it_and_moves_the_complaints_waiting_for_it(center):
    hosted = center("command_center", "complaints")
    offices = cc_grpc.OfficeServiceStub(hosted["command_center"].channel)
    complaints = ComplaintsClient(hosted["complaints"])
    offices.CreateOffice(cc_pb.CreateOfficeRequest(request_id="reg-mh01", office=cc_pb.Office(
        id="MH01", name="莘庄市场监督管理所", district="闵行区", streets=["莘庄镇"])))
    hosted.settle()
    waiting = complaints.create(street="春申", address="闵行区春申路1号")
    elsewhere = complaints.create(street="外滩街道", address="黄浦区中山东一路1号")
    assert (waiting.office_id, elsewhere.office_id) == (QUEUE, QUEUE)

    offices.UpdateOffice(cc_pb.UpdateOfficeRequest(office=cc_pb.Office(id="MH01", streets=["莘庄镇", "春申"]),
                                                   update_mask=FieldMask(paths=["streets"])))
    hosted.settle()

    assert applied(complaints) == [contracts.type_name(m) for m in (cc_events.OfficeRegistered,
                                                                   cc_events.OfficeUpdated)]
    assert office(complaints, "MH01") == ("莘庄市场监督管理所", 2)
    assert complaints.create(street="春申").office_id == "MH01"
    moved = complaints.get(waiting.id)
    assert moved.office_id == "MH01" and [h.action for h in moved.history] == ["received", "routed"]
    assert moved.acceptance_due == waiting.acceptance_due  # the clock keeps running, nothing restarts
    assert complaints.get(elsewhere.id).office_id == QUEUE


def test_office_events_written_before_the_contracts_still_route_and_move_the_waiting_complaints(center):
    hosted = center("complaints")
    complaints = ComplaintsClient(hosted["complaints"])
    waiting = complaints.create(street="春申")
    # As they may still sit in command_center's outbox or a queue after the upgrade (captured data).
    complaints.running.bus.publish(pre_contract.envelope("command_center", "OfficeRegistered", version=1))
    complaints.running.bus.publish(pre_contract.envelope("command_center", "OfficeUpdated", version=2))

    assert applied(complaints) == ["OfficeRegistered", "OfficeUpdated"]
    assert office(complaints, "MH01") == ("莘庄所", 2)
    assert complaints.create(street="莘庄镇").office_id == "MH01"
    assert complaints.get(waiting.id).office_id == "MH01"
