"""gRPC server bootstrap shared by every service: the server's options (keepalive, connection age,
message sizes, the cap on calls in flight), health and reflection, and waiting for a stop signal.

What each call passes through is split by concept:
- grpc_interceptor: the one interceptor, wrapping each method's handler once;
- grpc_call: the per-call work (request id and trace context, caller identity, deadline, metrics,
  server span, access log line, trailing metadata, domain errors mapped to status codes), so a call
  pays for a single wrapper instead of a stack of them;
- grpc_statuses: domain errors as gRPC statuses; grpc_streams: the cap on open streaming calls;
- grpc_requests: requests refused before the servicer (undecodable, U+0000 in a string).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass
from types import FrameType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.common.auth import TokenVerifier
from services.common.config import Settings
from services.common.grpc_interceptor import CallInterceptor
from services.common.grpc_streams import StreamGate

log = logging.getLogger(__name__)

# Keepalive: the server pings a connection that has calls open, and closes it when the peer stops
# answering, so a vanished client's streams end and free their threads. A client may ping a
# connection that carries no data no more often than this (more often counts as abuse: closed).
KEEPALIVE_TIME_MS = 60_000
KEEPALIVE_TIMEOUT_MS = 20_000
MIN_CLIENT_PING_INTERVAL_MS = 10_000

MAX_MESSAGE_BYTES = 4 * 1024 * 1024

# A generated add_<Service>Servicer_to_server function and the servicer it adds.
Registration = tuple[Callable[[Any, grpc.Server], None], object]


@dataclass
class RunningServer:
    """A started gRPC server with the port it listens on, its health servicer and its stream gate."""

    server: grpc.Server
    port: int
    health: health.HealthServicer
    service_names: list[str]
    streams: StreamGate | None = None

    def drain(self, grace_seconds: float) -> None:
        """Reports NOT_SERVING, refuses new calls, lets in-flight calls finish within the grace."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace_seconds).wait()


def start_server(registrations: list[Registration], service_names: list[str], settings: Settings, port: int,
                 host: str = "[::]") -> RunningServer:
    """Starts a server with the servicers of `registrations`, health and reflection, on `host:port`
    (port 0: a free one, told in the result)."""
    verifier = TokenVerifier(settings) if settings.auth_mode == "jwt" else None
    # Settings.from_env enforces this; Settings built in code get the same guarantee.
    max_streams = max(0, min(settings.grpc_max_streams, settings.grpc_workers - 1))
    streams = StreamGate(max_streams, settings.grpc_max_streams_per_connection)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.grpc_workers, thread_name_prefix="grpc"),
        interceptors=[CallInterceptor(verifier, streams)],
        # Beyond this many calls in flight the server answers RESOURCE_EXHAUSTED at once
        # instead of queueing work it cannot finish within any reasonable deadline.
        maximum_concurrent_rpcs=settings.max_concurrent_rpcs,
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            # Without this a second process on the same port starts "successfully" and shares it.
            ("grpc.so_reuseport", 0),
            ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
            ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
            # No pings on a connection without calls: the idle limit below closes it instead.
            ("grpc.keepalive_permit_without_calls", 0),
            ("grpc.http2.min_ping_interval_without_data_ms", MIN_CLIENT_PING_INTERVAL_MS),
            ("grpc.max_connection_idle_ms", _ms(settings.grpc_max_connection_idle_seconds)),
            # Every connection is retired after this age (its calls get the grace to finish), so
            # long-lived clients reconnect and rebalance and no stream stays open for ever.
            ("grpc.max_connection_age_ms", _ms(settings.grpc_max_connection_age_seconds)),
            ("grpc.max_connection_age_grace_ms", _ms(settings.grpc_max_connection_age_grace_seconds)),
        ],
    )
    for add_to_server, servicer in registrations:
        add_to_server(servicer, server)
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ["", *service_names]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection([*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"cannot listen on {host}:{port}")
    server.start()
    return RunningServer(server, bound, health_servicer, service_names, streams)


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def wait_for_termination_signal() -> None:
    """Blocks until SIGTERM or SIGINT."""
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    while not stop.wait(3600):
        pass
    # Logged here, not in the handler: a handler that logs could deadlock on the handler's lock.
    log.info("stop signal received; shutting down", extra={"signal": signal.Signals(received[0]).name})
