"""The industry code (国民经济行业分类) of an entity, checked against the classification's data."""

from __future__ import annotations

import datetime as dt

import pytest

from services.mobile_enforcement.domain.industry_codes import check_industry_code, classifications

DAY = dt.date(2026, 12, 7)


@pytest.mark.parametrize(("code", "stored"), [
    ("5265", "5265"), ("F5265", "5265"), (" f52 ", "52"), ("526", "526"), ("01", "01"), ("A0111", "0111"),
    ("97", "97"), ("C4390", "4390"), ("7040", "7040"),
])
def test_a_code_of_an_existing_division_is_stored_as_its_digits(code, stored):
    assert check_industry_code(code, DAY) == (stored, "")


@pytest.mark.parametrize(("code", "why"), [
    ("00", "division 00"), ("98", "division 98"), ("5", "2, 3 or 4 digits"), ("52651", "2, 3 or 4 digits"),
    ("A5265", "section F"), ("FF52", "2, 3 or 4 digits"), ("52-65", "2, 3 or 4 digits"), ("", "2, 3 or 4 digits"),
])
def test_anything_else_is_refused_saying_why(code, why):
    stored, problem = check_industry_code(code, DAY)
    assert stored == "" and why in problem


def test_the_data_holds_97_divisions_in_20_sections():
    edition = classifications().applicable(DAY)
    assert (len(edition.section_of), len(edition.section_labels)) == (97, 20)
