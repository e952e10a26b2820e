"""The bureau's supervision policy (督办): which overdue items and incidents reported elsewhere become
supervision tasks for the office, and how many working days the office gets.

Bureau policy, not statute: the bureau edits rules/supervision_policy.yaml and a change applies to events
handled after the process restarts. The file is read through services.common.rulebook and checked
at start, so a typo stops the service with the file and the key named instead of failing on the
first overdue complaint.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from services.common.rulebook import RuleDataError, effective_date, read_document, required

POLICY_FILE = Path(__file__).resolve().parent.parent / "rules" / "supervision_policy.yaml"

# The overdue notices command_center subscribes to, as the file names them (<service>.<event>).
COMPLAINT_OVERDUE = "complaints.ComplaintOverdue"
CASE_OVERDUE = "mobile_enforcement.CaseOverdue"
OVERDUE_ITEMS = (COMPLAINT_OVERDUE, CASE_OVERDUE)
INCIDENT_LEVELS = ("I", "II", "III", "IV")
_TOP_KEYS = {"effective_from", "overdue_items", "incidents"}


@dataclass(frozen=True)
class Supervision:
    """One kind of supervision task: the title it is raised with and the working days the office gets."""

    title: str
    due_in_working_days: int


@dataclass(frozen=True)
class SupervisionPolicy:
    """The supervision policy in force: overdue complaints and cases, and incidents of the supervised levels."""

    effective_from: dt.date
    overdue_complaint: Supervision
    overdue_case: Supervision
    # Incidents of these levels (as reported, or re-graded into them) are supervised; one task each.
    incident_levels: frozenset[str]
    incident: Supervision


def load_policy(path: Path = POLICY_FILE) -> SupervisionPolicy:
    """Reads and checks the policy file; RuleDataError naming the file and the key when it is wrong."""
    name = path.name
    document = read_document(path)
    unknown, missing = sorted(map(str, set(document) - _TOP_KEYS)), sorted(_TOP_KEYS - set(document))
    if unknown or missing:
        raise RuleDataError(f"{name}: unknown keys {unknown}, missing keys {missing}")
    effective_from = effective_date(document["effective_from"], name)
    overdue = document["overdue_items"]
    if not isinstance(overdue, dict) or set(overdue) != set(OVERDUE_ITEMS):
        raise RuleDataError(f"{name}: overdue_items must give exactly {', '.join(OVERDUE_ITEMS)} (the overdue "
                            "notices command_center handles)")
    incidents = document["incidents"]
    if not isinstance(incidents, dict):
        raise RuleDataError(f"{name}: incidents must be a mapping")
    levels = required(incidents, "levels", list, f"{name}: incidents")
    if not set(levels) <= set(INCIDENT_LEVELS):
        raise RuleDataError(f"{name}: incidents.levels: each one of {', '.join(INCIDENT_LEVELS)}")
    return SupervisionPolicy(
        effective_from=effective_from,
        overdue_complaint=_supervision(overdue[COMPLAINT_OVERDUE], f"{name}: overdue_items.{COMPLAINT_OVERDUE}"),
        overdue_case=_supervision(overdue[CASE_OVERDUE], f"{name}: overdue_items.{CASE_OVERDUE}"),
        incident_levels=frozenset(levels), incident=_supervision(incidents, f"{name}: incidents"))


def _supervision(entry: object, place: str) -> Supervision:
    if not isinstance(entry, dict):
        raise RuleDataError(f"{place}: must be a mapping")
    title = required(entry, "title", str, place)
    days = required(entry, "due_in_working_days", int, place)
    if not title.strip() or days <= 0:
        raise RuleDataError(f"{place}: needs a title and due_in_working_days > 0")
    return Supervision(title, days)
