"""W3C trace context as it comes in: parsed by OpenTelemetry's propagator (tracing.remote_parent);
anything invalid starts a new trace instead of joining a bogus one."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from services.common import tracing
from services.common.context import new_request_id

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
VALID = f"00-{TRACE_ID}-{PARENT_ID}-01"


def _parent_ids(traceparent: str) -> tuple[str, str] | None:
    parent = tracing.remote_parent(traceparent)
    if parent is None:
        return None
    span_context = trace.get_current_span(parent).get_span_context()
    return f"{span_context.trace_id:032x}", f"{span_context.span_id:016x}"


def test_w3c_example_is_the_parent():
    assert _parent_ids(VALID) == (TRACE_ID, PARENT_ID)


def test_a_span_under_a_remote_parent_keeps_its_trace_and_names_itself_in_traceparent():
    with tracing.span("call", tracing.SERVER, tracing.remote_parent(VALID)) as span:
        assert tracing.current_trace_id() == TRACE_ID
        own = tracing.traceparent_of(span)
    assert own.startswith(f"00-{TRACE_ID}-") and own.endswith("-01")
    assert _parent_ids(own)[1] != PARENT_ID  # its own span id, the parent of what it calls
    assert tracing.current_trace_id() == ""  # nothing left in progress after the block


def test_spans_without_a_parent_start_different_valid_traces():
    with tracing.span("first") as first, tracing.span("second", parent=None) as nested:
        assert first.get_span_context().trace_id == nested.get_span_context().trace_id  # nested: same trace
    with tracing.span("other") as other:
        assert other.get_span_context().trace_id != first.get_span_context().trace_id
    assert _parent_ids(tracing.traceparent_of(first)) is not None


@pytest.mark.parametrize("value", [
    "",
    f"0-{TRACE_ID}-{PARENT_ID}-01",            # version too short
    f"000-{TRACE_ID}-{PARENT_ID}-01",          # version too long
    f"00-{TRACE_ID[:-1]}-{PARENT_ID}-01",      # trace id 31
    f"00-{TRACE_ID}0-{PARENT_ID}-01",          # trace id 33
    f"00-{TRACE_ID}-{PARENT_ID[:-1]}-01",      # parent id 15
    f"00-{TRACE_ID}-{PARENT_ID}0-01",          # parent id 17
    f"00-{TRACE_ID}-{PARENT_ID}-1",            # flags too short
    f"00-{TRACE_ID}-{PARENT_ID}-001",          # flags too long
    f"00-{TRACE_ID}-{PARENT_ID}",              # three parts
    f"00-{TRACE_ID}-{PARENT_ID}-01-extra",     # five parts
    f"ff-{TRACE_ID}-{PARENT_ID}-01",           # the forbidden version
    VALID + "-" + "x" * 600,                   # longer than the propagator reads
])
def test_wrong_lengths_are_invalid(value):
    assert tracing.remote_parent(value) is None


@pytest.mark.parametrize("value", [
    f"00-{TRACE_ID[:-1]}g-{PARENT_ID}-01",
    f"zz-{TRACE_ID}-{PARENT_ID}-01",
    f"00-{TRACE_ID}-{PARENT_ID[:-1]}x-01",
    f"00-{TRACE_ID}-{PARENT_ID}-0z",
    f"00-{TRACE_ID.upper()}-{PARENT_ID}-01",
])
def test_non_hex_is_invalid(value):
    assert tracing.remote_parent(value) is None


def test_all_zero_ids_are_invalid():
    assert tracing.remote_parent(f"00-{'0' * 32}-{PARENT_ID}-01") is None
    assert tracing.remote_parent(f"00-{TRACE_ID}-{'0' * 16}-01") is None


@pytest.mark.parametrize("trace_id", [
    "0x" + TRACE_ID[2:],
    TRACE_ID[:15] + "_" + TRACE_ID[16:],
    "+" + TRACE_ID[1:],
    " " + TRACE_ID[1:],
])
def test_int_literal_forms_are_not_hex(trace_id):
    assert len(trace_id) == 32
    assert tracing.remote_parent(f"00-{trace_id}-{PARENT_ID}-01") is None


@pytest.mark.parametrize("value", [None, 42, b"00-" + TRACE_ID.encode() + b"-" + PARENT_ID.encode() + b"-01"])
def test_values_that_are_not_text_are_invalid(value):
    assert tracing.remote_parent(value) is None


def test_request_ids_are_32_hex_digits_and_unique():
    first, second = new_request_id(), new_request_id()
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second
