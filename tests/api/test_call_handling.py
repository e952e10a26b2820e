"""What every call passes through before and after the servicer (services/common/grpc_call),
shown on command_center: requests no servicer should see, and a database that went away."""

from __future__ import annotations

import time

import grpc
import pytest
from sqlalchemy.engine import make_url

from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc
from tests.api.command_center.support import counts, expect_error, office
from tests.conftest import make_settings
from tests.support import TcpProxy, host


def test_strings_holding_nul_are_invalid_argument_and_change_nothing(command_center):
    before = counts(command_center)
    found = expect_error(lambda: command_center.offices.CreateOffice(pb.CreateOfficeRequest(
        request_id="r\x00", office=office(streets=("莘庄镇", "七宝\x00镇")))), grpc.StatusCode.INVALID_ARGUMENT)
    assert set(found) == {"request_id", "office.streets"}
    assert counts(command_center) == before


def test_undecodable_request_bytes_are_invalid_argument(command_center):
    create = command_center.running.channel.unary_unary(
        "/supervision.command_center.v1.OfficeService/CreateOffice",
        request_serializer=lambda raw: raw, response_deserializer=pb.Office.FromString)
    before = counts(command_center)
    with pytest.raises(grpc.RpcError) as info:
        create(b"\x0a\xff\xff\xff\xff\x0f")  # field 1, a length far past the end
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "could not be decoded" in info.value.details()
    assert counts(command_center) == before


@pytest.fixture
def behind_proxy(postgres_database):
    url = make_url(postgres_database)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    running = host("command_center", url.set(host="127.0.0.1", port=proxy.port).render_as_string(False),
                   make_settings())
    yield running, proxy
    proxy.restore()
    running.close()
    proxy.close()


def test_while_the_database_is_away_calls_are_unavailable_and_then_answered_again(behind_proxy):
    running, proxy = behind_proxy
    offices = pb_grpc.OfficeServiceStub(running.channel)
    offices.CreateOffice(pb.CreateOfficeRequest(office=office()))
    proxy.cut()
    for call in (lambda: offices.ListOffices(pb.ListOfficesRequest()),
                 lambda: offices.CreateOffice(pb.CreateOfficeRequest(office=office("MH02", "七宝所", ("七宝镇",))))):
        with pytest.raises(grpc.RpcError) as info:
            call()
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE, info.value.details()
    proxy.restore()
    assert [o.id for o in answered_again(lambda: offices.ListOffices(pb.ListOfficesRequest()).offices)] == ["MH01"]


def answered_again(call, seconds: float = 20.0):
    """The first answer once the pool has reconnected; UNAVAILABLE meanwhile."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
