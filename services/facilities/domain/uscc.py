"""The unified social credit code (统一社会信用代码, GB 32100-2015) and its check character.

18 characters from a 31-character alphabet (no I, O, Z, S, V); the 18th is a check character
computed from the first 17 with fixed weights (DOMAIN.md). This is the code's own arithmetic,
not a legal figure that changes.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why `code` is not a valid unified social credit code, or None when it is."""
    if len(code) != LENGTH:
        return f"must be {LENGTH} characters, not {len(code)}"
    wrong = sorted({char for char in code if char not in ALPHABET})
    if wrong:
        return f"contains {''.join(wrong)!r}; allowed are digits and {ALPHABET[10:]} (upper case)"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"check character is {code[17]!r} but the first 17 characters give {expected!r}"
    return None
