"""Versioned rule sets: the statutory figures of enforcement, by effective date.

Each YAML file in rules/ is one rule set. A clock uses the rule set in force on the day it started
(a lead's receipt, a case's filing, a decision), so a change of the law never moves a deadline
already running. A malformed file stops the service at start (RuleDataError) naming file and key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from pathlib import Path

from services.common.errors import FailedPrecondition
from services.common.rulebook import RuleBook as CommonRuleBook
from services.common.rulebook import RuleDataError, load_rule_sets, read_rule_set

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


@dataclass(frozen=True)
class RuleSet:
    """One statutory rule set of enforcement (e.g. 市场监督管理行政处罚程序规定): its time limits, the
    officers an inspection needs and the simplified procedure's highest fines."""

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
    """The statutory rule sets of enforcement, by effective date."""

    def __init__(self, book: CommonRuleBook[RuleSet]):
        self._book = book

    @classmethod
    def load(cls, directory: Path = RULES_DIR) -> RuleBook:
        """Every rule file of `directory`; RuleDataError naming the file and key when one is wrong."""
        return cls(load_rule_sets("mobile_enforcement rules", directory, _read))

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
        """Every rule set, oldest first."""
        return list(self._book.rule_sets)


def _read(path: Path) -> RuleSet:
    document = read_rule_set(path, {f.name for f in fields(RuleSet)})
    for key in _FIGURES:
        value = document[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 100_000:
            raise RuleDataError(f"{path.name}: {key} must be a whole number, 1-100000")
    return RuleSet(**{**document, "id": str(document["id"]), "title": str(document["title"])})
