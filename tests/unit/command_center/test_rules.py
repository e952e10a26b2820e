"""The bureau's supervision policy: what ships, and a bad file refused with the key named."""

from __future__ import annotations

import datetime as dt

import pytest

from services.command_center.domain.rules import POLICY_FILE, load_policy
from services.common.rulebook import RuleDataError


def test_the_shipped_policy_supervises_overdue_complaints_and_cases_and_serious_incidents():
    policy = load_policy()
    assert policy.effective_from == dt.date(2026, 1, 1)
    assert (policy.overdue_complaint.title, policy.overdue_complaint.due_in_working_days) == \
        ("督办：投诉举报办理超期", 3)
    assert (policy.overdue_case.title, policy.overdue_case.due_in_working_days) == ("督办：案件办理超期", 3)
    assert policy.incident_levels == {"I", "II", "III"}
    assert (policy.incident.title, policy.incident.due_in_working_days) == ("督办：突发事件处置", 2)


@pytest.mark.parametrize(("change", "named"), [
    (("due_in_working_days: 3", "due_in_working_days: 0"), "overdue_items.complaints.ComplaintOverdue"),
    (("due_in_working_days: 2", "due_in_working_days: two"), "incidents.due_in_working_days"),
    (("levels: [I, II, III]", "levels: [I, V]"), "incidents.levels"),
    (("complaints.ComplaintOverdue:", "complaints.Overdue:"), "overdue_items must give exactly"),
    (("mobile_enforcement.CaseOverdue:", "mobile_enforcement.Overdue:"), "mobile_enforcement.CaseOverdue"),
    (('title: "督办：案件办理超期"', 'title: " "'), "overdue_items.mobile_enforcement.CaseOverdue"),
    (("effective_from: 2026-01-01", "effective_from: soon"), "effective_from must be a date"),
    (("incidents:", "incident:"), "unknown keys ['incident'], missing keys ['incidents']"),
])
def test_a_bad_policy_is_refused_naming_the_key(tmp_path, change, named):
    path = tmp_path / "supervision_policy.yaml"
    path.write_text(POLICY_FILE.read_text(encoding="utf-8").replace(*change), encoding="utf-8")
    with pytest.raises(RuleDataError) as raised:
        load_policy(path)
    assert named in str(raised.value) and "supervision_policy.yaml" in str(raised.value)
