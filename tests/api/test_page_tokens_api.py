"""Page tokens through real gRPC and HTTP servers: a token continues only the list it came from, with
the same filter; one carried to another method or filter, edited or forged is INVALID_ARGUMENT (400
over HTTP), and paging with real tokens still returns every record once."""

from __future__ import annotations

import base64
import json

import grpc
import pytest

from services.common.paging import NOT_OURS
from supervision.command_center.v1 import command_center_pb2 as cc
from supervision.gateway.v1 import gateway_pb2 as gw
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me
from tests.api.conftest import CommandCenterClient
from tests.api.gateway.support import District
from tests.api.mobile_enforcement.support import OFFICES, InstantClock, connect, host_mobile_enforcement, uscc
from tests.conftest import make_settings
from tests.support import host, violations

# SQLite only and one service per module: tokens do not depend on the store, the tests only read
# what the fixtures made, and so stay fast.

@pytest.fixture(scope="module")
def command_center(tmp_path_factory):
    running = host("command_center", f"sqlite:///{tmp_path_factory.mktemp('cc') / 'service.db'}", make_settings())
    center = CommandCenterClient(running)
    for number in range(1, 6):
        center.offices.CreateOffice(cc.CreateOfficeRequest(office=cc.Office(
            id=f"MH0{number}", name=f"所{number}", district="闵行区" if number != 4 else "徐汇区",
            streets=[f"镇{number}"])))
    yield center
    running.close()


def refused(call) -> None:
    """The call fails with INVALID_ARGUMENT naming page_token as not one issued for this request."""
    with pytest.raises(grpc.RpcError) as raised:
        call()
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT, raised.value.details()
    assert violations(raised.value) == {"page_token": NOT_OURS}


def all_pages(list_page, field: str) -> list[str]:
    """Ids of every record, paging with each response's next_page_token until there is none."""
    seen, token = [], ""
    while True:
        page = list_page(token)
        seen += [getattr(record, "id", None) or record.uscc for record in getattr(page, field)]
        token = page.next_page_token
        if not token:
            return seen


# ---------------------------------------------------------------- command_center

def test_command_center_pages_through_every_office_once(command_center):
    listed = all_pages(lambda t: command_center.offices.ListOffices(cc.ListOfficesRequest(
        page_size=2, page_token=t, filter='district = "闵行区"')), "offices")

    assert listed == ["MH01", "MH02", "MH03", "MH05"]


def test_command_center_refuses_an_office_token_on_another_method(command_center):
    token = command_center.offices.ListOffices(cc.ListOfficesRequest(page_size=2)).next_page_token
    assert token

    refused(lambda: command_center.officers.ListOfficers(cc.ListOfficersRequest(page_size=2, page_token=token)))
    refused(lambda: command_center.tasks.ListTasks(cc.ListTasksRequest(page_size=2, page_token=token)))
    refused(lambda: command_center.duties.ListDutyItems(cc.ListDutyItemsRequest(page_size=2, page_token=token)))


def test_command_center_refuses_an_office_token_with_another_filter(command_center):
    token = command_center.offices.ListOffices(cc.ListOfficesRequest(
        page_size=2, filter='district = "闵行区"')).next_page_token

    refused(lambda: command_center.offices.ListOffices(cc.ListOfficesRequest(
        page_size=2, page_token=token, filter='district = "徐汇区"')))
    refused(lambda: command_center.offices.ListOffices(cc.ListOfficesRequest(page_size=2, page_token=token)))
    # Spaces outside the quoted value are the same filter; a bigger page is allowed (AIP-158).
    rest = command_center.offices.ListOffices(cc.ListOfficesRequest(
        page_size=10, page_token=token, filter='  district="闵行区" '))
    assert [o.id for o in rest.offices] == ["MH03", "MH05"]


def test_command_center_refuses_an_edited_or_forged_office_token(command_center):
    token = command_center.offices.ListOffices(cc.ListOfficesRequest(page_size=2)).next_page_token
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    edited = base64.urlsafe_b64encode(raw[:-1] + b"1").rstrip(b"=").decode()  # "after MH02" -> "after MH01"
    forged = base64.urlsafe_b64encode(b"k:MH01").decode()  # the old, unsigned form

    refused(lambda: command_center.offices.ListOffices(cc.ListOfficesRequest(page_size=2, page_token=edited)))
    refused(lambda: command_center.offices.ListOffices(cc.ListOfficesRequest(page_size=2, page_token=forged)))


# ---------------------------------------------------------------- mobile_enforcement

@pytest.fixture(scope="module")
def entities(tmp_path_factory):
    """Five entities of MH01 and two of MH02."""
    where = tmp_path_factory.mktemp("me")
    client = connect(host_mobile_enforcement(f"sqlite:///{where / 'service.db'}", InstantClock()), where)
    for office_id, street in OFFICES.items():
        client.office(office_id, [street])
    for number in range(1, 6):
        client.entity(number)
    for number in range(6, 8):
        client.entity(number, street="七宝镇")
    yield client
    client.close()


def test_mobile_enforcement_pages_through_every_entity_once(entities):
    listed = all_pages(lambda t: entities.entities.ListEntities(me.ListEntitiesRequest(
        page_size=2, page_token=t, filter='office_id = "MH01"')), "entities")

    assert listed == [uscc(number) for number in range(1, 6)]


def test_mobile_enforcement_refuses_an_entity_token_on_another_method(entities):
    token = entities.entities.ListEntities(me.ListEntitiesRequest(page_size=2)).next_page_token
    assert token

    refused(lambda: entities.cases.ListCases(me.ListCasesRequest(page_size=2, page_token=token)))
    refused(lambda: entities.inspections.ListInspections(me.ListInspectionsRequest(page_size=2, page_token=token)))
    refused(lambda: entities.spot_checks.ListPlans(me.ListPlansRequest(page_size=2, page_token=token)))


def test_mobile_enforcement_refuses_an_entity_token_with_another_filter(entities):
    token = entities.entities.ListEntities(me.ListEntitiesRequest(
        page_size=2, filter='office_id = "MH01"')).next_page_token

    refused(lambda: entities.entities.ListEntities(me.ListEntitiesRequest(
        page_size=2, page_token=token, filter='office_id = "MH02"')))
    refused(lambda: entities.entities.ListEntities(me.ListEntitiesRequest(
        page_size=2, page_token=token, filter='office_id = "MH01" AND street = "莘庄镇"')))


def test_mobile_enforcement_refuses_a_forged_entity_token(entities):
    forged = base64.urlsafe_b64encode(f"k:{uscc(5)}".encode()).decode()

    refused(lambda: entities.entities.ListEntities(me.ListEntitiesRequest(page_size=2, page_token=forged)))


# ---------------------------------------------------------------- gateway: the office ranking

@pytest.fixture(scope="module")
def district(tmp_path_factory):
    where = tmp_path_factory.mktemp("gw")
    running = District(where, f"sqlite:///{where / 'gateway.db'}", make_settings())
    running.add_offices(certified={"MH01": 4, "MH02": 2, "MH03": 3})
    yield running
    running.close()


def test_gateway_refuses_an_edited_office_page_token_over_http_and_grpc(district):
    token = district.get("/api/v1/offices?page_size=1").body["next_page_token"]
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    edited = base64.urlsafe_b64encode(raw[:-1] + b"2").rstrip(b"=").decode()  # offset 1 -> 2
    forged = base64.urlsafe_b64encode(b"k:2").decode()  # the old, unsigned form

    for bad in (edited, forged):
        reply = district.get(f"/api/v1/offices?page_size=1&page_token={bad}")
        assert reply.status == 400
        assert reply.body["error"]["status"] == "INVALID_ARGUMENT"
        assert "page_token" in json.dumps(reply.body["error"]["details"])
        refused(lambda bad=bad: district.monitoring.ListOfficeIndices(gw.ListOfficeIndicesRequest(
            page_size=1, page_token=bad)))


def test_gateway_refuses_an_office_page_token_with_another_office_filter(district):
    token = district.monitoring.ListOfficeIndices(gw.ListOfficeIndicesRequest(page_size=1)).next_page_token

    refused(lambda: district.monitoring.ListOfficeIndices(gw.ListOfficeIndicesRequest(
        page_size=1, page_token=token, filter='office_id = "MH02"')))
    assert district.get(f"/api/v1/offices?page_size=1&office_id=MH02&page_token={token}").status == 400
    # The HTTP list and the gRPC one are the same ranking: a token goes on from either.
    rest = district.get(f"/api/v1/offices?page_size=5&page_token={token}").body
    assert [o["office_id"] for o in rest["offices"]] == ["MH03", "MH02"]

