"""The request id of a gRPC call, on the real server bootstrap (interceptor, store, relay): answered
in the trailing metadata whether the call succeeded or failed, and named in the call's access log
line, so a caller holding the id of a failed call finds what the server wrote about it."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from services.command_center import service as command_center
from services.common import migrate
from services.common.bus import InProcessBus
from services.common.db import Store, sqlite_url
from services.common.hosting import HostedService
from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc
from tests.conftest import make_settings

OFFICES = "/supervision.command_center.v1.OfficeService/"


@pytest.fixture(scope="module")
def offices(tmp_path_factory) -> Iterator[pb_grpc.OfficeServiceStub]:
    data_dir = tmp_path_factory.mktemp("request_ids")
    settings = make_settings(DATA_DIR=str(data_dir))
    store = Store(sqlite_url(str(data_dir), "command_center"))
    runtime = command_center.build(settings, store)
    migrate.upgrade("command_center", runtime.migrations_dir, store.url)
    hosted = HostedService(runtime, settings, InProcessBus(), port=0, host="127.0.0.1", run_timers=False)
    server = hosted.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    yield pb_grpc.OfficeServiceStub(channel)
    channel.close()
    hosted.stop(0.5)
    store.dispose()



def _office(office_id: str) -> pb.Office:
    return pb.Office(id=office_id, name=f"{office_id}市场监督管理所", district="闵行区", streets=[f"{office_id}镇"])


def test_a_refused_call_answers_its_request_id_beside_the_field_violations(offices, access_lines):
    with pytest.raises(grpc.RpcError) as refused:
        offices.CreateOffice(pb.CreateOfficeRequest(office=pb.Office(id="")), metadata=[("x-request-id", "req-bad-1")])

    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    trailing = refused.value.trailing_metadata()
    assert ("x-request-id", "req-bad-1") in trailing
    assert any(key == "grpc-status-details-bin" for key, _ in trailing)
    [line] = [entry for entry in access_lines() if entry.get("request_id") == "req-bad-1"]
    assert (line["method"], line["code"]) == (OFFICES + "CreateOffice", "INVALID_ARGUMENT")
    assert len(line["trace_id"]) == 32


def test_a_call_for_something_missing_answers_the_id_the_server_gave_it(offices, access_lines):
    with pytest.raises(grpc.RpcError) as missing:
        offices.GetOffice(pb.GetOfficeRequest(id="NOPE99"))

    assert missing.value.code() is grpc.StatusCode.NOT_FOUND
    generated = dict(missing.value.trailing_metadata())["x-request-id"]
    assert len(generated) == 32
    [line] = [entry for entry in access_lines() if entry.get("request_id") == generated]
    assert (line["method"], line["code"]) == (OFFICES + "GetOffice", "NOT_FOUND")


def test_a_successful_call_answers_its_request_id_and_leaves_a_line(offices, access_lines):
    _, call = offices.CreateOffice.with_call(pb.CreateOfficeRequest(request_id="ok-1", office=_office("MR01")),
                                             metadata=[("x-request-id", "req-ok-1")])

    assert ("x-request-id", "req-ok-1") in call.trailing_metadata()
    [line] = [entry for entry in access_lines() if entry.get("request_id") == "req-ok-1"]
    assert line["code"] == "OK" and line["caller"] == "system" and line["duration_ms"] > 0


def test_an_overlong_request_id_is_cut_not_refused(offices, access_lines):
    _, call = offices.ListOffices.with_call(pb.ListOfficesRequest(), metadata=[("x-request-id", "r" * 500)])

    assert ("x-request-id", "r" * 128) in call.trailing_metadata()
    assert [entry["code"] for entry in access_lines() if entry.get("request_id") == "r" * 128] == ["OK"]
