"""The ladder of stages an assessment scheme names (规范 -> 推进 -> 提升): each stage's targets, read
from the built-in scheme files or a caller's scheme, and checked before a scheme is used."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.assessment.domain import periods
from services.common.rulebook import RuleDataError

STAGE_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")
MAX_PERIODS = 12  # a stage asking more than three years of quarters is a typo


@dataclass(frozen=True)
class Stage:
    """A stage (阶段) and its targets, held over `consecutive_periods` closed periods."""

    key: str
    name: str
    min_index: float
    min_dimension: float
    consecutive_periods: int
    min_dimensions: Mapping[str, float] = field(default_factory=dict)

    def dimension_minimum(self, dimension: str) -> float:
        """The score a dimension must reach at this stage."""
        return self.min_dimensions.get(dimension, self.min_dimension)


@dataclass(frozen=True)
class StageLadder:
    """The stages, lowest first, and the kind of closed period they are judged on."""

    period_kind: str
    stages: tuple[Stage, ...]

    def to_dict(self) -> dict[str, Any]:
        """The ladder as stored beside the scheme and as the built-in scheme files write it."""
        return {"period_kind": self.period_kind,
                "ladder": [{"key": s.key, "name": s.name, "min_index": s.min_index, "min_dimension": s.min_dimension,
                            "min_dimensions": dict(s.min_dimensions), "consecutive_periods": s.consecutive_periods}
                           for s in self.stages]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StageLadder:
        """The ladder of its stored form (KeyError, TypeError or ValueError when it is not one)."""
        return cls(str(data["period_kind"]), tuple(
            Stage(key=str(s["key"]), name=str(s["name"]), min_index=float(s["min_index"]),
                  min_dimension=float(s["min_dimension"]), consecutive_periods=int(s["consecutive_periods"]),
                  min_dimensions={str(k): float(v) for k, v in (s.get("min_dimensions") or {}).items()})
            for s in data["ladder"]))


def problems(ladder: StageLadder, dimensions: Sequence[str], where: str = "scheme.stages") -> list[tuple[str, str]]:
    """Every problem of a ladder as (field, description): empty when the scheme can use it."""
    found: list[tuple[str, str]] = []
    if ladder.period_kind not in periods.KINDS:
        found.append((f"{where}.period_kind", f"must be one of {', '.join(periods.KINDS)}"))
    if not ladder.stages:
        found.append((f"{where}.stages", "at least one stage"))
    keys = [s.key for s in ladder.stages]
    if len(set(keys)) != len(keys):
        found.append((f"{where}.stages", "stage keys repeat"))
    for index, stage in enumerate(ladder.stages):
        place = f"{where}.stages[{index}]"
        if not STAGE_KEY.match(stage.key):
            found.append((f"{place}.key", "1-32 capital letters, digits or '_', starting with a letter"))
        if not stage.name.strip() or len(stage.name) > 20:
            found.append((f"{place}.name", "1-20 characters"))
        for name, value in (("min_index", stage.min_index), ("min_dimension", stage.min_dimension)):
            if not (math.isfinite(value) and 0 <= value <= 100):
                found.append((f"{place}.{name}", "a score from 0 to 100"))
        for dimension, value in stage.min_dimensions.items():
            if dimension not in dimensions:
                found.append((f"{place}.min_dimensions[{dimension}]", "not a dimension of the scheme"))
            elif not (math.isfinite(value) and 0 <= value <= 100):
                found.append((f"{place}.min_dimensions[{dimension}]", "a score from 0 to 100"))
        if not 1 <= stage.consecutive_periods <= MAX_PERIODS:
            found.append((f"{place}.consecutive_periods", f"from 1 to {MAX_PERIODS}"))
    return found


def read_ladder(data: object, dimensions: Sequence[str], where: str) -> StageLadder:
    """The ladder a built-in scheme file writes under `stages`; RuleDataError naming what is wrong."""
    if not isinstance(data, dict):
        raise RuleDataError(f"{where}: stages must be a mapping with period_kind and ladder")
    try:
        ladder = StageLadder.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise RuleDataError(f"{where}: cannot read the stages: {exc!r}") from None
    found = problems(ladder, dimensions)
    if found:
        raise RuleDataError(f"{where}: " + "; ".join(f"{place}: {text}" for place, text in found))
    return ladder
