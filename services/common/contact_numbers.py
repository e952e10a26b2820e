"""Phone numbers and resident identity numbers (居民身份证号码, GB 11643) as people type them, checked
wherever they enter: by complaints, whose rules they are, and by the gateway's public form, which
answers a citizen before the call. One place, so the two never disagree.

This is the numbers' own arithmetic and shape, fixed by the numbering plans and the standard, not a
legal figure that changes.
"""

from __future__ import annotations

import re

# ASCII: Python's \d also matches full-width and other scripts' digits, which no register stores.
_COUNTRY_PREFIX = re.compile(r"^(\+86|0086)[- ]?", re.ASCII)
_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
# Area code (010, 021, 0571, ...), local number of 7-8 digits, optional extension.
_LANDLINE = re.compile(r"^0\d{2,3}[- ]?\d{7,8}(-\d{1,6})?$", re.ASCII)
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$", re.ASCII)
# ISO 7064 MOD 11-2, as GB 11643 computes the 18th character.
_ID_WEIGHTS = tuple(2 ** (17 - position) % 11 for position in range(17))
_ID_CHECK = "10X98765432"


def normalise_phone(phone: str) -> str:
    """The number without surrounding spaces or the country prefix (+86, 0086)."""
    return _COUNTRY_PREFIX.sub("", phone.strip())


def is_phone(phone: str) -> bool:
    """A mobile number (11 digits) or a landline with its area code, punctuated as people write them."""
    number = normalise_phone(phone)
    compact = re.sub(r"[\s-]", "", number)  # 139-1234-5678, 021 6412 3456
    return bool(_MOBILE.match(compact) or _LANDLINE.match(compact) or _LANDLINE.match(number))


def phone_key(phone: str) -> str:
    """The digits that identify the line, whatever the punctuation or country prefix."""
    return re.sub(r"\D", "", normalise_phone(phone))


def is_id_number_shape(id_number: str) -> bool:
    """18 characters: 17 digits, then a digit or X (the check character not yet checked)."""
    return bool(_ID_NUMBER.match(id_number))


def id_number_check_character(first_17: str) -> str:
    """The check character GB 11643 gives the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first_17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]
