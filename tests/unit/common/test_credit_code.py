"""The unified social credit code check (GB 32100-2015) shared by every service."""

from __future__ import annotations

import pytest

from services.common.credit_code import ALPHABET, check_character, normalise_uscc, validate_uscc

# Worked by hand with the standard's weights: for 91310112MA1FL3XX0 the products are
# 9, 3, 27, 27, 0, 26, 16, 34, 420 (M=21 x 20), 290 (A=10 x 29), 25, 195 (F=15 x 13), 160 (L=20 x 8),
# 72, 290 (X=29 x 10), 870 (X=29 x 30), 0; their sum 2464 = 31 x 79 + 15, and (31 - 15) mod 31 = 16,
# which is G in the alphabet.
WORKED = "91310112MA1FL3XX0G"
# A code printed on a business licence (also used in other services' tests).
PRINTED = "91350100M000100Y43"


def with_check(first_17: str) -> str:
    """An independent computation of the check character, written from the standard's text."""
    weights = [3 ** i % 31 for i in range(17)]  # the standard's weights are 3^(i) mod 31
    total = sum(ALPHABET.index(c) * w for c, w in zip(first_17, weights, strict=True))
    return first_17 + ALPHABET[-total % 31]


@pytest.mark.parametrize("code", [
    WORKED,
    PRINTED,
    with_check("92310112MA1K00000"),  # individual business (个体工商户)
    with_check("12100000400000000"),  # public institution (事业单位)
    with_check("31310000MD0000000"),  # law firm registered with the justice department
    with_check("93310112MA1QWERTY"),  # farmers' cooperative, letters from the whole alphabet
])
def test_valid_codes_pass(code):
    assert validate_uscc(code) is None


def test_the_independent_weights_are_the_standards():
    assert [3 ** i % 31 for i in range(17)] == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    assert check_character(WORKED[:17]) == "G"


@pytest.mark.parametrize(("code", "words"), [
    ("", "18 characters, not 0"),
    (WORKED[:17], "18 characters, not 17"),
    (WORKED + "0", "18 characters, not 19"),
    ("91310112MA1FL3XX0g", "'g'"),  # lower case is not normalised by the check itself
    ("91310112MI1FL3XX0G", "'I'"),
    ("91310112MO1FL3XX0G", "'O'"),
    ("91310112MZ1FL3XX0G", "'Z'"),
    ("91310112MS1FL3XX0G", "'S'"),
    ("91310112MV1FL3XX0G", "'V'"),
    ("91310112MA1FL3XX0-", "'-'"),
    ("91310112ＭA1FL3XX0G", "'Ｍ'"),  # full-width M
    ("91310112MA1FL3XX0H", "check character is 'H' but the first 17 characters give 'G'"),
    ("91310112MA1FL3XY0G", "give"),  # one mistyped character
    ("91310112MA1FL3X0XG", "give"),  # two characters swapped
])
def test_invalid_codes_say_why(code, words):
    problem = validate_uscc(code)
    assert problem is not None and words in problem


def test_every_single_character_error_is_caught():
    """The check character catches any one wrong character in any position."""
    for position in range(18):
        for replacement in ALPHABET:
            if replacement == WORKED[position]:
                continue
            mistyped = WORKED[:position] + replacement + WORKED[position + 1:]
            assert validate_uscc(mistyped) is not None, mistyped


@pytest.mark.parametrize(("typed", "stored"), [
    (" 91310112ma1fl3xx0g ", WORKED),
    ("9131 0112 MA1F L3XX 0G", WORKED),
    ("９１３１０１１２ＭＡ１ＦＬ３ＸＸ０Ｇ", WORKED),  # typed with a Chinese input method
    ("91310112MA1FL3XX0G\u3000", WORKED),
])
def test_normalise_removes_what_typing_adds(typed, stored):
    assert normalise_uscc(typed) == stored
    assert validate_uscc(normalise_uscc(typed)) is None


def test_normalise_keeps_a_wrong_code_wrong():
    assert validate_uscc(normalise_uscc("91310112mi1fl3xx0g")) is not None


@pytest.mark.parametrize("first_17", ["9131011", "91310112MA1FL3XI0"])
def test_check_character_refuses_what_is_not_17_alphabet_characters(first_17):
    with pytest.raises(ValueError):
        check_character(first_17)
