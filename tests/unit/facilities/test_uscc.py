"""The unified social credit code's check character (GB 32100-2015)."""

from __future__ import annotations

import pytest

from services.facilities.domain.uscc import ALPHABET, check_character, problem


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", "92310112MA01000039"])
def test_valid_codes_pass(code):
    assert problem(code) is None


def test_the_check_character_is_the_weighted_sum_complement():
    # Σ value × weight over the first 17 characters is 1640; 1640 mod 31 = 28; 31 − 28 = 3.
    assert check_character("91350100M000100Y4") == "3"
    assert check_character("00000000000000000") == "0"  # a zero sum needs no complement


@pytest.mark.parametrize(("code", "words"), [
    ("91350100M000100Y44", "check character is '4'"),
    ("91350100M000100Y4", "18 characters"),
    ("91350100M000100Y433", "18 characters"),
    ("91350100m000100Y43", "'m'"),
    ("91350100O000100Y43", "'O'"),
    ("91350100I000100Y43", "'I'"),
    ("91350100S000100Y43", "'S'"),
    ("", "18 characters, not 0"),
])
def test_invalid_codes_say_why(code, words):
    assert words in problem(code)


def test_every_single_character_error_is_caught():
    code = "91350100M000100Y43"
    for position in range(17):
        for replacement in ALPHABET:
            if replacement != code[position]:
                altered = code[:position] + replacement + code[position + 1:]
                assert problem(altered) is not None, altered
