"""Idle streams never take the threads that unary calls and health checks need (in-process server).

Health watches and reflection streams need no token and each holds a server thread while open: the
server admits streams only up to its caps (in all, per connection, and half the slots for token-less
ones) and refuses the rest at once with RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import threading

import grpc
import pytest
from grpc_health.v1 import health_pb2

from services.common.auth import issue_token
from services.common.config import ConfigError, Settings
from services.common.grpc_server import start_server
from tests.reliability.cluster import wait_until
from tests.stream_attack import ADMITTED, HUNG, IdleStreams, answers_promptly, health_check, watch_admitted

SECRET = "unit-test-secret-long-enough-for-hmac-0123456789abcdef"
WORKERS = 4
SERVICE = "test.v1.Probe"
REQUEST, REPLY = health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse


def _probe_service(servicer, server: grpc.Server) -> None:
    """A token-requiring unary method (Echo) and server stream (Follow, silent until cancelled)."""

    def echo(request, context):
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)

    def follow(request, context):
        yield health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)
        while context.is_active():
            servicer.wait(0.05)  # an event never set: a pause that is no busy loop

    handlers = {
        "Echo": grpc.unary_unary_rpc_method_handler(
            echo, request_deserializer=health_pb2.HealthCheckRequest.FromString,
            response_serializer=health_pb2.HealthCheckResponse.SerializeToString),
        "Follow": grpc.unary_stream_rpc_method_handler(
            follow, request_deserializer=health_pb2.HealthCheckRequest.FromString,
            response_serializer=health_pb2.HealthCheckResponse.SerializeToString),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


def _start(**env: str):
    settings = Settings.from_env({"AUTH_MODE": "jwt", "JWT_SECRET": SECRET, "GRPC_WORKERS": str(WORKERS), **env})
    return start_server([(_probe_service, threading.Event())], [SERVICE], settings, 0, host="127.0.0.1")


@pytest.fixture
def server():
    running = _start()
    yield running
    running.server.stop(0).wait()


def _bearer() -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {issue_token(SECRET, subject='unit', roles=['bureau_leader'])}"),)


def _echo(address: str):
    def check(timeout: float) -> None:
        with grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
            call = channel.unary_unary(f"/{SERVICE}/Echo", request_serializer=REQUEST.SerializeToString,
                                       response_deserializer=REPLY.FromString)
            call(health_pb2.HealthCheckRequest(), metadata=_bearer(), timeout=timeout)

    return check


def _follow(channel: grpc.Channel, timeout: float = 60):
    call = channel.unary_stream(f"/{SERVICE}/Follow", request_serializer=REQUEST.SerializeToString,
                                response_deserializer=REPLY.FromString)
    return call(health_pb2.HealthCheckRequest(), metadata=_bearer(), timeout=timeout)


def test_idle_open_streams_from_many_connections_leave_unary_calls_their_threads(server):
    address = f"127.0.0.1:{server.port}"
    attack = IdleStreams(address, connections=3 * WORKERS, per_connection=3)
    try:
        outcomes = attack.open(answer_within=5)
        # What a probe and a client need first: answers, while the streams stay open.
        assert max(answers_promptly(health_check(address))) < 2
        assert max(answers_promptly(_echo(address))) < 2
        assert outcomes[HUNG] == 0, f"streams left waiting for a thread: {outcomes}"
        # Token-less streams get half of GRPC_MAX_STREAMS (WORKERS // 2 = 2): one slot here.
        assert outcomes[ADMITTED] == server.streams.max_open_streams
        assert outcomes["RESOURCE_EXHAUSTED"] == 3 * WORKERS * 3 - outcomes[ADMITTED], outcomes
        assert any("GRPC_MAX_STREAMS" in d or "health and reflection" in d for d in attack.details)
        # Signed-in callers keep the other slots for their own streams.
        with grpc.insecure_channel(address) as channel:
            follow = _follow(channel)
            assert next(follow).status == health_pb2.HealthCheckResponse.SERVING
            follow.cancel()
    finally:
        attack.close()
    # The attack's connections are gone: their slots are given back, and a new watch is admitted.
    wait_until(lambda: server.streams.open_streams() == 0, 10, "the attack's stream slots to be given back")
    assert watch_admitted(address)


def test_one_connection_gets_at_most_its_share_of_streams():
    server = _start(GRPC_WORKERS="8")  # four stream slots, two per connection
    address = f"127.0.0.1:{server.port}"
    try:
        with grpc.insecure_channel(address) as greedy, grpc.insecure_channel(
                address, options=[("grpc.use_local_subchannel_pool", 1)]) as other:
            first, second = _follow(greedy), _follow(greedy)
            assert next(first) and next(second)
            with pytest.raises(grpc.RpcError) as refused:
                next(_follow(greedy))
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "GRPC_MAX_STREAMS_PER_CONNECTION" in refused.value.details()
            assert next(_follow(other)).status == health_pb2.HealthCheckResponse.SERVING
            assert max(answers_promptly(_echo(address), times=2)) < 2
    finally:
        server.server.stop(0).wait()


def test_a_bad_stream_request_is_told_so_even_when_the_slots_are_taken():
    """The token and the request are checked before a slot is asked for: with every slot of the
    connection held, a bad token is still UNAUTHENTICATED and a string holding U+0000 INVALID_ARGUMENT."""
    server = _start(GRPC_WORKERS="8")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            first, second = _follow(channel), _follow(channel)
            assert next(first) and next(second)
            call = channel.unary_stream(f"/{SERVICE}/Follow", request_serializer=REQUEST.SerializeToString,
                                        response_deserializer=REPLY.FromString)
            with pytest.raises(grpc.RpcError) as nul:
                next(call(health_pb2.HealthCheckRequest(service="a\0b"), metadata=_bearer(), timeout=5))
            assert nul.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            with pytest.raises(grpc.RpcError) as unsigned:
                next(call(health_pb2.HealthCheckRequest(), metadata=(("authorization", "Bearer x"),), timeout=5))
            assert unsigned.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        server.server.stop(0).wait()


def test_a_connection_is_retired_at_its_maximum_age_and_its_stream_ends():
    running = _start(GRPC_MAX_CONNECTION_AGE_SECONDS="1", GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS="1")
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            follow = _follow(channel, timeout=15)
            next(follow)
            with pytest.raises(grpc.RpcError) as ended:
                next(follow)  # silent stream: only the connection's end can finish it
            assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
        wait_until(lambda: running.streams.open_streams() == 0, 10, "the retired stream's slot")
    finally:
        running.server.stop(0).wait()


@pytest.mark.parametrize(("workers", "streams"), [("8", "8"), ("4", "9"), ("1", "1")])
def test_a_stream_cap_that_leaves_unary_calls_no_thread_is_refused(workers, streams):
    with pytest.raises(ConfigError, match="GRPC_MAX_STREAMS"):
        Settings.from_env({"GRPC_WORKERS": workers, "GRPC_MAX_STREAMS": streams})


def test_the_stream_cap_defaults_to_half_the_threads():
    assert Settings.from_env({"GRPC_WORKERS": "10"}).grpc_max_streams == 5
    assert Settings.from_env({}).grpc_max_streams == 4
    with pytest.raises(ConfigError, match="GRPC_MAX_STREAMS_PER_CONNECTION"):
        Settings.from_env({"GRPC_MAX_STREAMS_PER_CONNECTION": "0"})
