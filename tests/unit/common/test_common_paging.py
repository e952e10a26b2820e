"""Page tokens and filters of List methods: every refusal is INVALID_ARGUMENT on the right field."""

from __future__ import annotations

import base64

import pytest

from services.common.errors import InvalidArgument
from services.common.paging import (
    DEFAULT_PAGE_SIZE,
    MAX_FILTER_LENGTH,
    MAX_PAGE_SIZE,
    NOT_OURS,
    Page,
    next_token,
    parse_filter,
    parse_page,
)
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

ALLOWED = {"name": str, "state": str, "office_id": str, "open": bool}


def _only_violation(error: InvalidArgument):
    assert len(error.violations) == 1
    return error.violations[0]


# --- page size and tokens -----------------------------------------------------------------------

def _request(page_size: int = 0, page_token: str = "", filter_text: str = "") -> pb.ListCasesRequest:
    return pb.ListCasesRequest(page_size=page_size, page_token=page_token, filter=filter_text)


def test_zero_page_size_means_default_and_no_token_means_first_page():
    page = parse_page(_request())

    assert (page.size, page.after) == (DEFAULT_PAGE_SIZE, "")


def test_page_size_at_the_maximum_is_kept():
    assert parse_page(_request(MAX_PAGE_SIZE)).size == MAX_PAGE_SIZE


def test_page_size_above_the_maximum_is_lowered_to_it():
    """AIP-158: served at the maximum, not refused."""
    assert parse_page(_request(MAX_PAGE_SIZE + 1)).size == MAX_PAGE_SIZE


@pytest.mark.parametrize(("size", "description"), [
    (-1, "must not be negative"),
])
def test_bad_page_size_is_invalid_argument_on_page_size(size, description):
    with pytest.raises(InvalidArgument) as raised:
        parse_page(_request(size))

    violation = _only_violation(raised.value)
    assert violation.field == "page_size"
    assert violation.description == description


@pytest.mark.parametrize("token", [
    "not base64!!",                                              # wrong padding once the junk is dropped
    "%%%%",                                                      # decodes to nothing
    "令牌",                                                       # not ASCII
    base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),          # not UTF-8
    base64.urlsafe_b64encode(b"offset:100").decode(),            # valid base64, someone else's format
    base64.urlsafe_b64encode(b"K:shop-1").decode(),              # prefix is case-sensitive
])
def test_garbage_and_foreign_tokens_are_invalid_argument_on_page_token(token):
    with pytest.raises(InvalidArgument) as raised:
        parse_page(_request(10, token))

    violation = _only_violation(raised.value)
    assert violation.field == "page_token"
    assert violation.description == NOT_OURS


@pytest.mark.parametrize("key", ["shop-0042", "2026-03-02T08:00:00Z|a:b", "市场/黄浦 1", ""])
def test_token_round_trip_gives_back_the_last_key(key):
    page = parse_page(_request(2))

    token = next_token(key, 2, page)

    assert token != ""
    assert parse_page(_request(2, token)).after == key


def test_token_is_url_safe_ascii():
    token = next_token("?>?>~~\u00ff", 1, parse_page(_request(1)))

    assert token.isascii()
    assert "+" not in token and "/" not in token and "=" not in token


def test_a_page_that_is_not_full_is_the_last_one():
    page = Page(size=3, after="")

    assert next_token("shop-9", 2, page) == ""
    assert next_token(None, 0, page) == ""


def test_a_full_page_has_a_next_token():
    assert next_token("shop-9", 3, Page(size=3, after="")) != ""


# --- filters --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_filter_is_no_condition(text):
    assert parse_filter(text, ALLOWED) == {}


def test_one_term():
    assert parse_filter("state = ACTIVE", ALLOWED) == {"state": "ACTIVE"}


def test_unquoted_value_may_hold_ids_and_times():
    assert parse_filter("office_id=office-3.a:b_c", ALLOWED) == {"office_id": "office-3.a:b_c"}


def test_terms_joined_by_and():
    assert parse_filter('  state = ACTIVE AND office_id = "o-1"  ', ALLOWED) == {"state": "ACTIVE",
                                                                                "office_id": "o-1"}


def test_quoted_value_with_spaces():
    assert parse_filter('name = "Green Valley  Market"', ALLOWED) == {"name": "Green Valley  Market"}


def test_quoted_value_with_escaped_quote():
    assert parse_filter(r'name = "Joe \"Big\" Market"', ALLOWED) == {"name": 'Joe "Big" Market'}


@pytest.mark.parametrize(("text", "expected"), [("open = true", True), ("open = false", False)])
def test_bool_field(text, expected):
    result = parse_filter(text, ALLOWED)

    assert result == {"open": expected}
    assert type(result["open"]) is bool


@pytest.mark.parametrize(("text", "in_description"), [
    ("open = yes", "open must be true or false"),
    ("owner = x", "unknown field 'owner'; allowed: name, office_id, open, state"),
    ("state = A AND state = B", "field 'state' given twice"),
    ("state == ACTIVE", "cannot read"),
    ("state = ACTIVE OR state = CLOSED", "cannot read"),
    ("state = ACTIVE and open = true", "cannot read"),
    ('name = "unterminated', "cannot read"),
    ("State = ACTIVE", "cannot read"),
    ("state =", "cannot read"),
    ("AND state = ACTIVE", "cannot read"),
])
def test_bad_filter_is_invalid_argument_on_filter(text, in_description):
    with pytest.raises(InvalidArgument) as raised:
        parse_filter(text, ALLOWED)

    violation = _only_violation(raised.value)
    assert violation.field == "filter"
    assert in_description in violation.description


def test_overlong_filter_is_refused_before_parsing():
    text = "state = " + "A" * MAX_FILTER_LENGTH

    with pytest.raises(InvalidArgument) as raised:
        parse_filter(text, ALLOWED)

    violation = _only_violation(raised.value)
    assert violation.field == "filter"
    assert violation.description == f"longer than {MAX_FILTER_LENGTH} characters"


def test_filter_of_exactly_the_maximum_length_is_read():
    text = 'name = "' + "x" * (MAX_FILTER_LENGTH - 9) + '"'
    assert len(text) == MAX_FILTER_LENGTH

    assert parse_filter(text, ALLOWED) == {"name": "x" * (MAX_FILTER_LENGTH - 9)}


def test_quoted_value_containing_and():
    assert parse_filter('name = "Salt AND Pepper"', ALLOWED) == {"name": "Salt AND Pepper"}


def test_escaped_backslash_in_quoted_value():
    assert parse_filter(r'name = "C:\\shops"', ALLOWED) == {"name": "C:\\shops"}
