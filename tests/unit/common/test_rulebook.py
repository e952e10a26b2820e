import datetime as dt
from dataclasses import dataclass

import pytest

from services.common.rulebook import RuleBook, RuleDataError


@dataclass(frozen=True)
class Rules:
    id: str
    effective_from: dt.date
    limit: int


def book(*rule_sets: Rules) -> RuleBook[Rules]:
    return RuleBook("test", rule_sets, effective_from=lambda r: r.effective_from, rule_id=lambda r: r.id)


ORDER_20 = Rules("order-20", dt.date(2020, 1, 1), 7)
ORDER_121 = Rules("order-121", dt.date(2026, 4, 15), 5)


@pytest.mark.parametrize(("day", "expected"), [
    (dt.date(2019, 12, 31), None),
    (dt.date(2020, 1, 1), ORDER_20),
    (dt.date(2026, 4, 14), ORDER_20),
    (dt.date(2026, 4, 15), ORDER_121),
    (dt.date(2030, 1, 1), ORDER_121),
])
def test_the_set_in_force_is_the_latest_effective_on_or_before_the_day(day, expected):
    assert book(ORDER_121, ORDER_20).in_force(day) == expected


def test_sets_are_found_by_id_and_the_earliest_is_known():
    rules = book(ORDER_121, ORDER_20)
    assert rules.get("order-121") == ORDER_121 and rules.get("order-99") is None
    assert rules.earliest == ORDER_20 and rules.first_effective == dt.date(2020, 1, 1)


@pytest.mark.parametrize(("rule_sets", "problem"), [
    ((), "no rule sets"),
    ((ORDER_20, Rules("other", ORDER_20.effective_from, 3)), "same day"),
    ((ORDER_20, Rules("order-20", dt.date(2021, 1, 1), 3)), "share an id"),
])
def test_inconsistent_rule_data_is_refused(rule_sets, problem):
    with pytest.raises(RuleDataError, match=problem):
        book(*rule_sets)
