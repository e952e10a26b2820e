"""The complainant's personal data: checked at intake, masked in outward views, kept out of events.

Name, phone and ID number are shown in full only to those who handle the item: the bureau leader,
and the office head and officers of the office it is routed to (and the system itself). Everyone
else, the auditor included, sees them masked. Events and logs never carry them; free text that
travels in an event has them redacted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.common.contact_numbers import id_number_check_character, is_id_number_shape, is_phone, phone_key
from services.common.context import BUREAU_LEADER, OFFICE_HEAD, OFFICER, SYSTEM, Caller

# phone_key and id_number_check_character are part of this module's use (intake, the demo).
__all__ = ["MAX_NAME", "PersonalData", "id_number_check_character", "id_number_problem", "masked", "may_see",
           "phone_key", "phone_problem", "redact"]

MAX_NAME = 50


@dataclass(frozen=True)
class PersonalData:
    """The complainant's personal data (个人信息): name, phone and ID number."""

    name: str
    phone: str
    id_number: str


def phone_problem(phone: str) -> str | None:
    """None for a mobile or landline number; never quotes the number (errors may be logged)."""
    if is_phone(phone):
        return None
    return "is not a phone number: 11-digit mobile, or a landline with its area code (e.g. 021-54889000)"


def id_number_problem(id_number: str) -> str | None:
    """Resident identity number (GB 11643): 17 digits and an ISO 7064 MOD 11-2 check character."""
    if not is_id_number_shape(id_number):
        return "must be an 18-character resident identity number (17 digits, then a digit or X)"
    if id_number_check_character(id_number[:17]) != id_number[17]:
        return "check character does not match (mistyped number?)"
    return None


def may_see(caller: Caller, office_id: str) -> bool:
    """Whether the caller sees personal data unmasked: the bureau's leaders and the office's own staff."""
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
    """The personal data as a caller who may not see it gets it (脱敏)."""
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
