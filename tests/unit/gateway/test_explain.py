"""Every point lost, explained: the indicators' losses add up to what the index lacks of 100."""

from __future__ import annotations

import pytest

from services.common import scoring
from services.gateway.domain.explain import explain_office
from services.gateway.domain.schemes import load_starting_scheme

VALUES = {
    "command_center.duty_coverage": (9, 10), "command_center.group_staffing": (4, 4),
    "command_center.task_on_time": (1, 4), "command_center.certificates_valid": (7, 8),
    "facilities.rooms_compliant": (10, 10), "facilities.four_unified": (3, 4),
    "complaints.acceptance_on_time": (0, 0),  # missing: its weight goes to the others
    "emergency.drills_per_year": (1, 1),
}


def test_losses_add_up_to_what_the_index_lacks():
    starting = load_starting_scheme()
    score = scoring.score_office(starting.scheme, "MH01", VALUES)
    explained = explain_office(score, starting.scheme, dict(starting.names))
    assert sum(e.index_points_lost for e in explained) == pytest.approx(100 - score.index)
    assert all(e.index_points_lost == 0 for e in explained if e.score.status == scoring.MISSING)


def test_each_status_is_explained_in_chinese():
    starting = load_starting_scheme()
    score = scoring.score_office(starting.scheme, "MH01", VALUES)
    text = {e.score.key: e.explanation_zh for e in explain_office(score, starting.scheme, dict(starting.names))}
    assert text["command_center.group_staffing"] == "100.0%，达到目标 100.0%：得满分 30 分"
    assert text["command_center.duty_coverage"] == "90.0%，目标 100.0%，完成目标的 90%：扣 3.50 分（满分 35 分）"
    assert text["command_center.task_on_time"] == "25.0%，低于目标 95.0% 的 50%：35 分全部扣除"
    assert text["complaints.acceptance_on_time"].startswith("暂无数据")


def test_a_lower_is_better_indicator_is_explained_as_such():
    rule = scoring.IndicatorRule("complaints.backlog", "workflow", 100, target=2, direction=scoring.LOWER)
    scheme = scoring.Scheme(1, "2026-01-01", (scoring.Dimension("workflow", "工作流程精细化", 100),), (rule,))
    score = scoring.score_office(scheme, "MH01", {"complaints.backlog": (9, 1)})
    [explained] = explain_office(score, scheme)
    assert explained.explanation_zh == "9，超出目标 2 所允许的范围：100 分全部扣除"
    assert explained.index_points_lost == pytest.approx(100)
