"""Checks, masks and redaction of the complainant's personal data, and who may see it."""

from __future__ import annotations

import pytest

from services.common.context import Caller
from services.complaints.domain import personal_data
from services.complaints.domain.personal_data import PersonalData


@pytest.mark.parametrize("phone", ["13912345678", "139-1234-5678", "+86 13912345678", "021-64123456",
                                   "02164123456", "0571-8712345", "021-64123456-801"])
def test_phone_numbers_people_write_are_accepted(phone):
    assert personal_data.phone_problem(phone) is None


@pytest.mark.parametrize("phone", ["12345", "12912345678", "1391234567", "139123456789", "64123456", "电话号码",
                                   "+1 2025550123"])
def test_what_is_not_a_phone_is_refused_without_quoting_it(phone):
    problem = personal_data.phone_problem(phone)
    assert problem is not None and phone not in problem


def test_phone_key_ignores_punctuation_and_the_country_prefix():
    keys = {personal_data.phone_key(p) for p in ("139-1234-5678", "+86 13912345678", "0086-139 1234 5678")}
    assert keys == {"13912345678"}


@pytest.mark.parametrize(("number", "valid"), [
    ("11010519491231002X", True),  # the example of GB 11643
    ("110105194912310021", False),  # one digit of the check changed
    ("11010519491231002x", False),  # the caller upper-cases; the check itself is exact
    ("1101051949123100", False),
    ("A1010519491231002X", False),
])
def test_identity_numbers_carry_their_check_character(number, valid):
    assert (personal_data.id_number_problem(number) is None) is valid


def test_masks_keep_just_enough_to_address_the_person():
    data = personal_data.masked(PersonalData("欧阳娜娜", "13912345678", "11010519491231002X"))
    assert data == PersonalData("欧***", "139****5678", "110*************2X")
    assert personal_data.mask_name("张") == "*"
    assert personal_data.mask_phone("021-64123456") == "021*****3456"


def test_redaction_masks_every_occurrence_in_free_text():
    data = PersonalData("王芳", "13912345678", "11010519491231002X")
    text = "我是王芳，电话139-1234-5678或13912345678，身份证11010519491231002X，王芳。"
    redacted = personal_data.redact(text, data)
    for value in ("王芳", "13912345678", "139-1234-5678", "11010519491231002X"):
        assert value not in redacted
    assert redacted.count("139****5678") == 2 and redacted.count("王*") == 2


@pytest.mark.parametrize(("roles", "office_id", "visible"), [
    ({"bureau_leader"}, "", True),
    ({"system"}, "", True),
    ({"office_head"}, "MH02", True),
    ({"officer"}, "MH02", True),
    ({"officer"}, "MH01", False),
    ({"auditor"}, "", False),
    ({"auditor", "officer"}, "MH01", False),
])
def test_who_may_see_the_personal_data_of_an_item_of_mh02(roles, office_id, visible):
    caller = Caller(subject="u", roles=frozenset(roles), office_id=office_id)
    assert personal_data.may_see(caller, "MH02") is visible
