"""Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, the last a check
character over the first 17 (DOMAIN.md gives the alphabet and the weights)."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18
_VALUE = {character: value for value, character in enumerate(ALPHABET)}


def check_character(first_17: str) -> str:
    """The check character for the first 17 characters (which must be in the alphabet)."""
    if len(first_17) != LENGTH - 1:
        raise ValueError(f"need {LENGTH - 1} characters, got {len(first_17)}")
    total = sum(_VALUE[character] * weight for character, weight in zip(first_17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem_with(code: str) -> str | None:
    """Why `code` is not a valid credit code, or None when it is. Upper case only: the standard
    prints the letters in upper case, and normalising is the caller's choice."""
    if len(code) != LENGTH:
        return f"must be {LENGTH} characters, not {len(code)}"
    strangers = sorted({c for c in code if c not in _VALUE})
    if strangers:
        return f"contains {''.join(strangers)}; allowed are digits and {ALPHABET[10:]} (no I, O, Z, S, V)"
    if check_character(code[:-1]) != code[-1]:
        return "check character does not match (mistyped code?)"
    return None
