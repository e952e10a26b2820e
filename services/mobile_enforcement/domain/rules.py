"""Versioned rule sets: the statutory figures of enforcement, by effective date.

Each YAML file in rules/ is one rule set. A clock uses the rule set in force on the day it started
(a lead's receipt, a case's filing, a decision), so a change of the law never moves a deadline
already running. A malformed file stops the service at start (RuleDataError) naming file and key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from services.common.errors import FailedPrecondition
from services.common.rulebook import RuleBook as CommonRuleBook
from services.common.rulebook import RuleDataError

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


@dataclass(frozen=True)
class RuleSet:
    id: str
    title: str
    effective_from: dt.date
    # False while the figures are placeholders nobody checked against the text.
    confirmed: bool
    minimum_officers: int
    filing_decision_working_days: int
    filing_extension_working_days: int
    decision_days: int
    decision_extension_days: int
    simplified_max_fine_individual: int
    simplified_max_fine_organisation: int
    penalty_publication_working_days: int
    inspection_publication_working_days: int


_FIGURES = tuple(f.name for f in fields(RuleSet) if f.type == "int")


class RuleBook:
    def __init__(self, rule_sets: list[RuleSet]):
        self._book = CommonRuleBook("mobile_enforcement rules", rule_sets, effective_from=lambda r: r.effective_from,
                                    rule_id=lambda r: r.id)

    @classmethod
    def load(cls, directory: Path = RULES_DIR) -> RuleBook:
        return cls([_read(path) for path in sorted(directory.glob("*.yaml"))])

    def in_force(self, day: dt.date) -> RuleSet:
        """The rule set for a clock starting on `day`."""
        rule_set = self._book.in_force(day)
        if rule_set is None:
            raise FailedPrecondition(f"{day} is before the first rule set in force "
                                     f"({self._book.first_effective}); no statutory limits are known")
        return rule_set

    def get(self, rule_set_id: str) -> RuleSet:
        """A rule set a stored clock names; a store naming an unknown one is a bug (KeyError)."""
        rule_set = self._book.get(rule_set_id)
        if rule_set is None:
            raise KeyError(rule_set_id)
        return rule_set

    def all(self) -> list[RuleSet]:
        return list(self._book.rule_sets)


def _read(path: Path) -> RuleSet:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleDataError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise RuleDataError(f"{path.name}: must be a mapping")
    expected = {f.name for f in fields(RuleSet)}
    unknown, missing = set(document) - expected, expected - set(document)
    if unknown or missing:
        raise RuleDataError(f"{path.name}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    if not isinstance(document["effective_from"], dt.date):
        raise RuleDataError(f"{path.name}: effective_from must be a date YYYY-MM-DD")
    if not isinstance(document["confirmed"], bool):
        raise RuleDataError(f"{path.name}: confirmed must be true or false")
    for key in _FIGURES:
        value = document[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 100_000:
            raise RuleDataError(f"{path.name}: {key} must be a whole number, 1-100000")
    return RuleSet(**{**document, "id": str(document["id"]), "title": str(document["title"])})
