"""mobile_enforcement through a real gRPC server: command_center's events, made by its own use cases,
arriving through the in-process bus late, out of order or broken. (Reports and rapid-test
positives, published by complaints and facilities, are in tests/contracts.)"""

from __future__ import annotations

import grpc
from sqlalchemy import select

from services.command_center.domain.offices import OfficeInput
from services.common.context import SYSTEM_CALLER
from services.mobile_enforcement.models import DeadLetter
from supervision.command_center.v1 import events_pb2 as cc_events
from supervision.mobile_enforcement.v1 import events_pb2 as events
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement.support import expect_error, uscc


def office_of(client, number: int) -> str:
    return client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(number))).office_id


def test_a_street_moving_to_another_office_takes_its_businesses_and_their_count(client):
    client.entity(1)
    client.entity(2, street="七宝镇")
    assert (client.readings("MH01")["entities_supervised"], client.readings("MH02")["entities_supervised"]) == (
        (1, 1), (1, 1))
    client.office("MH01", ["莘庄工业区"])  # released first: command_center refuses a street still covered
    assert office_of(client, 1) == "MH01"  # nobody else supervises it yet
    expect_error(lambda: client.entity(3), grpc.StatusCode.FAILED_PRECONDITION)
    client.office("MH02", ["七宝镇", "莘庄镇"])
    assert (office_of(client, 1), office_of(client, 2), client.entity(3).office_id) == ("MH02", "MH02", "MH02")
    assert (client.readings("MH01")["entities_supervised"], client.readings("MH02")["entities_supervised"]) == (
        (0, 1), (3, 1))
    # Registering is what publishes an entity; a street moving is command_center's event, not the entity's.
    assert [e.message.uscc for e in client.events(events.EntityRegistered)] == [uscc(1), uscc(2), uscc(3)]
    assert client.events(events.EntityUpdated) == []


def test_an_office_update_overtaken_by_its_older_registration_is_kept(client):
    center = client.command_center
    center.offices.create_office(SYSTEM_CALLER, "", OfficeInput("MH03", "颛桥所", "闵行区", ["颛桥镇"]))
    center.offices.update_office(SYSTEM_CALLER, OfficeInput("MH03", "", "", ["颛桥镇", "吴泾镇"]), ["streets"], 0)
    [registered] = [w for w in center.published(cc_events.OfficeRegistered) if w["aggregate_id"] == "MH03"]
    [updated] = center.published(cc_events.OfficeUpdated)
    client.running.bus.publish(updated)
    client.running.bus.publish(registered)  # version 1 after version 2: ignored
    center.deliver()  # the relay's own deliveries later: duplicates, ignored
    assert client.entity(1, street="吴泾镇").office_id == "MH03"
    assert client.counts()["dead_letters"] == 0


def test_an_event_that_does_not_decode_is_parked_and_changes_nothing(client):
    client.entity(1)
    client.office("MH01", ["莘庄镇", "莘庄工业区"])
    [wire] = client.command_center.published(cc_events.OfficeUpdated)
    before = client.counts()
    broken = {**wire, "id": "broken-1", "aggregate_version": wire["aggregate_version"] + 1,
              "data": {**wire["data"], "streets": "莘庄镇"}}  # one text where a list belongs
    client.running.bus.publish(broken)
    assert client.counts() == {**before, "dead_letters": 1}
    with client.running.store.read() as session:
        parked = session.scalars(select(DeadLetter)).one()
    assert (parked.event_id, parked.reason, parked.subscription) == (
        "broken-1", "undecodable", "on_command_center_OfficeUpdated")
    assert client.entity(2, street="莘庄工业区").office_id == "MH01"
