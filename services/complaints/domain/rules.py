"""Versioned rule sets: the statutory limits of complaint and report handling, by effective date.

Each YAML file in rules/ is one rule set. A clock uses the rule set in force on the day it
started, so a change of the law never moves a deadline that was already running. A malformed file
stops the service at start (RuleDataError), naming the file and the entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

from services.common.errors import InvalidArgument
from services.common.rulebook import RuleBook as CommonRuleBook
from services.common.rulebook import RuleDataError

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

ACCEPTANCE = "acceptance"
MEDIATION = "mediation"
MEDIATION_NOTICE = "mediation_notice"
FILING_DECISION = "filing_decision"
FILING_DECISION_EXTENSION = "filing_decision_extension"
CLOCKS = (ACCEPTANCE, MEDIATION, MEDIATION_NOTICE, FILING_DECISION)
LIMIT_KEYS = (*CLOCKS, FILING_DECISION_EXTENSION)

REFUSAL_GROUNDS = ("OUTSIDE_DUTIES", "HANDLED_ELSEWHERE", "NO_CONSUMER_DISPUTE", "TIME_BARRED",
                   "MISSING_INFORMATION", "OTHER_LEGAL_GROUND")
_FILE_KEYS = {"id", "title", "effective_from", "confirmed", "working_days", "refusal_grounds"}


@dataclass(frozen=True)
class RuleSet:
    id: str
    title: str
    effective_from: dt.date
    # False while the figures are placeholders nobody checked against the text.
    confirmed: bool
    working_days: dict[str, int]
    refusal_grounds: tuple[str, ...]

    def limit(self, clock: str, *, extended: bool = False) -> int:
        days = self.working_days[clock]
        if extended and clock == FILING_DECISION:
            days += self.working_days[FILING_DECISION_EXTENSION]
        return days


class RuleBook:
    def __init__(self, rule_sets: list[RuleSet]):
        self._book = CommonRuleBook("complaints rules", rule_sets, effective_from=lambda r: r.effective_from,
                                    rule_id=lambda r: r.id)

    @classmethod
    def load(cls, directory: Path = RULES_DIR) -> RuleBook:
        return cls([_read(path) for path in sorted(directory.glob("*.yaml"))])

    def in_force(self, day: dt.date, field: str) -> RuleSet:
        """The rule set for a clock starting on `day`; `field` names the input that set the day."""
        rule_set = self._book.in_force(day)
        if rule_set is None:
            raise InvalidArgument.of(field, f"{day} is before the first rule set in force "
                                            f"({self._book.first_effective})")
        return rule_set

    def get(self, rule_set_id: str) -> RuleSet:
        rule_set = self._book.get(rule_set_id)
        if rule_set is None:
            raise KeyError(rule_set_id)
        return rule_set


def _read(path: Path) -> RuleSet:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RuleDataError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise RuleDataError(f"{path.name}: must be a mapping")
    unknown = set(document) - _FILE_KEYS
    missing = _FILE_KEYS - set(document)
    if unknown or missing:
        raise RuleDataError(f"{path.name}: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    if not isinstance(document["effective_from"], dt.date):
        raise RuleDataError(f"{path.name}: effective_from must be a date YYYY-MM-DD")
    if not isinstance(document["confirmed"], bool):
        raise RuleDataError(f"{path.name}: confirmed must be true or false")
    limits = document["working_days"]
    if not isinstance(limits, dict) or set(limits) != set(LIMIT_KEYS):
        raise RuleDataError(f"{path.name}: working_days must give exactly {', '.join(LIMIT_KEYS)}")
    for key, value in limits.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 365:
            raise RuleDataError(f"{path.name}: working_days.{key} must be a whole number of days, 1-365")
    grounds = document["refusal_grounds"]
    if not isinstance(grounds, list) or not grounds or not set(grounds) <= set(REFUSAL_GROUNDS):
        raise RuleDataError(f"{path.name}: refusal_grounds must list some of {', '.join(REFUSAL_GROUNDS)}")
    return RuleSet(id=str(document["id"]), title=str(document["title"]), effective_from=document["effective_from"],
                   confirmed=document["confirmed"], working_days=dict(limits), refusal_grounds=tuple(grounds))
