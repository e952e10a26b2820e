"""Grades from evidence: points by the rules, the late-share limits, the quota of the top grade."""

from __future__ import annotations

from services.assessment.domain import evidence, grading
from services.assessment.domain.grading import AVERAGE, FAIRLY_GOOD, GOOD, POOR, GradeRule, GradingRules, Item

RULES = GradingRules(
    points={evidence.TASK: (3, 1), evidence.INSPECTION: (1, 0.5), evidence.COMPLAINT: (2, 0), evidence.CASE: (4, 1)},
    grades=(GradeRule(GOOD, 30, 0.1), GradeRule(FAIRLY_GOOD, 15, 0.25), GradeRule(AVERAGE, 5), GradeRule(POOR, 0)),
    without_evidence=AVERAGE, good_quota_share=0.4)


def items(kind: str, on_time: int, late: int = 0, unknown: int = 0) -> list[Item]:
    return [Item(kind, True)] * on_time + [Item(kind, False)] * late + [Item(kind, None)] * unknown


def grades(proposals) -> dict[str, tuple[str, float]]:
    return {p.officer_id: (p.grade, p.points) for p in proposals}


def test_points_and_grades_follow_the_rules():
    proposals = grading.propose({
        "a": items(evidence.CASE, 8),  # 32 -> GOOD
        "b": items(evidence.INSPECTION, 10, unknown=6),  # 16: an unknown deadline counts as on time
        "c": items(evidence.TASK, 1, late=1),  # 3 + 1 = 4 -> POOR
        "d": [],
    }, RULES)
    assert grades(proposals) == {"a": (GOOD, 32), "b": (FAIRLY_GOOD, 16), "c": (POOR, 4), "d": (AVERAGE, 0)}
    assert next(p for p in proposals if p.officer_id == "d").explanation.startswith("no work recorded")


def test_too_many_late_items_keep_an_officer_from_the_top_grades():
    # a: 9 cases on time and 2 late, 36 + 2 = 38 points, but 2 of 11 late (18 %) is over GOOD's 10 %.
    # b: 3 on time and 3 late, 12 + 3 = 15 points, but 50 % late is over FAIRLY_GOOD's 25 %.
    proposals = grading.propose({"a": items(evidence.CASE, 9, late=2), "b": items(evidence.CASE, 3, late=3)}, RULES)
    assert grades(proposals) == {"a": (FAIRLY_GOOD, 38), "b": (AVERAGE, 15)}
    assert "2 late (18%)" in proposals[0].explanation


def test_the_quota_keeps_the_highest_points_and_breaks_ties_by_fewer_late_items():
    # Five officers: the quota is 40 % of 5 = 2. Four qualify for GOOD by points.
    proposals = grading.propose({
        "a": items(evidence.CASE, 8),  # 32
        "b": items(evidence.CASE, 9),  # 36
        "c": items(evidence.TASK, 10) + items(evidence.CASE, 0, late=2),  # 30 + 2 = 32, 2 of 12 late: FAIRLY_GOOD
        "d": items(evidence.CASE, 8, late=0) + items(evidence.INSPECTION, 0, late=0),  # 32, ties with a
        "e": [],
    }, RULES)
    result = grades(proposals)
    assert result["b"] == (GOOD, 36)
    assert result["a"] == (GOOD, 32)  # a and d tie on points and lateness: the officer id decides
    assert result["d"] == (FAIRLY_GOOD, 32)
    assert result["c"][0] == FAIRLY_GOOD
    assert "quota (2 of 5)" in next(p for p in proposals if p.officer_id == "d").explanation


def test_the_quota_is_rounded_down_but_never_below_one():
    assert [RULES.quota(n) for n in (0, 1, 2, 3, 5, 8, 10)] == [0, 1, 1, 1, 2, 3, 4]
