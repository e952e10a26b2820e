"""The rule book: versions by effective date, plans per level, and malformed rule files refused
with the file and the place named."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml

from services.emergency.domain.rules import RULES_DIR, NoRuleSet, RuleBook, RuleDataError

SHIPPED = yaml.safe_load((RULES_DIR / "2020-01-01.yaml").read_text(encoding="utf-8"))
# The December 2026 set: hierarchical reach and outcomes below level IV.
REVISED = yaml.safe_load((RULES_DIR / "2026-12-07.yaml").read_text(encoding="utf-8"))


def write(directory: Path, document: dict, name: str | None = None) -> Path:
    path = directory / (name or f"{document['effective_from']}.yaml")
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def test_the_rule_set_in_force_on_a_day_is_the_latest_effective_by_then(tmp_path):
    revised = copy.deepcopy(SHIPPED)
    revised["effective_from"] = dt.date(2026, 7, 1)
    revised["drills"]["per_office_per_year"] = 4
    revised["types"]["FOOD_SAFETY"]["plan"][0]["due_hours"] = 1
    write(tmp_path, SHIPPED)
    write(tmp_path, revised)
    book = RuleBook.load(tmp_path)
    assert book.in_force(dt.date(2026, 6, 30)).drills_per_office_per_year == 2
    assert book.in_force(dt.date(2026, 7, 1)).drills_per_office_per_year == 4
    assert book.get("2020-01-01").types["FOOD_SAFETY"].plan[0].due["IV"] == dt.timedelta(hours=2)
    assert book.get("2026-07-01").types["FOOD_SAFETY"].plan[0].due["IV"] == dt.timedelta(hours=1)
    with pytest.raises(NoRuleSet):
        book.in_force(dt.date(2019, 12, 31))
    with pytest.raises(NoRuleSet):
        book.get("2025-01-01")


def test_statutory_report_limits_of_the_shipped_plans():
    rules = RuleBook.load().in_force(dt.date(2026, 11, 2))
    for incident_type, hours in (("FOOD_SAFETY", 2), ("SPECIAL_EQUIPMENT", 1)):
        report = rules.types[incident_type].plan_for("IV")[0]
        assert (report.code, report.kind, report.due["IV"]) == ("REPORT", "NOTIFICATION", dt.timedelta(hours=hours))


def test_a_higher_level_plan_requires_more_actions():
    food = RuleBook.load().in_force(dt.date(2026, 11, 2)).types["FOOD_SAFETY"]
    level_iv = {a.code for a in food.plan_for("IV")}
    level_iii = {a.code for a in food.plan_for("III")}
    assert level_iv < level_iii
    assert level_iii - level_iv == {"REPORT_UPWARD", "INFORM_PUBLIC"}


def _broken(change) -> dict:
    document = copy.deepcopy(SHIPPED)
    change(document)
    return document


def _food(document) -> dict:
    return document["types"]["FOOD_SAFETY"]


MALFORMED = [
    (lambda d: d.pop("effective_from"), "effective_from"),
    (lambda d: d["types"].pop("PRODUCT_QUALITY"), "missing PRODUCT_QUALITY"),
    (lambda d: d["types"].update(TRAFFIC={}), "unknown keys TRAFFIC"),
    (lambda d: _food(d).update(default_level="V"), "types.FOOD_SAFETY.default_level"),
    (lambda d: _food(d)["grading"]["III"][1]["when"].update(ill_count=-5), "grading.III[1].when.ill_count"),
    (lambda d: _food(d)["grading"]["III"][1]["when"].update(ill_cnt=100), "unknown keys ill_cnt"),
    (lambda d: _food(d)["grading"]["II"][1].update(circumstances=["aliens"]), "unknown circumstances aliens"),
    (lambda d: _food(d)["grading"]["IV"].append({"id": "FS-IV-ill", "text": "again", "when": {"ill_count": 2}}),
     "criterion ids used twice: FS-IV-ill"),
    (lambda d: _food(d)["grading"]["IV"].append({"id": "FS-IV-empty", "text": "nothing"}),
     "needs `when` thresholds or circumstances"),
    (lambda d: _food(d)["plan"][0].update(due_hours=0), "plan[0].due_hours.I"),
    (lambda d: _food(d)["plan"][1].update(due_hours={"V": 1}), "unknown level 'V'"),
    (lambda d: _food(d)["plan"][1].update(kind="paperwork"), "plan[1].kind"),
    (lambda d: _food(d)["plan"].pop(0), "level IV has no notification action"),
    (lambda d: _food(d)["circumstances"]["especially_serious_harm"].update(implies=["nothing"]),
     "unknown circumstances nothing"),
    (lambda d: d["drills"].update(per_office_per_year="two"), "drills.per_office_per_year"),
]


@pytest.mark.parametrize(("change", "message"), MALFORMED, ids=[message for _, message in MALFORMED])
def test_malformed_rule_files_are_refused_with_the_place_named(tmp_path, change, message):
    path = write(tmp_path, _broken(change), "rules.yaml")
    with pytest.raises(RuleDataError) as raised:
        RuleBook.load(tmp_path)
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_two_rule_sets_on_one_day_and_an_empty_book_are_refused(tmp_path):
    write(tmp_path, SHIPPED, "a.yaml")
    write(tmp_path, SHIPPED, "b.yaml")
    with pytest.raises(RuleDataError, match="same day"):
        RuleBook.load(tmp_path)
    with pytest.raises(RuleDataError, match="no rule sets"):
        RuleBook.load(tmp_path / "empty")


def _revised(change) -> dict:
    document = copy.deepcopy(REVISED)
    change(document)
    return document


def _below(document) -> dict:
    return _food(document)["below_level_iv"]


MALFORMED_REVISED = [
    (lambda d: _food(d).update(default_level="IV"), "either default_level or below_level_iv"),
    (lambda d: _below(d).update(outcome="FINE"), "below_level_iv.outcome"),
    (lambda d: _below(d)["handlings"].reverse(), "the last handling must name no circumstances"),
    (lambda d: _below(d)["handlings"][0].update(circumstances=["aliens"]), "unknown circumstances aliens"),
    (lambda d: _below(d)["handlings"][0]["plan"][0].update(due_hours={"IV": 2}), "must be one number of hours"),
    (lambda d: _below(d)["handlings"][1].update(plan=[]), "handlings[1].plan"),
    (lambda d: d["reach"].update(counties_reached=["provinces_reached"]), "must not lead back"),
    (lambda d: d["reach"].update(provinces_reached=["planets_reached"]), "unknown count fields planets_reached"),
    (lambda d: d["types"]["SPECIAL_EQUIPMENT"].update(unit_report_hours=0), "SPECIAL_EQUIPMENT.unit_report_hours"),
]


@pytest.mark.parametrize(("change", "message"), MALFORMED_REVISED, ids=[m for _, m in MALFORMED_REVISED])
def test_malformed_reach_and_below_level_iv_are_refused_with_the_place_named(tmp_path, change, message):
    path = write(tmp_path, _revised(change), "rules.yaml")
    with pytest.raises(RuleDataError) as raised:
        RuleBook.load(tmp_path)
    assert str(path) in str(raised.value) and message in str(raised.value)


def test_the_revised_set_applies_from_its_effective_day_and_the_old_one_before():
    book = RuleBook.load()
    assert book.in_force(dt.date(2026, 12, 6)).types["FOOD_SAFETY"].below_level_iv is None
    assert book.in_force(dt.date(2026, 12, 7)).types["FOOD_SAFETY"].below_level_iv is not None
