"""W3C traceparent checks of the per-request context."""

from __future__ import annotations

import pytest

from services.common.context import new_traceparent, trace_id_of, valid_traceparent

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
VALID = f"00-{TRACE_ID}-{PARENT_ID}-01"


def test_w3c_example_is_valid():
    assert valid_traceparent(VALID)


def test_new_traceparent_is_valid_and_unique():
    first, second = new_traceparent(), new_traceparent()

    assert valid_traceparent(first)
    assert valid_traceparent(second)
    assert trace_id_of(first) != trace_id_of(second)


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
])
def test_wrong_lengths_are_invalid(value):
    assert not valid_traceparent(value)


@pytest.mark.parametrize("value", [
    f"00-{TRACE_ID[:-1]}g-{PARENT_ID}-01",
    f"zz-{TRACE_ID}-{PARENT_ID}-01",
    f"00-{TRACE_ID}-{PARENT_ID[:-1]}x-01",
    f"00-{TRACE_ID}-{PARENT_ID}-0z",
])
def test_non_hex_is_invalid(value):
    assert not valid_traceparent(value)


def test_all_zero_trace_id_is_invalid():
    assert not valid_traceparent(f"00-{'0' * 32}-{PARENT_ID}-01")


@pytest.mark.parametrize("trace_id", [
    "0x" + TRACE_ID[2:],
    TRACE_ID[:15] + "_" + TRACE_ID[16:],
    "+" + TRACE_ID[1:],
    " " + TRACE_ID[1:],
])
def test_int_literal_forms_are_not_hex(trace_id):
    assert len(trace_id) == 32
    assert not valid_traceparent(f"00-{trace_id}-{PARENT_ID}-01")


def test_trace_id_of():
    assert trace_id_of(VALID) == TRACE_ID
    assert trace_id_of("") == ""
    assert trace_id_of(f"00-{TRACE_ID[:8]}-{PARENT_ID}-01") == ""
