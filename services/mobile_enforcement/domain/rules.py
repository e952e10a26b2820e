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
from services.mobile_enforcement.domain.vocabulary import NO_PENALTY, PENALTY_KINDS

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"


@dataclass(frozen=True)
class PenaltyClass:
    """A class of penalty decisions the law treats apart (a major decision, one for collective
    discussion, one open to a hearing): any of these kinds, or money at or above the party's threshold."""

    kinds: tuple[str, ...]
    fine_individual_from_yuan: int
    fine_organisation_from_yuan: int


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
    # The ordinary procedure after the investigation.
    legal_review_working_days: int
    statement_working_days: int
    hearing_request_working_days: int
    hearing_notice_days: int
    delivery_days: int
    payment_days: int
    surcharge_percent_per_day: int
    major_decisions: PenaltyClass
    collective_discussion: PenaltyClass
    hearing: PenaltyClass


_FIGURES = tuple(f.name for f in fields(RuleSet) if f.type == "int")
_CLASSES = tuple(f.name for f in fields(RuleSet) if f.type == "PenaltyClass")
_CLASS_KEYS = {f.name for f in fields(PenaltyClass)}


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
    if document["surcharge_percent_per_day"] > 100:
        raise RuleDataError(f"{path.name}: surcharge_percent_per_day must be at most 100")
    classes = {key: _penalty_class(path, key, document[key]) for key in _CLASSES}
    return RuleSet(**{**document, **classes, "id": str(document["id"]), "title": str(document["title"])})


def _penalty_class(path: Path, key: str, value: object) -> PenaltyClass:
    where = f"{path.name}: {key}"
    if not isinstance(value, dict) or set(value) != _CLASS_KEYS:
        raise RuleDataError(f"{where} must be a mapping of exactly {sorted(_CLASS_KEYS)}")
    kinds = value["kinds"]
    if not isinstance(kinds, list) or any(kind not in PENALTY_KINDS or kind == NO_PENALTY for kind in kinds):
        raise RuleDataError(f"{where}.kinds must list penalty kinds of {', '.join(PENALTY_KINDS[1:])}")
    for figure in ("fine_individual_from_yuan", "fine_organisation_from_yuan"):
        amount = value[figure]
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= 1_000_000_000:
            raise RuleDataError(f"{where}.{figure} must be a whole number of yuan, 1-1000000000")
    return PenaltyClass(tuple(kinds), value["fine_individual_from_yuan"], value["fine_organisation_from_yuan"])
