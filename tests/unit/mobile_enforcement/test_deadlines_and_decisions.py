"""Deadlines across holidays, checklist outcomes and penalty limits: the plain-Python rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.working_days import DueDate, WorkingDayCalendar
from services.mobile_enforcement.domain import deadlines, findings
from services.mobile_enforcement.domain.case_rules import PenaltyInput, SanctionInput, check_penalty
from services.mobile_enforcement.domain.checklists import Catalog
from services.mobile_enforcement.domain.findings import Answered
from services.mobile_enforcement.domain.rules import RuleBook

CALENDAR = WorkingDayCalendar.load()
RULES = RuleBook.load().in_force(dt.date(2026, 1, 1))
CATERING = Catalog.load().version("CATERING", 2)


@pytest.mark.parametrize(("received", "due"), [
    # Across the Spring Festival (15-23 February 2026), counting the adjusted Saturdays 14 and 28 February.
    (dt.date(2026, 2, 9), dt.date(2026, 3, 6)),
    # Across National Day (1-7 October 2026), counting the adjusted Saturday 10 October.
    (dt.date(2026, 9, 28), dt.date(2026, 10, 23)),
    # Received on a Saturday: the clock starts on the next working day.
    (dt.date(2026, 11, 7), dt.date(2026, 11, 27)),
])
def test_the_filing_decision_is_due_fifteen_working_days_after_receipt(received, due):
    assert deadlines.filing_decision_due(CALENDAR, RULES, received) == DueDate(due, provisional=False)
    assert CALENDAR.working_days_between(received, due) == 15


def test_a_deadline_in_a_year_without_a_schedule_is_provisional():
    due = deadlines.filing_decision_due(CALENDAR, RULES, dt.date(2026, 12, 20))
    assert (due.date, due.provisional) == (dt.date(2027, 1, 8), True)


def test_the_decision_limit_counts_natural_days_and_stopped_time_is_added_back():
    assert deadlines.closing_due(CALENDAR, RULES, dt.date(2026, 11, 2)) == dt.date(2027, 1, 31)
    assert deadlines.extended_closing_due(CALENDAR, RULES, dt.date(2027, 1, 31)) == dt.date(2027, 3, 2)
    assert deadlines.resumed_closing_due(dt.date(2027, 1, 31), dt.date(2026, 11, 10),
                                         dt.date(2026, 11, 20)) == dt.date(2027, 2, 10)
    # Stopped from Friday 25 September to Friday 9 October 2026: only 28, 29, 30 September and 8, 9
    # October were working days, so five working days are added back.
    resumed = deadlines.resumed_filing_due(CALENDAR, dt.date(2026, 10, 16), dt.date(2026, 9, 25),
                                           dt.date(2026, 10, 9))
    assert resumed.date == dt.date(2026, 10, 23)


def test_results_and_decisions_are_published_within_twenty_working_days():
    # From Wednesday 30 September 2026: 8, 9, 10 (adjusted Saturday) October are the first three.
    assert deadlines.penalty_publication_due(CALENDAR, RULES, dt.date(2026, 9, 30)).date == dt.date(2026, 11, 3)
    assert deadlines.inspection_publication_due(CALENDAR, RULES, dt.date(2026, 11, 2)).date == dt.date(2026, 11, 30)


def answered(failing: dict[str, tuple[str, list[str]]] | None = None, skip: tuple[str, ...] = ()) -> list[Answered]:
    failing = failing or {}
    return [Answered(i.code, "FAIL", *failing[i.code]) if i.code in failing else Answered(i.code, "PASS", "", [])
            for i in CATERING.items if i.code not in skip]


@pytest.mark.parametrize(("failing", "outcome"), [
    ({}, "COMPLIANT"),
    ({"CAT-10": ("", [])}, "ADVISED"),
    ({"CAT-10": ("", []), "CAT-02": ("", [])}, "RECTIFICATION_ORDERED"),
    ({"CAT-02": ("", []), "CAT-06": ("", [])}, "CASE_LEAD"),
])
def test_the_outcome_is_the_most_severe_a_failure_implies(failing, outcome):
    assert findings.implied_outcome(CATERING, answered(failing)) == outcome


def test_completion_refuses_unanswered_items_and_a_lighter_outcome():
    today = dt.date(2026, 11, 2)
    with pytest.raises(FailedPrecondition) as refused:
        findings.check_completion(CATERING, answered(skip=("CAT-04", "CAT-11")), None, None, "", today)
    assert [v.field for v in refused.value.violations] == ["checklist.CAT-04", "checklist.CAT-11"]
    with pytest.raises(FailedPrecondition, match="call for at least CASE_LEAD"):
        findings.check_completion(CATERING, answered({"CAT-06": ("", [])}), "ADVISED", None, "", today)
    with pytest.raises(InvalidArgument, match="rectification_due"):
        findings.check_completion(CATERING, answered({"CAT-02": ("", [])}), None, today, "", today)
    assert findings.check_completion(CATERING, answered({"CAT-10": ("", [])}), "CASE_LEAD", None, "", today) == \
        "CASE_LEAD"  # an inspector may always go further than the checklist


def test_a_record_is_complete_when_every_failure_has_a_note_and_evidence():
    assert findings.evidence_complete(answered({"CAT-02": ("未公示", ["p/1.jpg"])}))
    assert not findings.evidence_complete(answered({"CAT-02": ("未公示", [])}))
    assert not findings.evidence_complete(answered({"CAT-02": ("", ["p/1.jpg"])}))


@pytest.mark.parametrize(("day", "party", "yuan", "limit"), [
    (dt.date(2026, 11, 2), "INDIVIDUAL", "200", None),
    (dt.date(2026, 11, 2), "INDIVIDUAL", "200.01", 200),
    (dt.date(2026, 11, 2), "ORGANISATION", "3000", None),
    (dt.date(2026, 11, 2), "ORGANISATION", "3000.50", 3000),
    (dt.date(2021, 7, 14), "INDIVIDUAL", "51", 50),
    (dt.date(2021, 7, 14), "ORGANISATION", "1000", None),
])
def test_the_simplified_procedure_fines_within_the_limits_of_the_day(day, party, yuan, limit):
    rules = RuleBook.load().in_force(day)
    penalty = PenaltyInput(party, True, (SanctionInput("FINE", Decimal(yuan), "", 0),))
    if limit is None:
        check_penalty(penalty, rules)
    else:
        with pytest.raises(InvalidArgument, match=f"at most {limit} yuan"):
            check_penalty(penalty, rules)
