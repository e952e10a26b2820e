"""Traces: one span per gRPC call, HTTP request, published event, consumed event and timer run, joined
into one trace by W3C trace context (gRPC metadata, HTTP headers, and the event envelope's
`traceparent`, which the outbox row keeps and the relay publishes).

Without OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) nothing is recorded and
the SDK is never loaded: spans are the OpenTelemetry API's non-recording spans that carry only their
ids, so logs and events still name the trace, for the price of two random numbers a span. With it,
the SDK's batch processor exports them over OTLP/HTTP (the standard OTEL_* variables apply:
OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_HEADERS...).
"""

from __future__ import annotations

import logging
import os
import random
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, Span, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util._decorator import _agnosticcontextmanager

from services.common.context import request_id_var, traceparent_var

log = logging.getLogger(__name__)

SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL = (SpanKind.SERVER, SpanKind.CLIENT, SpanKind.PRODUCER,
                                                SpanKind.CONSUMER, SpanKind.INTERNAL)
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
# The propagator logs a warning for a longer header: a caller must not be able to fill our logs.
_MAX_TRACEPARENT = 512
_PROPAGATOR = TraceContextTextMapPropagator()


class IdsOnlyTracer(trace.Tracer):
    """Spans that carry a trace id and a span id and record nothing: the tracer of a process without
    an exporter. Unlike the API's no-op tracer it starts a trace where none came in, so every log
    line and event of a call still names one."""

    def start_span(self, name: str, context: Context | None = None, kind: SpanKind = SpanKind.INTERNAL,
                   attributes: Any = None, links: Any = None, start_time: int | None = None,
                   record_exception: bool = True, set_status_on_exception: bool = True) -> Span:
        """A non-recording span: the parent's trace (or a new one) with a new span id."""
        parent = trace.get_current_span(context).get_span_context()
        # Trace ids need uniqueness, not secrecy: the Mersenne Twister is ten times cheaper than the
        # system's CSPRNG on this per-call path (and is what the SDK's own id generator uses).
        if parent.is_valid:
            trace_id, flags, state = parent.trace_id, parent.trace_flags, parent.trace_state
        else:
            # Sampled: a process with an exporter downstream records the rest of the trace.
            trace_id, flags, state = random.getrandbits(128) or 1, TraceFlags(TraceFlags.SAMPLED), None
        return NonRecordingSpan(SpanContext(trace_id, random.getrandbits(64) or 1, is_remote=False,
                                            trace_flags=flags, trace_state=state))

    # The decorator the API's and the SDK's tracers put on this method (a context manager that also
    # decorates a function): ours keeps the API's declared return type.
    @_agnosticcontextmanager
    def start_as_current_span(self, name: str, context: Context | None = None, kind: SpanKind = SpanKind.INTERNAL,
                              attributes: Any = None, links: Any = None, start_time: int | None = None,
                              record_exception: bool = True, set_status_on_exception: bool = True,
                              end_on_exit: bool = True) -> Iterator[Span]:
        """The API's contract: the span, current while the block runs."""
        with trace.use_span(self.start_span(name, context, kind), end_on_exit=end_on_exit) as span:
            yield span


_tracer: trace.Tracer = IdsOnlyTracer()
_provider: Any = None  # the SDK's TracerProvider once configure() or install() set one


def tracer() -> trace.Tracer:
    """The tracer every span of the process starts from."""
    return _tracer


def install(provider: Any) -> Any:
    """Makes `provider` (an SDK TracerProvider, or None for ids only) the source of spans; returns
    the previous one, so a test can put it back."""
    global _tracer, _provider
    previous = _provider
    _provider = provider
    _tracer = IdsOnlyTracer() if provider is None else provider.get_tracer("services.common.tracing")
    return previous


def exporting(env: Mapping[str, str] | None = None) -> bool:
    """Whether the environment asks for spans to be exported (an OTLP endpoint is set)."""
    env = os.environ if env is None else env
    return any(env.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def configure(env: Mapping[str, str] | None = None) -> bool:
    """Sets up OTLP export when an endpoint is configured; returns whether it did. Once per process."""
    env = os.environ if env is None else env
    if not exporting(env) or _provider is not None:
        return _provider is not None
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
    if protocol not in ("", "http/protobuf"):
        # Only the HTTP exporter is installed: one exporter and no second gRPC stack to carry.
        log.warning("OTEL_EXPORTER_OTLP_PROTOCOL %r is not supported; exporting with http/protobuf", protocol)
    # Loaded only here: a process that exports nothing never imports the SDK.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # OTEL_SERVICE_NAME wins (Resource.create reads it); otherwise the program that runs.
    resource = Resource.create({SERVICE_NAME: env.get("OTEL_SERVICE_NAME") or process_name()})
    provider = TracerProvider(resource=resource)  # flushed by the SDK at exit
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    install(provider)
    trace.set_tracer_provider(provider)  # for any library that traces through the global provider
    log.info("exporting traces over OTLP", extra={"service_name": resource.attributes.get(SERVICE_NAME)})
    return True


def process_name() -> str:
    """The running program as a service name: "supervision-complaints" for `python -m services.complaints`."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    module: str
    if spec is not None:
        module = spec.name.removesuffix(".__main__")
    else:  # a script, or `python -c`
        module = os.path.basename(sys.argv[0] if sys.argv and sys.argv[0] else "").removesuffix(".py")
        module = module if module and not module.startswith("-") else "python"
    return "supervision-" + module.removeprefix("services.").replace(".", "-")


# ------------------------------------------------------------------ trace context on the wire

def remote_parent(traceparent: object, tracestate: object = "") -> Context | None:
    """The OTel context of a W3C `traceparent` (and `tracestate`) that came in; None when it is
    missing or invalid (then the span starts a new trace)."""
    if not traceparent or not isinstance(traceparent, str) or len(traceparent) > _MAX_TRACEPARENT:
        return None
    carrier = {"traceparent": traceparent}
    if tracestate and isinstance(tracestate, str) and len(tracestate) <= _MAX_TRACEPARENT:
        carrier["tracestate"] = tracestate
    # The propagator gives back the context it was handed when the header is not valid W3C.
    extracted = _PROPAGATOR.extract(carrier, _NOTHING)
    return None if extracted is _NOTHING else extracted


_NOTHING = Context()


def traceparent_of(span: Span) -> str:
    """The W3C traceparent naming `span` as the parent ("" for an invalid span)."""
    span_context = span.get_span_context()
    if not span_context.is_valid:
        return ""
    # What the propagator's inject writes, without the two contexts and the carrier it builds on
    # every call (this runs for every span).
    return f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}-{span_context.trace_flags:02x}"


def outgoing_metadata() -> list[tuple[str, str]]:
    """gRPC metadata that carries the call in progress on to another service: its request id and
    the span in progress as the parent (empty outside a call)."""
    metadata = []
    request_id = request_id_var.get()
    if request_id:
        metadata.append(("x-request-id", request_id))
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        metadata.append(("traceparent", traceparent_of(trace.get_current_span())))
        if span_context.trace_state:
            metadata.append(("tracestate", span_context.trace_state.to_header()))
    return metadata


def current_trace_id() -> str:
    """The trace id of the span in progress as 32 hex digits; "" outside any span."""
    span_context = trace.get_current_span().get_span_context()
    return f"{span_context.trace_id:032x}" if span_context.is_valid else ""


def start(name: str, kind: SpanKind, parent: Context | None = None,
          attributes: Mapping[str, Any] | None = None) -> Span:
    """Starts a span under `parent` (None: under the span in progress, or a new trace)."""
    return _tracer.start_span(name, context=parent, kind=kind, attributes=attributes)


# What `activate` changed and `deactivate` puts back: the OTel context and the traceparent variable.
Activation = tuple[Token[Context], Token[str]]


def activate(span: Span) -> Activation:
    """Makes `span` the one in progress (for logs, child spans and the events written meanwhile);
    returns what `deactivate` needs."""
    return (otel_context.attach(trace.set_span_in_context(span)),
            traceparent_var.set(traceparent_of(span)))


def deactivate(tokens: Activation) -> None:
    """Puts back the span in progress before `activate`."""
    traceparent_var.reset(tokens[1])
    otel_context.detach(tokens[0])


def fail(span: Span, error: BaseException | None = None, description: str = "") -> None:
    """Marks `span` failed (with the exception, when there is one)."""
    if not span.is_recording():
        return
    if error is not None:
        span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, description or (repr(error) if error is not None else None)))


@contextmanager
def span(name: str, kind: SpanKind = INTERNAL, parent: Context | None = None,
         attributes: Mapping[str, Any] | None = None) -> Iterator[Span]:
    """A span in progress for the block; an exception leaving the block marks it failed."""
    current = start(name, kind, parent, attributes)
    tokens = activate(current)
    try:
        yield current
    except BaseException as error:
        fail(current, error)
        raise
    finally:
        deactivate(tokens)
        current.end()
