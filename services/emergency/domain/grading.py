"""Grading an incident I-IV from its counts, by the rules of its type.

One generic engine for every type: the most severe level with a criterion met wins, and the
grading names the criteria that decided it, so an officer can see why and a reviewer can check it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.emergency.domain.rules import LEVELS, TypeRules, more_severe

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
    """A level (I-IV) and the reasons that decided it."""

    level: str
    reasons: tuple[Reason, ...]


def grade(rules: TypeRules, counts: Mapping[str, float], circumstances: frozenset[str]) -> Grading:
    """The most severe level whose criteria the counts and circumstances meet (分级), else the type's default."""
    present = rules.with_implied(circumstances)
    for level in LEVELS:
        met = [c for c in rules.criteria if c.level == level and c.holds(counts, present)]
        if met:
            return Grading(level, tuple(Reason(level, c.id, c.text) for c in met))
    return Grading(rules.default_level, (Reason(rules.default_level, DEFAULT_CRITERION,
                                                "未达到任何分级标准，按该类事件的默认等级处置"),))


def with_escalation(grading: Grading, escalated_level: str | None, reason: str) -> Grading:
    """The level an officer set, when it is above what the criteria give; else the criteria's."""
    if escalated_level is None or not more_severe(escalated_level, grading.level):
        return grading
    return Grading(escalated_level, (Reason(escalated_level, ESCALATION_CRITERION, reason), *grading.reasons))
