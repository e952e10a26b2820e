"""The spot-check policy of the bureau, by effective date: the rounding rule a plan gets when it
states none (rules/spot_check_policy/*.yaml)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, fields
from pathlib import Path

from services.common.errors import FailedPrecondition
from services.common.rulebook import RuleBook, RuleDataError, load_rule_sets, read_rule_set
from services.mobile_enforcement.domain.draw import ROUNDING_RULES

POLICY_DIR = Path(__file__).resolve().parent.parent / "rules" / "spot_check_policy"


@dataclass(frozen=True)
class SpotCheckPolicy:
    """One version of the bureau's spot-check policy."""

    id: str
    title: str
    effective_from: dt.date
    confirmed: bool
    default_rounding: str


def _read(path: Path) -> SpotCheckPolicy:
    document = read_rule_set(path, {f.name for f in fields(SpotCheckPolicy)})
    if document["default_rounding"] not in ROUNDING_RULES:
        raise RuleDataError(f"{path.name}: default_rounding must be one of {', '.join(ROUNDING_RULES)}")
    return SpotCheckPolicy(**{**document, "id": str(document["id"]), "title": str(document["title"])})


@functools.cache
def policies(directory: Path = POLICY_DIR) -> RuleBook[SpotCheckPolicy]:
    """Every version of the policy (read once per process); RuleDataError naming a wrong file."""
    return load_rule_sets("spot-check policy", directory, _read)


def default_rounding(day: dt.date) -> str:
    """The rounding rule of a plan drawn on `day` that states none."""
    policy = policies().in_force(day)
    if policy is None:
        raise FailedPrecondition(f"no spot-check policy is in force on {day}; the plan must state its rounding")
    return policy.default_rounding
