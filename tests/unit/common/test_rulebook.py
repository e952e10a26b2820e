import datetime as dt
import re
from dataclasses import dataclass

import pytest

from services.common.rulebook import (
    RuleBook,
    RuleDataError,
    Version,
    VersionedRules,
    load_rule_sets,
    number,
    read_document,
    read_rule_set,
    required,
)


@dataclass(frozen=True)
class Rules:
    id: str
    effective_from: dt.date
    limit: int


def book(*rule_sets: Rules) -> RuleBook[Rules]:
    return RuleBook("test", rule_sets, effective_from=lambda r: r.effective_from, rule_id=lambda r: r.id)


ORDER_20 = Rules("order-20", dt.date(2020, 1, 1), 7)
ORDER_121 = Rules("order-121", dt.date(2026, 4, 15), 5)


@pytest.mark.parametrize(("day", "expected"), [
    (dt.date(2019, 12, 31), None),
    (dt.date(2020, 1, 1), ORDER_20),
    (dt.date(2026, 4, 14), ORDER_20),
    (dt.date(2026, 4, 15), ORDER_121),
    (dt.date(2030, 1, 1), ORDER_121),
])
def test_the_set_in_force_is_the_latest_effective_on_or_before_the_day(day, expected):
    assert book(ORDER_121, ORDER_20).in_force(day) == expected


def test_sets_are_found_by_id_and_the_earliest_is_known():
    rules = book(ORDER_121, ORDER_20)
    assert rules.get("order-121") == ORDER_121 and rules.get("order-99") is None
    assert rules.earliest == ORDER_20 and rules.first_effective == dt.date(2020, 1, 1)


@pytest.mark.parametrize(("rule_sets", "problem"), [
    ((), "no rule sets"),
    ((ORDER_20, Rules("other", ORDER_20.effective_from, 3)), "same day"),
    ((ORDER_20, Rules("order-20", dt.date(2021, 1, 1), 3)), "share an id"),
])
def test_inconsistent_rule_data_is_refused(rule_sets, problem):
    with pytest.raises(RuleDataError, match=problem):
        book(*rule_sets)


def test_before_the_first_set_the_earliest_is_applicable():
    rules = book(ORDER_121, ORDER_20)
    assert rules.applicable(dt.date(2019, 1, 1)) == ORDER_20
    assert rules.applicable(dt.date(2026, 4, 15)) == ORDER_121


VERSIONS = """versions:
  - {effective_from: 2026-07-01, limit: 5}
  - {effective_from: 2026-01-01, limit: 7}
"""


def parse_limit(entry, where):
    return int(number(entry, "limit", where, low=1, high=10))


def write(tmp_path, text, name="limits.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_versions_of_one_file_apply_by_date_and_the_earliest_before_them(tmp_path):
    versions = VersionedRules.load(write(tmp_path, VERSIONS), parse_limit)
    assert [v.effective_from for v in versions.versions] == [dt.date(2026, 1, 1), dt.date(2026, 7, 1)]
    assert versions.in_force(dt.date(2026, 6, 30)) == 7 and versions.in_force(dt.date(2026, 7, 1)) == 5
    assert versions.version(dt.date(2020, 1, 1)) == Version(dt.date(2026, 1, 1), 7)
    assert versions.effective_from(dt.date(2027, 1, 1)) == dt.date(2026, 7, 1)


@pytest.mark.parametrize(("text", "named"), [
    ("versions: [", "limits.yaml: cannot read, not valid YAML"),
    ("[1, 2]", "limits.yaml: must be a mapping"),
    ("limit: 5", "limits.yaml: expected a list of versions"),
    ("versions: [{limit: 5}]", "limits.yaml: versions[0]: effective_from must be a date"),
    ("versions: [{effective_from: 2026-01-01 10:00:00, limit: 5}]", "versions[0]: effective_from must be a date"),
    ("versions: [{effective_from: 2026-01-01, limit: 5}, {effective_from: 2026-01-01, limit: 6}]",
     "versions[1]: a second version effective from 2026-01-01"),
    ("versions: [{effective_from: 2026-01-01, limit: 11}]", "versions[0].limit: a number in [1, 10] is required"),
    ("versions: [{effective_from: 2026-01-01, limit: .inf}]", "versions[0].limit"),
    ("versions: [{effective_from: 2026-01-01, limit: true}]", "versions[0].limit"),
])
def test_a_bad_versions_file_is_refused_naming_the_file_and_field(tmp_path, text, named):
    with pytest.raises(RuleDataError, match=re.escape(named)):
        VersionedRules.load(write(tmp_path, text), parse_limit)


def test_a_missing_file_is_refused_naming_it(tmp_path):
    with pytest.raises(RuleDataError, match=r"absent\.yaml: cannot read"):
        read_document(tmp_path / "absent.yaml")


def test_required_fields_have_their_type_and_a_flag_is_no_number():
    assert required({"n": 3}, "n", int, "f") == 3
    for entry in ({}, {"n": "3"}, {"n": True}):
        with pytest.raises(RuleDataError, match=r"f\.n: missing or of the wrong type"):
            required(entry, "n", int, "f")
    assert required({"b": False}, "b", bool, "f") is False


@dataclass(frozen=True)
class FileRules:
    id: str
    effective_from: dt.date
    confirmed: bool


def read_file_rules(path):
    document = read_rule_set(path, {"id", "effective_from", "confirmed"})
    return FileRules(str(document["id"]), document["effective_from"], document["confirmed"])


def test_a_directory_of_rule_files_is_one_book(tmp_path):
    write(tmp_path, "id: old\neffective_from: 2020-01-01\nconfirmed: true\n", "old.yaml")
    write(tmp_path, "id: new\neffective_from: 2026-04-15\nconfirmed: false\n", "new.yaml")
    rules = load_rule_sets("test rules", tmp_path, read_file_rules)
    assert rules.in_force(dt.date(2026, 4, 14)).id == "old" and not rules.get("new").confirmed


@pytest.mark.parametrize(("text", "named"), [
    ("id: a\neffective_from: 2020-01-01\n", "a.yaml: unknown keys [], missing keys ['confirmed']"),
    ("id: a\neffective_from: 2020-01-01\nconfirmed: true\nextra: 1\n", "unknown keys ['extra']"),
    ("id: a\neffective_from: someday\nconfirmed: true\n", "a.yaml: effective_from must be a date"),
    ("id: a\neffective_from: 2020-01-01\nconfirmed: maybe\n", "a.yaml: confirmed must be true or false"),
])
def test_a_bad_rule_file_is_refused_naming_it(tmp_path, text, named):
    write(tmp_path, text, "a.yaml")
    with pytest.raises(RuleDataError, match=re.escape(named)):
        load_rule_sets("test rules", tmp_path, read_file_rules)
