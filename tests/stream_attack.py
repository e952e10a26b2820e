"""Idle streams opened from many connections against a gRPC server, for the stream-cap tests.

Anyone may open health watches and reflection streams (no token). Each stream opened here receives
its first answer and then stays silent; a stream is sorted by how the server met it: admitted (it
answered, and now holds a server thread), refused (a status, RESOURCE_EXHAUSTED for a full server)
or hung (no answer within the wait: queued behind the threads other streams hold).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

ADMITTED = "admitted"
HUNG = "hung"
# Long enough to outlive the test; the channels are closed at the end, which cancels them.
STREAM_DEADLINE_SECONDS = 300.0


class IdleStreams:
    """`connections` channels with `per_connection` idle streams each, alternately health watches and
    bidirectional reflection streams."""

    def __init__(self, address: str, connections: int, per_connection: int):
        self.address = address
        self.connections = connections
        self.per_connection = per_connection
        self._stop = threading.Event()
        self._channels: list[grpc.Channel] = []
        self._calls: list = []
        self._pool = ThreadPoolExecutor(max_workers=connections * per_connection, thread_name_prefix="attack")
        self.outcomes: list[str] = []
        self.details: list[str] = []

    def open(self, answer_within: float = 5.0) -> Counter:
        """Opens every stream at once; returns how many were admitted, refused (by code) or hung."""
        waits = []
        for _ in range(self.connections):
            # A channel option of its own: grpc would otherwise share one connection between channels.
            channel = grpc.insecure_channel(self.address, options=[("grpc.use_local_subchannel_pool", 1)])
            self._channels.append(channel)
            for n in range(self.per_connection):
                waits.append(self._pool.submit(self._watch if n % 2 == 0 else self._reflect, channel))
        done, _ = wait(waits, timeout=answer_within)
        for future in waits:
            if future in done:
                outcome, detail = future.result()
            else:
                outcome, detail = HUNG, ""
            self.outcomes.append(outcome)
            self.details.append(detail)
        return Counter(self.outcomes)

    def _watch(self, channel: grpc.Channel) -> tuple[str, str]:
        call = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(),
                                                         timeout=STREAM_DEADLINE_SECONDS)
        self._calls.append(call)
        return _first_answer(call)

    def _reflect(self, channel: grpc.Channel) -> tuple[str, str]:
        def requests():
            yield reflection_pb2.ServerReflectionRequest(list_services="")
            self._stop.wait()  # then silent, holding the stream open

        call = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
            requests(), timeout=STREAM_DEADLINE_SECONDS)
        self._calls.append(call)
        return _first_answer(call)

    def close(self) -> None:
        """Ends the attack: every stream cancelled, every connection closed."""
        self._stop.set()
        for call in list(self._calls):
            call.cancel()
        for channel in self._channels:
            channel.close()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _first_answer(call) -> tuple[str, str]:
    try:
        next(call)
        return ADMITTED, ""
    except grpc.RpcError as error:
        return error.code().name, error.details() or ""


def answers_promptly(check, times: int = 5, within: float = 2.0) -> list[float]:
    """Runs `check(timeout)` `times` times; each must return within `within` seconds (else it raises,
    DEADLINE_EXCEEDED). Returns the seconds each took."""
    took = []
    for _ in range(times):
        started = time.monotonic()
        check(within)
        took.append(time.monotonic() - started)
    return took


def health_check(address: str):
    """A Health/Check on a connection of its own, as a probe makes it."""

    def check(timeout: float) -> None:
        with grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING

    return check


def watch_admitted(address: str, within: float = 2.0) -> bool:
    """Whether a new health watch is admitted (answers) now."""
    with grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
        call = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=within)
        try:
            next(call)
            return True
        except grpc.RpcError:
            return False
        finally:
            call.cancel()
