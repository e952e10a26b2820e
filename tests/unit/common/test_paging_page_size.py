"""page_size above a List method's maximum is served at the maximum (AIP-158), not refused; a negative
size is still INVALID_ARGUMENT on page_size. Checked on the function every List method uses (through a
real gRPC server: tests/integration/test_paging_page_size.py)."""

from __future__ import annotations

import pytest

from services.common.errors import InvalidArgument
from services.common.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_size_of, parse_page
from services.gateway.domain.paging import DEFAULT_OFFICE_PAGE, MAX_OFFICE_PAGE, parse_office_page
from supervision.command_center.v1 import command_center_pb2 as cc


@pytest.mark.parametrize(("requested", "served"), [
    (0, DEFAULT_PAGE_SIZE),
    (1, 1),
    (MAX_PAGE_SIZE, MAX_PAGE_SIZE),
    (MAX_PAGE_SIZE + 1, MAX_PAGE_SIZE),
    (2**31 - 1, MAX_PAGE_SIZE),  # the largest int32 a client can send
])
def test_the_served_size_is_the_default_for_zero_and_never_above_the_maximum(requested, served):
    assert page_size_of(requested) == served
    assert parse_page(cc.ListOfficesRequest(page_size=requested)).size == served


def test_a_method_with_its_own_maximum_caps_at_that_one():
    assert page_size_of(500, max_size=100, default_size=20) == 100
    assert page_size_of(0, max_size=100, default_size=20) == 20


def test_the_office_ranking_caps_at_its_own_maximum():
    assert parse_office_page(MAX_OFFICE_PAGE + 1, "", None) == (MAX_OFFICE_PAGE, 0)
    assert parse_office_page(0, "", None) == (DEFAULT_OFFICE_PAGE, 0)


@pytest.mark.parametrize("requested", [-1, -(2**31)])
def test_a_negative_size_is_invalid_argument_on_page_size(requested):
    for call in (lambda: page_size_of(requested), lambda: parse_office_page(requested, "", None)):
        with pytest.raises(InvalidArgument) as raised:
            call()
        assert [(v.field, v.description) for v in raised.value.violations] == [("page_size", "must not be negative")]
