"""Versioned rule sets: the statutory limits of complaint and report handling, by effective date.

Each YAML file in rules/ is one rule set. A clock uses the rule set in force on the day it
started, so a change of the law never moves a deadline that was already running. A malformed file
stops the service at start (RuleDataError), naming the file and the entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from services.common.errors import InvalidArgument
from services.common.rulebook import RuleBook as CommonRuleBook
from services.common.rulebook import RuleDataError, load_rule_sets, read_rule_set

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"

ACCEPTANCE = "acceptance"
MEDIATION = "mediation"
MEDIATION_NOTICE = "mediation_notice"
FILING_DECISION = "filing_decision"
FILING_DECISION_EXTENSION = "filing_decision_extension"
REPORTER_NOTICE = "reporter_notice"
CLOCKS = (ACCEPTANCE, MEDIATION, MEDIATION_NOTICE, FILING_DECISION, REPORTER_NOTICE)
LIMIT_KEYS = (*CLOCKS, FILING_DECISION_EXTENSION)

REFUSAL_GROUNDS = ("OUTSIDE_DUTIES", "HANDLED_ELSEWHERE", "NO_CONSUMER_DISPUTE", "TIME_BARRED",
                   "MISSING_INFORMATION", "OTHER_LEGAL_GROUND")
_FILE_KEYS = {"id", "title", "effective_from", "confirmed", "working_days", "refusal_grounds"}


@dataclass(frozen=True)
class RuleSet:
    """One statutory rule set (e.g. 市场监督管理投诉举报处理暂行办法): its limits in working days and
    the grounds on which a complaint may be refused."""

    id: str
    title: str
    effective_from: dt.date
    # False while the figures are placeholders nobody checked against the text.
    confirmed: bool
    working_days: dict[str, int]
    refusal_grounds: tuple[str, ...]

    def limit(self, clock: str, *, extended: bool = False) -> int:
        """The working days a clock runs; the filing decision's extension added when it was granted."""
        days = self.working_days[clock]
        if extended and clock == FILING_DECISION:
            days += self.working_days[FILING_DECISION_EXTENSION]
        return days


class RuleBook:
    """The statutory rule sets of complaint and report handling, by effective date."""

    def __init__(self, book: CommonRuleBook[RuleSet]):
        self._book = book

    @classmethod
    def load(cls, directory: Path = RULES_DIR) -> RuleBook:
        """Every rule file of `directory`; RuleDataError naming the file when one is wrong."""
        return cls(load_rule_sets("complaints rules", directory, _read))

    def in_force(self, day: dt.date, field: str) -> RuleSet:
        """The rule set for a clock starting on `day`; `field` names the input that set the day."""
        rule_set = self._book.in_force(day)
        if rule_set is None:
            raise InvalidArgument.of(field, f"{day} is before the first rule set in force "
                                            f"({self._book.first_effective})")
        return rule_set

    def get(self, rule_set_id: str) -> RuleSet:
        """The rule set a stored clock names; a store naming an unknown one is a bug (KeyError)."""
        rule_set = self._book.get(rule_set_id)
        if rule_set is None:
            raise KeyError(rule_set_id)
        return rule_set


def _read(path: Path) -> RuleSet:
    document = read_rule_set(path, _FILE_KEYS)
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
