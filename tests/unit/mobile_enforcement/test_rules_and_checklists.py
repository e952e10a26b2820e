"""The versioned data mobile_enforcement runs on: statutory rule sets and checklist templates."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.errors import FailedPrecondition, NotFound
from services.mobile_enforcement.domain.checklists import Catalog
from services.mobile_enforcement.domain.rules import RuleBook, RuleDataError
from services.mobile_enforcement.domain.vocabulary import CATEGORIES, FAILURE_OUTCOMES

RULE = """id: {id}
title: t
effective_from: {day}
confirmed: true
minimum_officers: 2
filing_decision_working_days: 15
filing_extension_working_days: 15
decision_days: 90
decision_extension_days: 30
simplified_max_fine_individual: 200
simplified_max_fine_organisation: 3000
penalty_publication_working_days: 20
inspection_publication_working_days: 20
legal_review_working_days: 10
statement_working_days: 5
hearing_request_working_days: 5
hearing_notice_days: 7
delivery_days: 7
payment_days: 15
surcharge_percent_per_day: 3
major_decisions:
  kinds: [REVOKE_LICENCE]
  fine_individual_from_yuan: 10000
  fine_organisation_from_yuan: 100000
collective_discussion:
  kinds: [ORDER_CLOSURE]
  fine_individual_from_yuan: 50000
  fine_organisation_from_yuan: 500000
hearing:
  kinds: [SUSPEND_BUSINESS]
  fine_individual_from_yuan: 10000
  fine_organisation_from_yuan: 100000
"""


def test_the_rule_set_in_force_on_the_day_a_clock_starts_applies():
    book = RuleBook.load()
    assert book.in_force(dt.date(2021, 7, 14)).simplified_max_fine_individual == 50
    assert book.in_force(dt.date(2021, 7, 15)).simplified_max_fine_individual == 200
    assert book.in_force(dt.date(2026, 11, 2)).id == "samr-order-2-2021"
    assert all(r.confirmed and r.minimum_officers == 2 and r.decision_days == 90 for r in book.all())
    with pytest.raises(FailedPrecondition, match="before the first rule set"):
        book.in_force(dt.date(2019, 3, 31))


def test_the_old_law_gave_shorter_statement_and_hearing_periods_and_fewer_hearings():
    book = RuleBook.load()
    old, new = book.in_force(dt.date(2021, 7, 14)), book.in_force(dt.date(2021, 7, 15))
    assert (old.statement_working_days, old.hearing_request_working_days) == (3, 3)
    assert (new.statement_working_days, new.hearing_request_working_days) == (5, 5)
    assert "RESTRICT_PRACTICE" in new.hearing.kinds and "RESTRICT_PRACTICE" not in old.hearing.kinds
    for rules in (old, new):
        assert (rules.delivery_days, rules.payment_days, rules.surcharge_percent_per_day) == (7, 15, 3)
        assert (rules.hearing.fine_individual_from_yuan, rules.hearing.fine_organisation_from_yuan) == (10000, 100000)
        assert set(rules.collective_discussion.kinds) <= set(rules.major_decisions.kinds)


@pytest.mark.parametrize(("text", "words"), [
    (RULE.format(id="a", day="2020-01-01").replace("decision_days: 90\n", ""), "missing keys ['decision_days']"),
    (RULE.format(id="a", day="2020-01-01") + "fines: 1\n", "unknown keys ['fines']"),
    (RULE.format(id="a", day="someday"), "effective_from must be a date"),
    (RULE.format(id="a", day="2020-01-01").replace("decision_days: 90", "decision_days: ninety"),
     "decision_days must be a whole number"),
    (RULE.format(id="a", day="2020-01-01").replace("confirmed: true", "confirmed: maybe"), "confirmed must be"),
    ("[not, a, mapping]", "must be a mapping"),
    (RULE.format(id="a", day="2020-01-01").replace("surcharge_percent_per_day: 3", "surcharge_percent_per_day: 300"),
     "surcharge_percent_per_day must be at most 100"),
    (RULE.format(id="a", day="2020-01-01").replace("kinds: [ORDER_CLOSURE]", "kinds: [ADMINISTRATIVE_DETENTION]"),
     "collective_discussion.kinds must list penalty kinds"),
    (RULE.format(id="a", day="2020-01-01").replace("kinds: [REVOKE_LICENCE]", "kinds: [NONE]"),
     "major_decisions.kinds must list penalty kinds"),
    (RULE.format(id="a", day="2020-01-01").replace("  fine_organisation_from_yuan: 500000\n", ""),
     "collective_discussion must be a mapping of exactly"),
    (RULE.format(id="a", day="2020-01-01").replace("fine_individual_from_yuan: 50000",
                                                   "fine_individual_from_yuan: 1e4"),
     "collective_discussion.fine_individual_from_yuan must be a whole number"),
    ("id: [", "not valid YAML"),
])
def test_a_malformed_rule_set_stops_the_service_naming_file_and_key(tmp_path, text, words):
    (tmp_path / "bad.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleDataError, match=words.replace("[", r"\[").replace("]", r"\]")):
        RuleBook.load(tmp_path)


def test_rule_sets_may_not_share_an_id_or_a_day(tmp_path):
    (tmp_path / "a.yaml").write_text(RULE.format(id="a", day="2020-01-01"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(RULE.format(id="a", day="2021-01-01"), encoding="utf-8")
    with pytest.raises(RuleDataError, match="share an id"):
        RuleBook.load(tmp_path)
    (tmp_path / "b.yaml").write_text(RULE.format(id="b", day="2020-01-01"), encoding="utf-8")
    with pytest.raises(RuleDataError, match="same day"):
        RuleBook.load(tmp_path)


def test_every_key_object_type_has_a_realistic_checklist():
    catalog = Catalog.load()
    today = dt.date(2026, 11, 2)
    for category in CATEGORIES:
        checklist = catalog.in_force(category, today)
        assert len(checklist.items) >= 7, category
        assert any(i.key for i in checklist.items) and any(not i.key for i in checklist.items), category
        assert {i.failure_outcome for i in checklist.items} <= set(FAILURE_OUTCOMES)
        assert any(i.failure_outcome == "CASE_LEAD" for i in checklist.items), category
        assert all("《" in i.legal_basis or i.legal_basis.startswith("GB") for i in checklist.items), category
    catering = catalog.in_force("CATERING", today)
    assert {"CAT-03", "CAT-05", "CAT-07", "CAT-08", "CAT-09"} <= {i.code for i in catering.items}
    assert "健康证明" in catering.item("CAT-03").text and "留样" in catering.item("CAT-09").text


def test_an_inspection_uses_the_version_in_force_on_its_day():
    catalog = Catalog.load()
    assert catalog.in_force("CATERING", dt.date(2024, 6, 30)).version == 1
    assert catalog.in_force("CATERING", dt.date(2024, 7, 1)).version == 2
    assert catalog.version("CATERING", 1).item("CAT-12") is None
    assert catalog.version("CATERING", 1).item("CAT-08").failure_outcome == "RECTIFICATION"
    assert catalog.version("CATERING", 2).item("CAT-08").failure_outcome == "CASE_LEAD"
    with pytest.raises(FailedPrecondition, match="first takes effect 2021-01-01"):
        catalog.in_force("BEAUTY_SALON", dt.date(2020, 6, 1))
    with pytest.raises(NotFound):
        catalog.version("PHARMACY", 3)


ITEM = "{code: AB-01, section: s, text: t, legal_basis: 《法》, key: true, failure_outcome: CASE_LEAD}"


@pytest.mark.parametrize(("body", "words"), [
    (f"category: CATERING\nlabel: 餐饮服务\ntitle: t\nversions:\n  - version: 2\n    effective_from: 2020-01-01\n"
     f"    items: [{ITEM}]\n", "numbered 1, 2, 3"),
    ("category: BAKERY\nlabel: x\ntitle: t\nversions: []\n", "unknown category"),
    ("category: CATERING\nlabel: 饭店\ntitle: t\nversions: []\n", "label of CATERING"),
    (f"category: CATERING\nlabel: 餐饮服务\ntitle: t\nversions:\n  - version: 1\n    effective_from: 2020-01-01\n"
     f"    items: [{ITEM.replace('CASE_LEAD', 'CLOSE_SHOP')}]\n", "failure_outcome must be"),
    (f"category: CATERING\nlabel: 餐饮服务\ntitle: t\nversions:\n  - version: 1\n    effective_from: 2020-01-01\n"
     f"    items: [{ITEM}, {ITEM}]\n", "codes must be unique"),
    (f"category: CATERING\nlabel: 餐饮服务\ntitle: t\nversions:\n  - version: 1\n    effective_from: 2020-01-01\n"
     f"    items: [{ITEM.replace('AB-01', 'first')}]\n", "code must look like"),
])
def test_a_malformed_checklist_stops_the_service_naming_the_entry(tmp_path, body, words):
    (tmp_path / "catering.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(RuleDataError, match=words):
        Catalog.load(tmp_path)


def test_a_catalogue_without_every_type_is_refused(tmp_path):
    (tmp_path / "catering.yaml").write_text(
        f"category: CATERING\nlabel: 餐饮服务\ntitle: t\nversions:\n  - version: 1\n    effective_from: 2020-01-01\n"
        f"    items: [{ITEM}]\n", encoding="utf-8")
    with pytest.raises(RuleDataError, match="no checklist for HYPERMARKET"):
        Catalog.load(tmp_path)
