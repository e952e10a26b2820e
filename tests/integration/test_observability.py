"""Access logs, request ids and traces of the real district in monolithic mode: gRPC calls, the
gateway's HTTP API, the outbox relay and the consumers of other services on the in-process bus.

Spans are collected with the OpenTelemetry SDK's InMemorySpanExporter (the SDK's own test
exporter, in place of an OTLP collector we do not run); the access lines are the real log records,
formatted by the real JSON formatter in the thread that served the call.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import grpc
import pytest
from opentelemetry.trace import SpanKind

from services import monolith
from services.common import registry
from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc
from tests.conftest import make_settings
from tests.support import free_port

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
CREATE_OFFICE = "/supervision.command_center.v1.OfficeService/CreateOffice"
GET_OFFICE = "/supervision.command_center.v1.OfficeService/GetOffice"


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """Every service in one process, as `make run` starts it, without the demo district."""
    ports = {name: free_port() for name in registry.names()} | {"gateway_http": free_port()}
    hosted = monolith.start(make_settings(DATA_DIR=str(tmp_path_factory.mktemp("observed")), DEMO_DATA="false"),
                            host="127.0.0.1", ports=ports)
    services = {service.runtime.name: service for service in hosted}
    channel = grpc.insecure_channel(f"127.0.0.1:{services['command_center'].server.port}")
    yield services, channel
    channel.close()
    monolith.stop_hosted(hosted)
    for service in hosted:
        service.runtime.store.dispose()




def _office(office_id: str) -> pb.Office:
    return pb.Office(id=office_id, name=f"{office_id}市场监督管理所", district="闵行区", streets=[f"{office_id}镇"])


def _hex(span_id: int) -> str:
    return f"{span_id:016x}"


def test_one_trace_from_a_call_to_the_effects_of_its_event_in_other_services(district, spans, access_lines):
    services, channel = district
    offices = pb_grpc.OfficeServiceStub(channel)

    _, call = offices.CreateOffice.with_call(pb.CreateOfficeRequest(request_id="trace-1", office=_office("MT01")),
                                             metadata=[("traceparent", TRACEPARENT), ("x-request-id", "req-trace-1")])
    services["command_center"].settle()  # publishes the outbox; the bus applies it in every consumer

    assert ("x-request-id", "req-trace-1") in call.trailing_metadata()
    finished = spans.get_finished_spans()
    [server] = [s for s in finished if s.name == CREATE_OFFICE.lstrip("/")]
    assert server.kind is SpanKind.SERVER
    assert f"{server.context.trace_id:032x}" == TRACE_ID
    assert _hex(server.parent.span_id) == PARENT_ID  # the caller's span
    assert server.attributes["rpc.method"] == "CreateOffice"

    [publish] = [s for s in finished if s.name == "publish OfficeRegistered"]
    assert publish.kind is SpanKind.PRODUCER
    assert publish.parent.span_id == server.context.span_id  # from the outbox row's traceparent
    consumed = [s for s in finished if s.name == "consume on_command_center_OfficeRegistered"]
    groups = {s.attributes["messaging.consumer.group.name"] for s in consumed}
    assert {"complaints", "emergency", "assessment"} <= groups
    for span in consumed:
        assert span.kind is SpanKind.CONSUMER
        assert span.context.trace_id == server.context.trace_id
        assert span.parent.span_id == publish.context.span_id
        assert span.attributes["supervision.outcome"] == "applied"

    # The outbox row keeps the context of the call that wrote it.
    runtime = services["command_center"].runtime
    with runtime.store.read() as session:
        envelopes = [row.envelope for row in session.query(runtime.outbox_model).all()]
    [registered] = [e for e in envelopes if e["type"].endswith("OfficeRegistered") and "MT01" in e["subject"]]
    assert registered["traceparent"] == f"00-{TRACE_ID}-{_hex(server.context.span_id)}-01"

    [line] = [entry for entry in access_lines() if entry.get("request_id") == "req-trace-1"]
    assert line["method"] == CREATE_OFFICE
    assert line["code"] == "OK"
    assert line["trace_id"] == TRACE_ID
    assert line["caller"] == "system"  # AUTH_MODE=off
    assert line["logger"] == "access" and line["level"] == "INFO"
    assert 0 < line["duration_ms"] < 60_000


def test_the_callers_mistakes_are_not_failures_of_the_servers_span(district, spans):
    _, channel = district
    offices = pb_grpc.OfficeServiceStub(channel)

    with pytest.raises(grpc.RpcError) as refused:
        offices.CreateOffice(pb.CreateOfficeRequest(office=pb.Office(id="")), metadata=[("traceparent", "zz-bad")])
    with pytest.raises(grpc.RpcError) as missing:
        offices.GetOffice(pb.GetOfficeRequest(id="NOPE99"))

    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert missing.value.code() is grpc.StatusCode.NOT_FOUND
    served = {s.name: s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER}
    assert set(served) == {CREATE_OFFICE.lstrip("/"), GET_OFFICE.lstrip("/")}
    for span in served.values():
        assert span.status.is_unset  # ERROR is for the server's own faults (INTERNAL, UNAVAILABLE...)
        assert span.parent is None  # a broken traceparent starts a trace instead of joining it
    invalid_argument = grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert served[CREATE_OFFICE.lstrip("/")].attributes["rpc.grpc.status_code"] == invalid_argument


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_http_requests_are_logged_and_traced_with_their_request_id(district, spans, access_lines):
    services, _ = district
    base = f"http://127.0.0.1:{services['gateway'].http_port}"

    status, headers = _get(f"{base}/api/v1/district", {"X-Request-Id": "req-http-1", "traceparent": TRACEPARENT})
    bad_status, bad_headers = _get(f"{base}/api/v1/indicators/x/history?resolution=fortnight", {})
    gone_status, gone_headers = _get(f"{base}/no/such/page", {})
    probe_status, _ = _get(f"{base}/healthz", {})

    assert status == 200 and headers["X-Request-Id"] == "req-http-1"
    lines = access_lines()
    [ok] = [entry for entry in lines if entry.get("request_id") == "req-http-1"]
    assert (ok["method"], ok["route"], ok["status"], ok["trace_id"]) == ("GET", "/api/v1/district", 200, TRACE_ID)
    assert ok["caller"] == "system" and ok["duration_ms"] > 0
    [served] = [s for s in spans.get_finished_spans() if s.name == "GET /api/v1/district"]
    assert served.kind is SpanKind.SERVER and _hex(served.parent.span_id) == PARENT_ID

    assert bad_status == 400
    [bad] = [entry for entry in lines if entry.get("request_id") == bad_headers["X-Request-Id"]]
    assert (bad["route"], bad["status"]) == ("/api/v1/indicators/{key}/history", 400)
    # aiohttp's own 404 for a path no route serves: logged, and its id answered too.
    assert gone_status == 404
    [gone] = [entry for entry in lines if entry.get("request_id") == gone_headers["X-Request-Id"]]
    assert (gone["route"], gone["status"]) == ("unmatched", 404)
    # Probes come every few seconds: their lines are DEBUG, below the access logger's INFO here.
    assert probe_status == 200
    assert not [entry for entry in lines if entry.get("route") == "/healthz"]


def _post_json(url: str, body: dict, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_form_post_is_one_trace_from_the_gateway_into_complaints(district, spans, access_lines):
    services, _ = district
    base = f"http://127.0.0.1:{services['gateway'].http_port}"
    with urllib.request.urlopen(f"{base}/api/v1/complaints/form-token", timeout=10) as response:
        token = json.loads(response.read())["token"]

    status, created = _post_json(f"{base}/api/v1/complaints", {
        "request_id": token, "kind": "complaint", "category": "食品安全", "description": "购买的牛奶已过保质期",
        "complainant": {"name": "欧阳娜娜", "phone": "13912345678"},
        "respondent": {"name": "某某超市", "address": "莘庄镇莘松路1号", "street": "莘庄镇"},
    }, {"X-Request-Id": "req-form-1", "traceparent": TRACEPARENT})

    assert status == 201, created
    finished = spans.get_finished_spans()
    [http] = [s for s in finished if s.name == "POST /api/v1/complaints"]
    [grpc_server] = [s for s in finished if s.kind is SpanKind.SERVER and s.name.endswith("/CreateComplaint")]
    assert f"{grpc_server.context.trace_id:032x}" == TRACE_ID
    assert grpc_server.parent.span_id == http.context.span_id  # the gateway's span, carried in the call
    # complaints logs the call under the id the browser sent to the gateway.
    [line] = [entry for entry in access_lines()
              if entry.get("request_id") == "req-form-1" and str(entry.get("method", "")).endswith("/CreateComplaint")]
    assert line["trace_id"] == TRACE_ID and line["code"] == "OK"
