"""Grading an incident I-IV from its counts, by the rules of its type.

One generic engine for every type: the most severe level with a criterion met wins, and the
grading names the criteria that decided it, so an officer can see why and a reviewer can check it.
Reach is made hierarchical first (an incident in two provinces is in two cities and two counties).
A type with its own outcome below level IV is never graded IV by default: meeting no criterion, it
is below level IV (or not an accident at all) and gets that outcome's handling.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.emergency.domain.rules import BELOW_IV, GRADED, LEVELS, TypeRules, more_severe

DEFAULT_CRITERION = "DEFAULT"
ESCALATION_CRITERION = "ESCALATION"


@dataclass(frozen=True)
class Reason:
    """A criterion that decided a level, in the words an officer reads."""

    level: str
    criterion: str
    text: str

    def to_data(self) -> dict[str, str]:
        """The reason as the incident stores it."""
        return {"level": self.level, "criterion": self.criterion, "text": self.text}


@dataclass(frozen=True)
class Grading:
    """A level (I-IV, or BELOW_IV), what that outcome is, and the reasons that decided it."""

    level: str
    reasons: tuple[Reason, ...]
    outcome: str = GRADED
    # The handling below level IV (its id in the rule set); empty for a graded incident.
    handling: str = ""


def grade(rules: TypeRules, counts: Mapping[str, float], circumstances: frozenset[str]) -> Grading:
    """The most severe level whose criteria the counts and circumstances meet (分级), else below IV or the default."""
    present = rules.with_implied(circumstances)
    reached = rules.reached(counts)
    for level in LEVELS:
        met = [c for c in rules.criteria if c.level == level and c.holds(reached, present)]
        if met:
            return Grading(level, tuple(Reason(level, c.id, c.text) for c in met))
    below = rules.below_level_iv
    if below is not None:
        handling = below.handling_for(present)
        return Grading(BELOW_IV, (Reason(BELOW_IV, handling.id, f"{below.label}：{handling.text}"),),
                       below.outcome, handling.id)
    assert rules.default_level is not None  # the rule file gives one or the other
    return Grading(rules.default_level, (Reason(rules.default_level, DEFAULT_CRITERION,
                                                "未达到任何分级标准，按该类事件的默认等级处置"),))


def with_escalation(grading: Grading, escalated_level: str | None, reason: str) -> Grading:
    """The level an officer set, when it is above what the criteria give; else the criteria's."""
    if escalated_level is None or not more_severe(escalated_level, grading.level):
        return grading
    return Grading(escalated_level, (Reason(escalated_level, ESCALATION_CRITERION, reason), *grading.reasons))
