"""The complainant's personal data: checked at intake, masked in outward views, kept out of events.

Name, phone and ID number are shown in full only to those who handle the item: the bureau leader,
and the office head and officers of the office it is routed to (and the system itself). Everyone
else, the auditor included, sees them masked. Events and logs never carry them; free text that
travels in an event has them redacted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.common.context import BUREAU_LEADER, OFFICE_HEAD, OFFICER, SYSTEM, Caller

_COUNTRY_PREFIX = re.compile(r"^(\+86|0086)[- ]?")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
# Area code (010, 021, 0571, ...), local number of 7-8 digits, optional extension.
_LANDLINE = re.compile(r"^0\d{2,3}[- ]?\d{7,8}(-\d{1,6})?$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_ID_WEIGHTS = tuple(2 ** (17 - position) % 11 for position in range(17))
_ID_CHECK = "10X98765432"
MAX_NAME = 50


@dataclass(frozen=True)
class PersonalData:
    name: str
    phone: str
    id_number: str


def normalise_phone(phone: str) -> str:
    return _COUNTRY_PREFIX.sub("", phone.strip())


def phone_problem(phone: str) -> str | None:
    """None for a mobile or landline number; never quotes the number (errors may be logged)."""
    number = normalise_phone(phone)
    compact = re.sub(r"[\s-]", "", number)  # 139-1234-5678, 021 6412 3456
    if _MOBILE.match(compact) or _LANDLINE.match(compact) or _LANDLINE.match(number):
        return None
    return "is not a phone number: 11-digit mobile, or a landline with its area code (e.g. 021-54889000)"


def phone_key(phone: str) -> str:
    """The digits that identify the line, whatever the punctuation or country prefix."""
    return re.sub(r"\D", "", normalise_phone(phone))


def id_number_problem(id_number: str) -> str | None:
    """Resident identity number (GB 11643): 17 digits and an ISO 7064 MOD 11-2 check character."""
    if not _ID_NUMBER.match(id_number):
        return "must be an 18-character resident identity number (17 digits, then a digit or X)"
    if id_number_check_character(id_number[:17]) != id_number[17]:
        return "check character does not match (mistyped number?)"
    return None


def id_number_check_character(first_17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first_17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def may_see(caller: Caller, office_id: str) -> bool:
    if caller.has_any(BUREAU_LEADER, SYSTEM):
        return True
    return caller.has_any(OFFICE_HEAD, OFFICER) and bool(caller.office_id) and caller.office_id == office_id


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: the surname stays so a caller can address the person."""
    return name[:1] + "*" * (len(name) - 1) if len(name) > 1 else "*" * len(name)


def mask_phone(phone: str) -> str:
    """13812345678 -> 138****5678, 021-64123456 -> 021*****3456: the first three and last four stay."""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(id_number: str) -> str:
    """The first three digits (the province and city) and the last two stay."""
    if len(id_number) < 6:
        return "*" * len(id_number)
    return id_number[:3] + "*" * (len(id_number) - 5) + id_number[-2:]


def masked(data: PersonalData) -> PersonalData:
    return PersonalData(mask_name(data.name), mask_phone(data.phone), mask_id_number(data.id_number))


def redact(text: str, data: PersonalData) -> str:
    """Free text with the complainant's own name, phone and ID number masked wherever they occur
    (a description often repeats them); what goes into an event passes through here."""
    digits = phone_key(data.phone)
    if digits:
        # However the number is written in the text: 13912345678, 139-1234-5678, 139 1234 5678.
        written = re.compile(r"[\s-]?".join(digits))
        text = written.sub(mask_phone(digits), text)
    for value, mask in ((data.id_number, mask_id_number), (data.name, mask_name)):
        # A one-character "name" would mask every occurrence of that character in the text.
        if len(value) >= 2:
            text = text.replace(value, mask(value))
    return text
