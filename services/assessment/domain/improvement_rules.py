"""The bureau's policy for improvement plans (整改, rules/improvement.yaml), by effective date."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.common.rulebook import VersionedRules, number

RULES_FILE = Path(__file__).resolve().parent.parent / "rules" / "improvement.yaml"


@dataclass(frozen=True)
class ImprovementPolicy:
    """How long an office has to carry out an improvement plan (整改期限)."""

    # Days from the closing day to a new plan's due date, and the latest an office may set.
    due_in_days: int
    max_due_days: int


def _parse(entry: dict[str, Any], where: str) -> ImprovementPolicy:
    due = int(number(entry, "due_in_days", where, low=1, high=366))
    latest = int(number(entry, "max_due_days", where, low=due, high=3 * 366))
    return ImprovementPolicy(due, latest)


def load(path: Path = RULES_FILE) -> VersionedRules[ImprovementPolicy]:
    """The improvement policy's versions; RuleDataError naming the entry when one is wrong."""
    return VersionedRules.load(path, _parse)
