"""The server interceptor's span and access line on a real in-process gRPC server (AUTH_MODE=jwt):
the caller's trace joined, the caller named, the server's own faults marked on the span, streams
counted once, and what a handler passes on to the next service."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2
from opentelemetry.trace import SpanKind, StatusCode

from services.common import tracing
from services.common.auth import issue_token
from services.common.config import Settings
from services.common.grpc_server import start_server

SECRET = "unit-test-secret-long-enough-for-hmac-0123456789abcdef"
SERVICE = "test.v1.Traced"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
REPLY = health_pb2.HealthCheckResponse


def _traced_service(passed_on: list, server: grpc.Server) -> None:
    """Echo (notes what it would pass on to another service), Fail (a bug: INTERNAL), Refuse (the
    servicer aborts), Count (3 messages)."""

    def echo(request, context):
        passed_on.append(dict(tracing.outgoing_metadata()))
        return REPLY(status=REPLY.SERVING)

    def fail(request, context):
        raise RuntimeError("broken calendar")

    def refuse(request, context):
        context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many watchers")  # a servicer's own abort

    def count(request, context):
        for _ in range(3):
            yield REPLY(status=REPLY.SERVING)

    def unary(behaviour):
        return grpc.unary_unary_rpc_method_handler(
            behaviour, request_deserializer=health_pb2.HealthCheckRequest.FromString,
            response_serializer=REPLY.SerializeToString)

    stream = grpc.unary_stream_rpc_method_handler(count, request_deserializer=health_pb2.HealthCheckRequest.FromString,
                                                  response_serializer=REPLY.SerializeToString)
    handlers = {"Echo": unary(echo), "Fail": unary(fail), "Refuse": unary(refuse), "Count": stream}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


@pytest.fixture
def served() -> Iterator[tuple[grpc.Channel, list]]:
    passed_on: list = []
    settings = Settings.from_env({"AUTH_MODE": "jwt", "JWT_SECRET": SECRET})
    running = start_server([(_traced_service, passed_on)], [SERVICE], settings, 0, host="127.0.0.1")
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    yield channel, passed_on
    channel.close()
    running.server.stop(0).wait()




def _token(subject: str) -> tuple[str, str]:
    return ("authorization", "Bearer " + issue_token(SECRET, subject=subject, roles=["bureau_leader"]))


def _method(channel: grpc.Channel, name: str, stream: bool = False):
    make = channel.unary_stream if stream else channel.unary_unary
    return make(f"/{SERVICE}/{name}", request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                response_deserializer=REPLY.FromString)


def test_a_call_joins_the_callers_trace_and_names_the_caller(served, spans, access_lines):
    channel, passed_on = served

    _method(channel, "Echo")(health_pb2.HealthCheckRequest(), metadata=[
        _token("officer-7"), ("traceparent", TRACEPARENT), ("tracestate", "vendor=abc"), ("x-request-id", "req-7")])

    [span] = spans.get_finished_spans()
    assert (span.name, span.kind) == (f"{SERVICE}/Echo", SpanKind.SERVER)
    assert f"{span.context.trace_id:032x}" == TRACE_ID and f"{span.parent.span_id:016x}" == PARENT_ID
    assert span.status.status_code is StatusCode.UNSET
    # What the handler would send to the next service: the same request id, this span as the parent.
    [metadata] = passed_on
    assert metadata == {"x-request-id": "req-7", "tracestate": "vendor=abc",
                        "traceparent": f"00-{TRACE_ID}-{span.context.span_id:016x}-01"}
    [line] = access_lines()
    assert (line["caller"], line["code"]) == ("officer-7", "OK")
    assert (line["request_id"], line["trace_id"]) == ("req-7", TRACE_ID)


def test_a_bug_in_the_handler_marks_the_span_failed_with_the_exception(served, spans, access_lines):
    channel, _ = served

    with pytest.raises(grpc.RpcError) as failed:
        _method(channel, "Fail")(health_pb2.HealthCheckRequest(), metadata=[_token("officer-7")])

    assert failed.value.code() is grpc.StatusCode.INTERNAL
    [span] = spans.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert [event.attributes["exception.message"] for event in span.events] == ["broken calendar"]
    assert [line["code"] for line in access_lines()] == ["INTERNAL"]
    assert dict(failed.value.trailing_metadata())["x-request-id"] == access_lines()[0]["request_id"]


def test_a_servicers_own_abort_keeps_the_request_id_and_its_code_in_the_line(served, spans, access_lines):
    channel, _ = served

    with pytest.raises(grpc.RpcError) as refused:
        _method(channel, "Refuse")(health_pb2.HealthCheckRequest(), metadata=[_token("o-2"), ("x-request-id", "r-2")])

    assert refused.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert ("x-request-id", "r-2") in refused.value.trailing_metadata()
    assert [(line["code"], line["request_id"]) for line in access_lines()] == [("RESOURCE_EXHAUSTED", "r-2")]


def test_a_call_without_a_valid_token_is_logged_without_a_caller(served, spans, access_lines):
    channel, _ = served

    with pytest.raises(grpc.RpcError) as refused:
        _method(channel, "Echo")(health_pb2.HealthCheckRequest(), metadata=[("authorization", "Bearer nonsense")])

    assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    [line] = access_lines()
    assert (line["code"], line["caller"]) == ("UNAUTHENTICATED", "")
    assert dict(refused.value.trailing_metadata())["x-request-id"] == line["request_id"]


def test_a_stream_is_one_span_and_one_line_when_it_ends(served, spans, access_lines):
    channel, _ = served

    replies = list(_method(channel, "Count", stream=True)(health_pb2.HealthCheckRequest(), metadata=[_token("o-1")]))

    assert len(replies) == 3
    assert [s.name for s in spans.get_finished_spans()] == [f"{SERVICE}/Count"]
    assert [(line["method"], line["code"]) for line in access_lines()] == [(f"/{SERVICE}/Count", "OK")]


def test_outside_a_call_nothing_is_passed_on():
    assert tracing.outgoing_metadata() == []


def test_health_checks_are_logged_only_at_debug(served, access_lines):
    channel, _ = served
    check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                                response_deserializer=REPLY.FromString)

    check(health_pb2.HealthCheckRequest())  # the logger at INFO: a probe every few seconds stays out
    logging.getLogger("access").setLevel(logging.DEBUG)
    check(health_pb2.HealthCheckRequest())

    [line] = access_lines()
    assert (line["level"], line["method"], line["code"]) == ("DEBUG", "/grpc.health.v1.Health/Check", "OK")
