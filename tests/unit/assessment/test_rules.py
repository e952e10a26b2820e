"""assessment's data files: the catalogue, the starting scheme, the grading and improvement rules,
and periods; each refused with the file and the entry named when it is wrong."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from services.assessment.domain import grading, improvement_rules, periods
from services.assessment.domain.catalogue import Catalogue, built_in_schemes
from services.common.errors import InvalidArgument
from services.common.rulebook import RuleDataError

CATALOGUE = Catalogue.load()


def test_the_starting_scheme_is_domain_md_s_catalogue():
    [starting] = built_in_schemes(CATALOGUE)
    scheme = starting.scheme
    assert (scheme.version, starting.effective_from) == (1, dt.date(2026, 1, 1))
    assert [(d.key, d.name) for d in scheme.dimensions] == [
        ("duties", "职责界定具体化"), ("facilities", "软硬设施规范化"), ("workflow", "工作流程精细化"),
        ("support", "保障机制科学化")]
    assert sum(d.weight for d in scheme.dimensions) == 100
    by_dimension = {d.key: [r.key for r in scheme.indicators if r.dimension == d.key] for d in scheme.dimensions}
    assert by_dimension["duties"] == ["command_center.duty_coverage", "command_center.group_staffing",
                                      "command_center.task_on_time"]
    assert by_dimension["support"] == ["command_center.certificates_valid", "emergency.drills_per_year",
                                       "assessment.improvement_plans_closed", "assessment.staff_assessed"]
    assert len(by_dimension["workflow"]) == 10 and len(by_dimension["facilities"]) == 4
    assert "complaints.backlog" not in {r.key for r in scheme.indicators}  # a count, not a ratio to score
    assert {r.source for r in scheme.indicators} == {"command_center", "facilities", "complaints",
                                                     "mobile_enforcement", "emergency", "assessment"}


def test_catalogue_ranges_follow_the_kind_of_indicator():
    assert CATALOGUE.ranges["command_center.task_on_time"] == (0.0, 1.0)
    assert CATALOGUE.ranges["emergency.drills_per_year"] == (0.0, 10.0)  # may exceed its target
    assert CATALOGUE.ranges["complaints.backlog"] == (0.0, 100000.0)
    assert CATALOGUE.name_of("assessment.staff_assessed") == "平时考核完成率"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


KINDS = "kinds: {ratio: [0, 1]}\n"


@pytest.mark.parametrize(("text", "words"), [
    ("indicators: {}\n", "expected kinds, indicators"),
    ("kinds: {ratio: [1, 0]}\nworkload_inputs: {entities: a, inspections: b, complaints: c, cases: d}\n"
     "indicators: {complaints.x: {name: n, kind: ratio}}\n", "each kind needs a range"),
    ("workload_inputs: {entities: a, inspections: b, complaints: c}\nindicators: {command_center.x: "
     "{name: n, kind: ratio}}\n", "workload_inputs must be"),
    ("workload_inputs: {entities: a, inspections: b, complaints: c, cases: d}\nindicators: {registry.x: "
     "{name: n, kind: ratio}}\n", "<service>.<name>"),
    ("workload_inputs: {entities: a, inspections: b, complaints: c, cases: d}\nindicators: {complaints.x: "
     "{name: n, kind: count}}\n", "range"),
    ("workload_inputs: {entities: a, inspections: b, complaints: c, cases: d}\nindicators: {complaints.x: "
     "{kind: ratio}}\n", "name is required"),
])
def test_a_bad_catalogue_is_refused_with_the_entry_named(tmp_path, text, words):
    with pytest.raises(RuleDataError, match=words):
        Catalogue.load(write(tmp_path, "catalogue.yaml", text if text.startswith("kinds") else KINDS + text))


def test_a_built_in_scheme_that_does_not_validate_stops_the_service(tmp_path):
    good = (Path(__file__).resolve().parents[3] / "services/assessment/schemes/scheme_v1.yaml").read_text("utf-8")
    write(tmp_path, "scheme_v1.yaml", good.replace("weight: 25}", "weight: 26}", 1))
    with pytest.raises(RuleDataError, match=r"scheme_v1\.yaml: scheme\.dimensions: weights sum to 101"):
        built_in_schemes(CATALOGUE, tmp_path)
    write(tmp_path, "scheme_v1.yaml", good.replace("version: 1", "version: 2"))
    with pytest.raises(RuleDataError, match="versions 1, 2"):
        built_in_schemes(CATALOGUE, tmp_path)


GRADING = """versions:
  - effective_from: 2026-01-01
    points: {TASK: {on_time: 3, late: 1}, INSPECTION: {on_time: 1, late: 0.5}, COMPLAINT: {on_time: 2, late: 0},
             CASE: {on_time: 4, late: 1}}
    grades: [{grade: GOOD, min_points: 30}, {grade: POOR, min_points: 0}]
    without_evidence: AVERAGE
    good_quota_share: 0.4
"""


def test_grading_rules_apply_by_the_date_in_force(tmp_path):
    later = GRADING + GRADING.split("\n", 1)[1].replace("2026-01-01", "2027-01-01").replace("0.4", "0.2")
    book = grading.load(write(tmp_path, "grading.yaml", later))
    assert book.in_force(dt.date(2026, 12, 31)).good_quota_share == 0.4
    assert book.effective_from(dt.date(2027, 3, 31)) == dt.date(2027, 1, 1)
    assert book.effective_from(dt.date(2020, 1, 1)) == dt.date(2026, 1, 1)  # before the first: the first


@pytest.mark.parametrize(("change", "words"), [
    (("CASE: {on_time: 4, late: 1}", ""), "points for each"),
    (("grade: GOOD", "grade: EXCELLENT"), "grade: one of"),
    (("{grade: POOR, min_points: 0}", "{grade: POOR, min_points: 3}"), "the last grade must take everyone"),
    (("{grade: POOR, min_points: 0}", "{grade: GOOD, min_points: 0}"), "listed twice"),
    (("good_quota_share: 0.4", "good_quota_share: 1.5"), "good_quota_share"),
    (("without_evidence: AVERAGE", "without_evidence: NONE"), "without_evidence"),
    (("effective_from: 2026-01-01", "effective_from: soon"), "effective_from must be a date"),
    (("late: 0.5", "late: -1"), "late"),
])
def test_bad_grading_rules_are_refused_with_the_entry_named(tmp_path, change, words):
    with pytest.raises(RuleDataError, match=words):
        grading.load(write(tmp_path, "grading.yaml", GRADING.replace(*change)))


def test_shipped_rule_files_load():
    assert grading.load().in_force(dt.date(2026, 9, 30)).quota(8) == 3
    policy = improvement_rules.load().in_force(dt.date(2026, 11, 2))
    assert policy.due_in_days <= policy.max_due_days


def test_improvement_policy_needs_a_due_date_within_its_maximum(tmp_path):
    text = "versions:\n  - {effective_from: 2026-01-01, due_in_days: 60, max_due_days: 30}\n"
    with pytest.raises(RuleDataError, match="max_due_days"):
        improvement_rules.load(write(tmp_path, "improvement.yaml", text))


@pytest.mark.parametrize(("key", "kind", "start", "end"), [
    ("2026-09", periods.MONTH, dt.date(2026, 9, 1), dt.date(2026, 9, 30)),
    ("2024-02", periods.MONTH, dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
    ("2026-12", periods.MONTH, dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
    ("2026-Q3", periods.QUARTER, dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
    ("2026-Q4", periods.QUARTER, dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
    ("2026", periods.YEAR, dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
])
def test_periods(key, kind, start, end):
    period = periods.parse(key)
    assert (period.kind, period.start, period.end) == (kind, start, end)


def test_a_period_ends_at_midnight_shanghai():
    assert periods.parse("2026-09").cutoff == dt.datetime(2026, 9, 30, 16, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("key", ["2026-13", "2026-00", "2026-Q5", "2026Q3", "26", "1999", "abc", ""])
def test_bad_periods_are_invalid_argument(key):
    with pytest.raises(InvalidArgument) as raised:
        periods.parse(key)
    assert raised.value.violations[0].field == "period"


def test_quarters():
    assert periods.last_ended_quarter(dt.date(2026, 11, 2)).key == "2026-Q3"
    assert periods.last_ended_quarter(dt.date(2026, 1, 1)).key == "2025-Q4"
    with pytest.raises(InvalidArgument):
        periods.parse_quarter("2026-09")
