"""The unified social credit code (统一社会信用代码, GB 32100-2015), checked at every boundary.

18 characters from a 31-character alphabet (digits and upper-case letters without I, O, Z, S, V);
the 18th is a check character computed from the first 17 with fixed weights. This is the code's
own arithmetic, fixed by the standard, not a legal figure that changes.

Codes arrive typed by people: `normalise_uscc` removes what a person or a form adds (surrounding
and inner spaces, full-width characters from a Chinese input method, lower case) and nothing else,
so a code that is wrong stays wrong and `validate_uscc` says why.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18
_VALUE = {character: value for value, character in enumerate(ALPHABET)}
# Full-width forms (U+FF01..U+FF5E) are the ASCII characters shifted by 0xFEE0; U+3000 is a space.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def check_character(first_17: str) -> str:
    """The check character of 17 characters of the alphabet (ValueError for anything else)."""
    if len(first_17) != LENGTH - 1:
        raise ValueError(f"need {LENGTH - 1} characters, got {len(first_17)}")
    try:
        total = sum(_VALUE[character] * weight for character, weight in zip(first_17, WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not in the credit code alphabet") from None
    return ALPHABET[(31 - total % 31) % 31]


def normalise_uscc(code: str) -> str:
    """Half-width, upper case, without spaces: the form codes are stored and compared in."""
    return "".join(code.translate(_HALF_WIDTH).split()).upper()


def validate_uscc(code: str) -> str | None:
    """Why `code` is not a valid credit code, or None when it is. Checks the code as given:
    normalise first when it comes from a person."""
    if len(code) != LENGTH:
        return f"must be {LENGTH} characters, not {len(code)}"
    strangers = sorted({character for character in code if character not in _VALUE})
    if strangers:
        return (f"contains {''.join(strangers)!r}; allowed are digits and the upper-case letters "
                f"{ALPHABET[10:]} (no I, O, Z, S, V)")
    expected = check_character(code[:-1])
    if code[-1] != expected:
        return f"check character is {code[-1]!r} but the first 17 characters give {expected!r} (mistyped code?)"
    return None
