"""gRPC server bootstrap shared by every service.

One interceptor does the per-call work (request id and trace context, caller identity,
deadline, metrics, logging, and domain errors mapped to status codes) so a call pays for a
single wrapper instead of a stack of them.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass

import grpc
import sqlalchemy.exc
from google.protobuf import any_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from services.common import access_log, errors, tracing
from services.common.auth import TokenVerifier
from services.common.config import Settings
from services.common.context import (
    SYSTEM_CALLER,
    caller_var,
    new_request_id,
    request_id_var,
    request_var,
)
from services.common.metrics import (
    GRPC_HANDLED,
    GRPC_HANDLING_SECONDS,
    GRPC_MSG_RECEIVED,
    GRPC_MSG_SENT,
    GRPC_STARTED,
)

log = logging.getLogger(__name__)

_STATUS_OF: dict[type[errors.DomainError], tuple[grpc.StatusCode, int]] = {
    errors.InvalidArgument: (grpc.StatusCode.INVALID_ARGUMENT, code_pb2.INVALID_ARGUMENT),
    errors.NotFound: (grpc.StatusCode.NOT_FOUND, code_pb2.NOT_FOUND),
    errors.AlreadyExists: (grpc.StatusCode.ALREADY_EXISTS, code_pb2.ALREADY_EXISTS),
    errors.FailedPrecondition: (grpc.StatusCode.FAILED_PRECONDITION, code_pb2.FAILED_PRECONDITION),
    errors.Aborted: (grpc.StatusCode.ABORTED, code_pb2.ABORTED),
    errors.PermissionDenied: (grpc.StatusCode.PERMISSION_DENIED, code_pb2.PERMISSION_DENIED),
    errors.Unauthenticated: (grpc.StatusCode.UNAUTHENTICATED, code_pb2.UNAUTHENTICATED),
}

# Probes and tooling must work without a token.
_OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")

# Keepalive: the server pings a connection that has calls open, and closes it when the peer stops
# answering, so a vanished client's streams end and free their threads. A client may ping a
# connection that carries no data no more often than this (more often counts as abuse: closed).
KEEPALIVE_TIME_MS = 60_000
KEEPALIVE_TIMEOUT_MS = 20_000
MIN_CLIENT_PING_INTERVAL_MS = 10_000

MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def status_for(error: errors.DomainError) -> grpc.Status:
    # The most specific mapped class wins; a bare DomainError is still the caller's doing.
    code = next((_STATUS_OF[k] for k in type(error).__mro__ if k in _STATUS_OF),
                (grpc.StatusCode.FAILED_PRECONDITION, code_pb2.FAILED_PRECONDITION))
    details = []
    if error.violations:
        bad_request = error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations])
        packed = any_pb2.Any()
        packed.Pack(bad_request)
        details.append(packed)
    return rpc_status.to_status(status_pb2.Status(code=code[1], message=error.message, details=details))


def with_request_id(status: grpc.Status, request_id: str) -> grpc.Status:
    """`status` with the call's request id in its trailing metadata: aborting with a status replaces
    the trailing metadata the call had set, and the caller needs the id most when the call failed."""
    return _Status(status.code, status.details, (*(status.trailing_metadata or ()), ("x-request-id", request_id)))


@dataclass(frozen=True)
class _Status(grpc.Status):
    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple


def _split(method: str) -> tuple[str, str]:
    service, _, name = method.lstrip("/").partition("/")
    return service, name


def _metadata_value(metadata: Iterable[tuple[str, str | bytes]] | None, key: str) -> str:
    for k, v in metadata or ():
        if k == key:
            return v if isinstance(v, str) else v.decode("latin-1")
    return ""


class _Method:
    """What the interceptor keeps of one method, made at its first call: its labels and metric
    children (looking a child up by labels on every call cost more than the increments)."""

    def __init__(self, grpc_type: str, method: str, needs_auth: bool):
        service, name = _split(method)
        self.labels = (grpc_type, service, name)
        self.full_name = method
        self.span_name = f"{service}/{name}"
        self.span_attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}
        self.needs_auth = needs_auth
        # Health and reflection: open to anyone, so their streams get the smaller share of slots.
        self.tokenless = method.startswith(_OPEN_SERVICES)
        self.started = GRPC_STARTED.labels(*self.labels)
        self.received = GRPC_MSG_RECEIVED.labels(*self.labels)
        self.sent = GRPC_MSG_SENT.labels(*self.labels)
        self.seconds = GRPC_HANDLING_SECONDS.labels(*self.labels)
        self._handled: dict[grpc.StatusCode, object] = {}

    def handled(self, code: grpc.StatusCode):
        child = self._handled.get(code)
        if child is None:
            child = self._handled[code] = GRPC_HANDLED.labels(*self.labels, code.name)
        return child


class StreamsFull(Exception):
    """A streaming call refused because it would take a thread that unary calls need."""


class StreamGate:
    """Counts the open streaming calls, in all and per connection, and refuses one beyond either cap.

    A streaming call holds a server thread for as long as it stays open (an idle health watch or
    reflection stream too): without a cap, a few idle streams take every thread and unary calls and
    health checks wait behind them until their deadline. Token-less streams (health, reflection) may
    take only half of the slots, so anonymous callers cannot crowd out the streams of signed-in ones.
    """

    def __init__(self, max_streams: int, max_per_connection: int):
        self.max_streams = max_streams
        self.max_open_streams = (max_streams + 1) // 2
        self.max_per_connection = max_per_connection
        self._lock = threading.Lock()
        self._open = 0
        self._open_tokenless = 0
        self._by_connection: dict[str, int] = {}

    def enter(self, connection: str, tokenless: bool) -> Callable[[], None]:
        """Takes a slot for one stream or raises StreamsFull; returns the function that gives it back."""
        with self._lock:
            held = self._by_connection.get(connection, 0)
            if held >= self.max_per_connection:
                raise StreamsFull(f"this connection already has its maximum of {self.max_per_connection} "
                                  "streaming calls open (GRPC_MAX_STREAMS_PER_CONNECTION); close one first")
            if self._open >= self.max_streams:
                raise StreamsFull(f"this server already serves its maximum of {self.max_streams} streaming "
                                  "calls (GRPC_MAX_STREAMS); retry later")
            if tokenless and self._open_tokenless >= self.max_open_streams:
                raise StreamsFull(f"this server already serves its maximum of {self.max_open_streams} health "
                                  "and reflection streams; use Health/Check, or retry later")
            self._open += 1
            self._open_tokenless += tokenless
            self._by_connection[connection] = held + 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                self._open -= 1
                self._open_tokenless -= tokenless
                left = self._by_connection[connection] - 1
                if left:
                    self._by_connection[connection] = left
                else:
                    del self._by_connection[connection]  # or every connection ever seen would stay

        return release

    def open_streams(self) -> int:
        """How many streaming calls hold a slot now."""
        with self._lock:
            return self._open


class CallInterceptor(grpc.ServerInterceptor):
    def __init__(self, verifier: TokenVerifier | None, streams: StreamGate | None = None):
        self._verifier = verifier
        self._streams = streams
        # The wrapped handler of each method, made once: the method's handler never changes while
        # the server runs, and the call's own metadata is read from its context.
        self._handlers: dict[str, grpc.RpcMethodHandler] = {}

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method
        wrapped = self._handlers.get(method)
        if wrapped is None:
            handler = continuation(handler_call_details)
            if handler is None:
                return None  # an unknown method: not kept, or any caller could grow the map
            wrapped = self._handlers[method] = self._wrap_handler(handler, method)
        return wrapped

    def _wrap_handler(self, handler: grpc.RpcMethodHandler, method: str) -> grpc.RpcMethodHandler:
        needs_auth = self._verifier is not None and not method.startswith(_OPEN_SERVICES)
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap(handler.unary_unary, _Method("unary", method, needs_auth), streaming=False),
                request_deserializer=_lenient(handler.request_deserializer),
                response_serializer=handler.response_serializer)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap(handler.unary_stream, _Method("server_stream", method, needs_auth), streaming=True),
                request_deserializer=_lenient(handler.request_deserializer),
                response_serializer=handler.response_serializer)
        # Client streams keep gRPC's own deserializer: a bad message fails the stream where it is read.
        if handler.stream_stream:
            return grpc.stream_stream_rpc_method_handler(
                self._wrap_client_stream(handler.stream_stream, _Method("bidi_stream", method, needs_auth),
                                         responses_stream=True),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_client_stream(handler.stream_unary, _Method("client_stream", method, needs_auth),
                                         responses_stream=False),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        return handler

    def _wrap(self, behaviour: Callable, method: _Method, *, streaming: bool):
        if streaming:
            def stream(request, context: grpc.ServicerContext):
                with self._call(method, context, request, holds_thread=True):
                    for response in behaviour(request, context):
                        method.sent.inc()
                        yield response

            return stream

        def unary(request, context: grpc.ServicerContext):
            with self._call(method, context, request):
                response = behaviour(request, context)
            method.sent.inc()
            return response

        return unary

    def _wrap_client_stream(self, behaviour: Callable, method: _Method, *, responses_stream: bool):
        # No single request message: the call's context holds none (request None).
        if responses_stream:
            def bidi(requests, context: grpc.ServicerContext):
                with self._call(method, context, None, holds_thread=True):
                    for response in behaviour(requests, context):
                        method.sent.inc()
                        yield response

            return bidi

        def client_stream(requests, context: grpc.ServicerContext):
            with self._call(method, context, None, holds_thread=True):
                response = behaviour(requests, context)
            method.sent.inc()
            return response

        return client_stream

    @contextmanager
    def _call(self, method: _Method, context: grpc.ServicerContext, request, holds_thread: bool = False):
        started = time.perf_counter()
        method.started.inc()
        method.received.inc()
        metadata = context.invocation_metadata()
        request_id = _metadata_value(metadata, "x-request-id")[:128] or new_request_id()
        traceparent = _metadata_value(metadata, "traceparent")
        parent = tracing.remote_parent(traceparent, _metadata_value(metadata, "tracestate")) if traceparent else None
        span = tracing.start(method.span_name, tracing.SERVER, parent, method.span_attributes)
        tokens: list = [request_id_var.set(request_id)]
        active = tracing.activate(span)
        context.set_trailing_metadata((("x-request-id", request_id),))
        code = grpc.StatusCode.OK
        caller = None
        failure: BaseException | None = None
        try:
            remaining = context.time_remaining()
            if remaining is not None and remaining <= 0:
                raise _Expired
            caller = (self._verifier.verify(_metadata_value(metadata, "authorization"))
                      if method.needs_auth else SYSTEM_CALLER)
            tokens.append(caller_var.set(caller))
            _refuse_unusable(request)
            if holds_thread and self._streams is not None:
                # After the checks that answer at once (a bad token or request is told so, whatever
                # the slots); given back when the handler returns, which is when its thread is free.
                tokens.append(_Slot(self._streams.enter(context.peer(), tokenless=method.tokenless)))
            tokens.append(request_var.set(request))
            yield
        except _Expired:
            code = grpc.StatusCode.DEADLINE_EXCEEDED
            context.abort(code, "deadline exceeded before the call started")
        except StreamsFull as full:
            code = grpc.StatusCode.RESOURCE_EXHAUSTED
            context.abort(code, str(full))
        except errors.DomainError as error:
            status = status_for(error)
            code = status.code
            context.abort_with_status(with_request_id(status, request_id))
        except _STORE_AWAY as error:
            failure = error
            # The database is unreachable or refused a connection: the pool reconnects on a later
            # call, so the caller may retry; it is not a bug of this call.
            code = grpc.StatusCode.UNAVAILABLE
            log.warning("store unavailable in %s/%s", *method.labels[1:], exc_info=True)
            context.abort(code, f"the service's database is unavailable; retry later (request id {request_id})")
        except Exception as error:
            if context.code() not in (None, grpc.StatusCode.OK):
                code = context.code()  # the servicer aborted deliberately
                raise
            code = grpc.StatusCode.INTERNAL
            failure = error
            log.exception("unhandled error in %s/%s", *method.labels[1:])
            context.abort(code, f"internal error (request id {request_id})")
        finally:
            seconds = time.perf_counter() - started
            method.handled(code).inc()
            method.seconds.observe(seconds)
            _end_span(span, code, failure)
            # While the call's ids are still the context's: the line carries them.
            access_log.grpc_call(method.full_name, code.name, seconds, caller.subject if caller is not None else "",
                                 probe=method.tokenless)
            tracing.deactivate(active)
            for token in reversed(tokens):
                if isinstance(token, _Slot):
                    token.release()
                else:
                    token.var.reset(token)


class _Expired(Exception):
    pass


# What a server span counts as its own failure (OpenTelemetry's RPC conventions): the others are
# the caller's doing (bad input, not found, refused) and the server worked as it should.
_SERVER_FAULTS = frozenset({grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNIMPLEMENTED,
                            grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DATA_LOSS})


def _end_span(span, code: grpc.StatusCode, failure: BaseException | None) -> None:
    if span.is_recording():
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code in _SERVER_FAULTS:
            tracing.fail(span, failure, code.name)
    span.end()


@dataclass(frozen=True)
class _Slot:
    """A stream slot held by the call, given back with the call's context variables."""

    release: Callable[[], None]


_STORE_AWAY = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, sqlalchemy.exc.TimeoutError)


@dataclass(frozen=True)
class _Undecodable:
    """What arrived instead of a request message: refused in the call, where a status can be given
    (a deserializer that raises makes gRPC answer INTERNAL)."""

    reason: str


def _lenient(deserializer: Callable[[bytes], object] | None) -> Callable[[bytes], object] | None:
    if deserializer is None:
        return None

    def deserialize(data: bytes) -> object:
        try:
            return deserializer(data)
        except DecodeError as error:
            return _Undecodable(str(error))

    return deserialize


def _refuse_unusable(request) -> None:
    if isinstance(request, _Undecodable):
        raise errors.InvalidArgument(f"the request could not be decoded: {request.reason}")
    if isinstance(request, Message) and (fields := _strings_holding_nul(request)):
        # PostgreSQL text cannot hold U+0000 and no field of ours has a use for it.
        raise errors.InvalidArgument("strings must not contain the character U+0000",
                                     [errors.FieldViolation(field, "must not contain U+0000") for field in fields])


def _strings_holding_nul(message: Message, prefix: str = "") -> list[str]:
    found: list[str] = []
    for field, value in message.ListFields():
        path = prefix + field.name
        if field.type == FieldDescriptor.TYPE_STRING:
            if any("\0" in item for item in (value if field.is_repeated else (value,))):
                found.append(path)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type.GetOptions().map_entry:
                for key, item in value.items():
                    if (isinstance(key, str) and "\0" in key) or (isinstance(item, str) and "\0" in item):
                        found.append(f"{path}[{key!r}]")
                    elif isinstance(item, Message):
                        found += _strings_holding_nul(item, f"{path}[{key!r}].")
            elif field.is_repeated:
                for index, item in enumerate(value):
                    found += _strings_holding_nul(item, f"{path}[{index}].")
            else:
                found += _strings_holding_nul(value, path + ".")
    return found


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    service_names: list[str]
    streams: StreamGate | None = None

    def drain(self, grace_seconds: float) -> None:
        """Reports NOT_SERVING, refuses new calls, lets in-flight calls finish within the grace."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace_seconds).wait()


def start_server(registrations: list[tuple[Callable[[object, grpc.Server], None], object]],
                 service_names: list[str], settings: Settings, port: int, host: str = "[::]") -> RunningServer:
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

    def on_signal(signum, _frame) -> None:
        received.append(signum)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    while not stop.wait(3600):
        pass
    # Logged here, not in the handler: a handler that logs could deadlock on the handler's lock.
    log.info("stop signal received; shutting down", extra={"signal": signal.Signals(received[0]).name})
