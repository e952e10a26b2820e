"""The unified social credit code check (GB 32100-2015), without a server."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.complaints.domain.credit_code import ALPHABET, check_character, problem_with

BODIES = st.text(alphabet=ALPHABET, min_size=17, max_size=17)


@pytest.mark.parametrize(("first_17", "check"), [
    ("0" * 17, "0"),  # nothing to weigh: (31 - 0) mod 31 = 0
    ("1" + "0" * 16, "Y"),  # weight 1: 31 - 1 = 30, the last character
    ("0" * 16 + "1", "3"),  # weight 28: 31 - 28 = 3
    ("0" * 5 + "A" + "0" * 11, "K"),  # A = 10, weight 26: 260 mod 31 = 12, 31 - 12 = 19 -> K
])
def test_check_character_follows_the_weights(first_17, check):
    assert check_character(first_17) == check
    assert problem_with(first_17 + check) is None


@given(BODIES)
def test_a_code_with_its_check_character_is_valid(body):
    assert problem_with(body + check_character(body)) is None


@given(BODIES, st.integers(0, 17), st.sampled_from(ALPHABET))
def test_any_single_mistyped_character_is_caught(body, position, replacement):
    code = body + check_character(body)
    mistyped = code[:position] + replacement + code[position + 1:]
    if mistyped != code:
        assert problem_with(mistyped) is not None


@pytest.mark.parametrize(("code", "fragment"), [
    ("91310112MA1G00001", "18 characters"),
    ("91310112MA1G0000123", "18 characters"),
    ("91310112MA1G0000I1", "I"),
    ("91310112ma1g000011", "allowed are digits"),
    ("91310112MA1G0000O" + "S", "no I, O, Z, S, V"),
])
def test_malformed_codes_say_what_is_wrong(code, fragment):
    assert fragment in problem_with(code)
