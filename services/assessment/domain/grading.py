"""Officers' routine assessment (平时考核): points from the quarter's evidence, a grade by the
rules, and the quota of the top grade (rules/staff_grading.yaml, by effective date)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.assessment.domain.evidence import KINDS
from services.common.rulebook import RuleDataError, VersionedRules, number

RULES_FILE = Path(__file__).resolve().parent.parent / "rules" / "staff_grading.yaml"

GOOD, FAIRLY_GOOD, AVERAGE, POOR = "GOOD", "FAIRLY_GOOD", "AVERAGE", "POOR"
LABELS = {GOOD: "好", FAIRLY_GOOD: "较好", AVERAGE: "一般", POOR: "较差"}


@dataclass(frozen=True)
class GradeRule:
    """A grade and what earns it: at least `min_points`, at most `max_late_share` of the work late."""

    grade: str
    min_points: float
    max_late_share: float = 1.0


@dataclass(frozen=True)
class GradingRules:
    """One version of the grading rules: points per piece of work, the grades in order, the GOOD (好) quota."""

    points: dict[str, tuple[float, float]]  # evidence kind -> (on time, late)
    grades: tuple[GradeRule, ...]  # the first one an officer meets applies
    without_evidence: str
    good_quota_share: float

    def quota(self, officers: int) -> int:
        """How many of an office's officers may be graded GOOD: the share rounded down, at least one."""
        return max(1, math.floor(self.good_quota_share * officers + 1e-9)) if officers else 0


@dataclass(frozen=True)
class Item:
    """A piece of an officer's work as grading sees it: its kind and whether it was on time."""

    kind: str
    on_time: bool | None


@dataclass(frozen=True)
class Proposal:
    """The grade the rules propose for an officer, with the points and counts behind it, in words."""

    officer_id: str
    grade: str
    points: float
    count: int
    late: int
    explanation: str


def points_of(item: Item, rules: GradingRules) -> float:
    """The points a piece of work earns, on time or late (work without a clock counts as on time)."""
    on_time, late = rules.points[item.kind]
    return late if item.on_time is False else on_time


def propose(evidence_by_officer: Mapping[str, Iterable[Item]], rules: GradingRules) -> list[Proposal]:
    """A grade for each officer; when more officers earn GOOD than the quota allows, the highest
    points keep it (fewer late items, then officer id, break ties) and the others get FAIRLY_GOOD."""
    proposals = [_by_rules(officer_id, list(items), rules) for officer_id, items in evidence_by_officer.items()]
    quota = rules.quota(len(proposals))
    good = sorted((p for p in proposals if p.grade == GOOD), key=lambda p: (-p.points, p.late, p.officer_id))
    demoted = {p.officer_id for p in good[quota:]}
    result = []
    for proposal in proposals:
        if proposal.officer_id in demoted:
            proposal = Proposal(proposal.officer_id, FAIRLY_GOOD, proposal.points, proposal.count, proposal.late,
                                f"{proposal.explanation}; the {LABELS[GOOD]} quota ({quota} of {len(proposals)}) "
                                f"went to officers with more points: {LABELS[FAIRLY_GOOD]}")
        result.append(proposal)
    return sorted(result, key=lambda p: p.officer_id)


def _by_rules(officer_id: str, items: list[Item], rules: GradingRules) -> Proposal:
    if not items:
        return Proposal(officer_id, rules.without_evidence, 0.0, 0, 0,
                        f"no work recorded in the quarter: {LABELS[rules.without_evidence]}")
    points = sum(points_of(item, rules) for item in items)
    late = sum(1 for item in items if item.on_time is False)
    share = late / len(items)
    summary = f"{points:g} points from {len(items)} items, {late} late ({share:.0%})"
    for rule in rules.grades:
        if points >= rule.min_points and share <= rule.max_late_share:
            return Proposal(officer_id, rule.grade, points, len(items), late, f"{summary}: {LABELS[rule.grade]}")
    raise AssertionError("the rules end with a grade for 0 points")  # checked when they are loaded


def _parse(entry: dict[str, Any], where: str) -> GradingRules:
    points_table = entry.get("points")
    if not isinstance(points_table, dict) or set(points_table) != set(KINDS):
        raise RuleDataError(f"{where}.points: points for each of {', '.join(KINDS)} are required")
    points = {}
    for kind, values in points_table.items():
        if not isinstance(values, dict):
            raise RuleDataError(f"{where}.points.{kind}: on_time and late are required")
        points[kind] = (number(values, "on_time", f"{where}.points.{kind}"),
                        number(values, "late", f"{where}.points.{kind}"))
    raw_grades = entry.get("grades")
    if not isinstance(raw_grades, list) or not raw_grades:
        raise RuleDataError(f"{where}.grades: a list is required")
    grades = []
    for index, raw in enumerate(raw_grades):
        place = f"{where}.grades[{index}]"
        if not isinstance(raw, dict) or raw.get("grade") not in LABELS:
            raise RuleDataError(f"{place}.grade: one of {', '.join(LABELS)} is required")
        share = number(raw, "max_late_share", place, high=1.0) if "max_late_share" in raw else 1.0
        grades.append(GradeRule(raw["grade"], number(raw, "min_points", place), share))
    if len({g.grade for g in grades}) != len(grades):
        raise RuleDataError(f"{where}.grades: a grade is listed twice")
    if grades[-1].min_points != 0 or grades[-1].max_late_share != 1.0:
        raise RuleDataError(f"{where}.grades: the last grade must take everyone (min_points 0, no late limit)")
    without = entry.get("without_evidence")
    if without not in LABELS:
        raise RuleDataError(f"{where}.without_evidence: one of {', '.join(LABELS)} is required")
    share = number(entry, "good_quota_share", where, high=1.0)
    return GradingRules(points, tuple(grades), without, share)


def load(path: Path = RULES_FILE) -> VersionedRules[GradingRules]:
    """The grading rules' versions by effective date (rules/staff_grading.yaml), checked on loading."""
    return VersionedRules.load(path, _parse)
