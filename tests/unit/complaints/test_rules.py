"""The versioned rule sets and the due dates they give on the working-day calendar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from services.common.errors import InvalidArgument
from services.common.working_days import WorkingDayCalendar
from services.complaints.domain.deadlines import Clocks
from services.complaints.domain.rules import (
    ACCEPTANCE,
    FILING_DECISION,
    MEDIATION,
    MEDIATION_NOTICE,
    RuleBook,
    RuleDataError,
)

RULES = RuleBook.load()
CLOCKS = Clocks(RULES, WorkingDayCalendar.load())
ORDER_20 = RULES.get("samr-order-20")


def rule_file(directory: Path, name: str, effective_from: str = "2026-04-15", **changes) -> None:
    limits = {"acceptance": 7, "mediation": 45, "mediation_notice": 7, "filing_decision": 15,
              "filing_decision_extension": 15, "reporter_notice": 5, **changes.pop("limits", {})}
    lines = [f"id: {name}", f"title: {name}", f"effective_from: {effective_from}", "confirmed: false",
             "working_days:", *[f"  {k}: {v}" for k, v in limits.items()],
             "refusal_grounds: [" + ", ".join(changes.pop("grounds", ["OUTSIDE_DUTIES"])) + "]",
             *[f"{k}: {v}" for k, v in changes.items()]]
    (directory / f"{name}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_rule_set_in_force_is_the_one_of_the_day_the_clock_starts():
    assert RULES.in_force(dt.date(2020, 1, 1), "f").id == "samr-order-20"
    assert RULES.in_force(dt.date(2026, 4, 14), "f").id == "samr-order-20"
    assert RULES.in_force(dt.date(2026, 4, 15), "f").id == "samr-order-121"
    with pytest.raises(InvalidArgument) as raised:
        RULES.in_force(dt.date(2019, 12, 31), "complaint.received_at")
    assert raised.value.violations[0].field == "complaint.received_at"


def test_the_shipped_figures_are_those_of_domain_md_and_order_121_is_marked_unconfirmed():
    assert ORDER_20.working_days == {ACCEPTANCE: 7, MEDIATION: 45, MEDIATION_NOTICE: 7, FILING_DECISION: 15,
                                     "filing_decision_extension": 15, "reporter_notice": 5}
    assert ORDER_20.confirmed and not RULES.get("samr-order-121").confirmed
    assert ORDER_20.limit(FILING_DECISION, extended=True) == 30 and ORDER_20.limit(ACCEPTANCE, extended=True) == 7


@pytest.mark.parametrize(("start", "clock", "due"), [
    # Spring Festival 2026: Feb 15-23 off, Saturday Feb 14 and Feb 28 worked.
    (dt.date(2026, 2, 10), ACCEPTANCE, dt.date(2026, 2, 26)),
    (dt.date(2026, 2, 13), MEDIATION_NOTICE, dt.date(2026, 3, 2)),  # Feb 14 and Feb 28 are working days
    (dt.date(2026, 2, 10), FILING_DECISION, dt.date(2026, 3, 9)),
    # Mid-Autumn (Sep 25) and National Day 2026: Oct 1-7 off, Saturday Oct 10 worked.
    (dt.date(2026, 9, 24), ACCEPTANCE, dt.date(2026, 10, 12)),
    (dt.date(2026, 9, 28), ACCEPTANCE, dt.date(2026, 10, 13)),
    (dt.date(2026, 9, 28), FILING_DECISION, dt.date(2026, 10, 23)),
])
def test_due_dates_skip_holidays_and_count_adjusted_working_weekends(start, clock, due):
    result = CLOCKS.due(ORDER_20, clock, start)
    assert (result.date, result.provisional) == (due, False)
    weekends_only = Clocks(RULES, WorkingDayCalendar([], [], [2026])).due(ORDER_20, clock, start)
    assert weekends_only.date != due  # the holiday schedule really moved the date


def test_a_count_into_a_year_without_a_schedule_is_provisional():
    result = CLOCKS.due(ORDER_20, ACCEPTANCE, dt.date(2026, 12, 28))
    assert (result.date, result.provisional) == (dt.date(2027, 1, 6), True)  # Jan 1 counted as a Friday
    assert not CLOCKS.due(ORDER_20, ACCEPTANCE, dt.date(2026, 12, 18)).provisional


def test_a_book_of_rule_sets_picks_the_limits_by_date(tmp_path):
    rule_file(tmp_path, "old", "2020-01-01")
    rule_file(tmp_path, "new", "2026-04-15", limits={"acceptance": 10})
    book = RuleBook.load(tmp_path)
    clocks = Clocks(book, WorkingDayCalendar.load())
    assert clocks.due(book.in_force(dt.date(2026, 4, 14), "f"), ACCEPTANCE, dt.date(2026, 4, 14)).date \
        == dt.date(2026, 4, 23)
    assert clocks.due(book.in_force(dt.date(2026, 4, 15), "f"), ACCEPTANCE, dt.date(2026, 4, 15)).date \
        == dt.date(2026, 4, 29)


@pytest.mark.parametrize("changes", [
    {"limits": {"acceptance": 0}},
    {"limits": {"acceptance": "seven"}},
    {"grounds": ["BECAUSE"]},
    {"colour": "red"},
    {"effective_from": "someday"},
])
def test_a_malformed_rule_file_stops_the_service(tmp_path, changes):
    rule_file(tmp_path, "broken", **changes)
    with pytest.raises(RuleDataError, match=r"broken\.yaml"):
        RuleBook.load(tmp_path)


def test_two_rule_sets_cannot_take_effect_on_the_same_day(tmp_path):
    rule_file(tmp_path, "one")
    rule_file(tmp_path, "two")
    with pytest.raises(RuleDataError, match="same day"):
        RuleBook.load(tmp_path)
