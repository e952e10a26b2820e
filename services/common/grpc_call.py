"""What every gRPC call passes through around its servicer, in one context manager: the request id
and trace context, the caller's identity, the deadline, the request checks, a stream slot, domain
errors mapped to status codes, and afterwards the metrics, the server span, the access log line and
the request id in the trailing metadata.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import Token
from dataclasses import dataclass
from typing import Any, Protocol, cast

import grpc
import sqlalchemy.exc
from opentelemetry.trace import Span
from prometheus_client import Counter

from services.common import access_log, errors, tracing
from services.common.auth import TokenVerifier
from services.common.context import SYSTEM_CALLER, Caller, caller_var, new_request_id, request_id_var, request_var
from services.common.grpc_requests import refuse_unusable
from services.common.grpc_statuses import status_for, with_request_id
from services.common.grpc_streams import StreamGate, StreamsFull
from services.common.metrics import (
    GRPC_HANDLED,
    GRPC_HANDLING_SECONDS,
    GRPC_MSG_RECEIVED,
    GRPC_MSG_SENT,
    GRPC_STARTED,
)

log = logging.getLogger("services.common.grpc_server")  # the logger these lines always had

# Probes and tooling must work without a token.
OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


class MethodCalls:
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
        self.tokenless = method.startswith(OPEN_SERVICES)
        self.started = GRPC_STARTED.labels(*self.labels)
        self.received = GRPC_MSG_RECEIVED.labels(*self.labels)
        self.sent = GRPC_MSG_SENT.labels(*self.labels)
        self.seconds = GRPC_HANDLING_SECONDS.labels(*self.labels)
        self._handled: dict[grpc.StatusCode, Counter] = {}

    def handled(self, code: grpc.StatusCode) -> Counter:
        """The counter of this method's calls that ended with `code`."""
        child = self._handled.get(code)
        if child is None:
            child = self._handled[code] = GRPC_HANDLED.labels(*self.labels, code.name)
        return child


def _split(method: str) -> tuple[str, str]:
    service, _, name = method.lstrip("/").partition("/")
    return service, name


def _metadata_value(metadata: Iterable[tuple[str, str | bytes]] | None, key: str) -> str:
    for k, v in metadata or ():
        if k == key:
            return v if isinstance(v, str) else v.decode("latin-1")
    return ""


@contextmanager
def call_scope(method: MethodCalls, context: grpc.ServicerContext, request: object,
               verifier: TokenVerifier | None, streams: StreamGate | None = None) -> Iterator[None]:
    """Runs one call of `method` (its servicer in the block) as the house runs every call.

    `request` is None for client streams (no single request message); `streams` is the gate whose slot
    a streaming call holds while it runs (None for unary calls, which take no slot)."""
    started = time.perf_counter()
    method.started.inc()
    method.received.inc()
    metadata = context.invocation_metadata()
    request_id = _metadata_value(metadata, "x-request-id")[:128] or new_request_id()
    traceparent = _metadata_value(metadata, "traceparent")
    parent = tracing.remote_parent(traceparent, _metadata_value(metadata, "tracestate")) if traceparent else None
    span = tracing.start(method.span_name, tracing.SERVER, parent, method.span_attributes)
    tokens: list[Token[Any] | _Slot] = [request_id_var.set(request_id)]
    active = tracing.activate(span)
    context.set_trailing_metadata((("x-request-id", request_id),))
    code = grpc.StatusCode.OK
    caller: Caller | None = None
    failure: BaseException | None = None
    try:
        remaining = context.time_remaining()
        if remaining is not None and remaining <= 0:
            raise _Expired
        caller = (verifier.verify(_metadata_value(metadata, "authorization"))
                  if method.needs_auth and verifier is not None else SYSTEM_CALLER)
        tokens.append(caller_var.set(caller))
        refuse_unusable(request)
        if streams is not None:
            # After the checks that answer at once (a bad token or request is told so, whatever
            # the slots); given back when the handler returns, which is when its thread is free.
            tokens.append(_Slot(streams.enter(context.peer(), tokenless=method.tokenless)))
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
        aborted = _code_set_by_servicer(context)
        if aborted is not None and aborted != grpc.StatusCode.OK:
            code = aborted  # the servicer aborted deliberately
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


class _KnowsItsCode(Protocol):
    def code(self) -> grpc.StatusCode | None: ...


def _code_set_by_servicer(context: grpc.ServicerContext) -> grpc.StatusCode | None:
    # grpc's servicer context has code() (the status a servicer set or aborted with, None before
    # any); the grpc type stubs do not declare it.
    return cast(_KnowsItsCode, context).code()


# What a server span counts as its own failure (OpenTelemetry's RPC conventions): the others are
# the caller's doing (bad input, not found, refused) and the server worked as it should.
_SERVER_FAULTS = frozenset({grpc.StatusCode.UNKNOWN, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNIMPLEMENTED,
                            grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DATA_LOSS})


def _end_span(span: Span, code: grpc.StatusCode, failure: BaseException | None) -> None:
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
