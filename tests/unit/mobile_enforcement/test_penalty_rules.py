"""The penalty procedure's pure rules: what a decision may hold, how a proposed penalty is classed
(legal review, collective discussion, hearing), when a decision is heavier than the notice, the
late-payment surcharge, the new clocks, and the sanctions as a case stores them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from services.common.errors import InvalidArgument
from services.mobile_enforcement.domain import deadlines, procedure
from services.mobile_enforcement.domain.case_rules import (
    InvestigationInput,
    PenaltyInput,
    case_proposed_penalty,
    case_sanctions,
    check_investigation,
    check_penalty,
    penalty_from_json,
    penalty_json,
    sanctions_json,
)
from services.mobile_enforcement.models import Case
from tests.unit.mobile_enforcement.case_support import CALENDAR, RULES, penalty, sanction

TODAY = dt.date(2026, 11, 2)
NEW, OLD = RULES.in_force(TODAY), RULES.in_force(dt.date(2021, 7, 14))


def fields_of(error: InvalidArgument) -> dict[str, str]:
    return {v.field: v.description for v in error.violations}


# ---------------------------------------------------------------- what a decision may hold


def test_administrative_detention_is_never_the_market_regulators_to_impose():
    with pytest.raises(InvalidArgument) as refused:
        check_penalty(penalty(sanction("FINE", "500"), sanction("ADMINISTRATIVE_DETENTION", days=5)), NEW)
    assert "行政拘留由公安机关决定" in fields_of(refused.value)["penalty.sanctions[1].kind"]


@pytest.mark.parametrize(("given", "field", "words"), [
    (penalty(), "penalty.sanctions", "at least one sanction"),
    (penalty(sanction("FINE", "100"), sanction("FINE", "200")), "penalty.sanctions[1].kind", "listed twice"),
    (penalty(sanction("NONE"), sanction("WARNING")), "penalty.sanctions", "stands alone"),
    (penalty(sanction("FINE")), "penalty.sanctions[0].amount", "needs an amount above zero"),
    (penalty(sanction("CONFISCATE_GAINS", "0")), "penalty.sanctions[0].amount", "needs an amount above zero"),
    (penalty(sanction("WARNING", "100")), "penalty.sanctions[0].amount", "not WARNING"),
    (penalty(sanction("CONFISCATE_GOODS", "-1", "过期食品")), "penalty.sanctions[0].amount", "negative"),
    (penalty(sanction("FINE", "100.005")), "penalty.sanctions[0].amount", "two decimals"),
    (penalty(sanction("FINE", "1000000000.01")), "penalty.sanctions[0].amount", "at most 1000000000"),
    (penalty(sanction("REVOKE_LICENCE", detail=" ")), "penalty.sanctions[0].detail", "names what"),
    (penalty(sanction("WARNING", detail="x" * 501)), "penalty.sanctions[0].detail", "at most 500"),
    (penalty(sanction("FINE", "100", days=10)), "penalty.sanctions[0].duration_days", "not FINE"),
    (penalty(sanction("SUSPEND_BUSINESS", days=-1)), "penalty.sanctions[0].duration_days", "must be 0"),
    (penalty(sanction("BANISHMENT")), "penalty.sanctions[0].kind", "must be one of"),
    (penalty(sanction("WARNING"), party_kind="STATE"), "penalty.party_kind", "must be one of"),
    (penalty(sanction("CONFISCATE_GAINS", "50"), simplified=True), "penalty.simplified", "warning or a fine only"),
])
def test_a_malformed_decision_names_the_field(given, field, words):
    with pytest.raises(InvalidArgument) as refused:
        check_penalty(given, NEW)
    assert words in fields_of(refused.value)[field]


def test_a_sound_decision_comes_back_with_its_details_trimmed():
    checked = check_penalty(penalty(sanction("FINE", "20000"), sanction("CONFISCATE_GOODS", None, " 过期牛奶 12 箱 "),
                                    sanction("SUSPEND_PERMIT", None, "食品经营许可证", 30)), NEW)
    assert [s.detail for s in checked.sanctions] == ["", "过期牛奶 12 箱", "食品经营许可证"]


def test_the_simplified_fine_limit_names_the_fines_field():
    with pytest.raises(InvalidArgument) as refused:
        check_penalty(penalty(sanction("WARNING"), sanction("FINE", "201"), party_kind="INDIVIDUAL",
                              simplified=True), NEW)
    assert "at most 200 yuan" in fields_of(refused.value)["penalty.sanctions[1].amount"]


def test_a_conclusion_needs_facts_a_basis_and_an_ordinary_penalty():
    with pytest.raises(InvalidArgument) as refused:
        check_investigation(InvestigationInput(" ", "", penalty(sanction("WARNING"), simplified=True)), NEW)
    assert set(fields_of(refused.value)) == {"facts", "legal_basis", "proposed_penalty.simplified"}
    with pytest.raises(InvalidArgument) as refused:
        check_investigation(InvestigationInput("事实", "依据", penalty(sanction("FINE"))), NEW)
    assert set(fields_of(refused.value)) == {"proposed_penalty.sanctions[0].amount"}


# ---------------------------------------------------------------- classification


@pytest.mark.parametrize(("proposed", "review", "discussion", "hearing"), [
    (penalty(sanction("NONE")), False, False, False),
    (penalty(sanction("WARNING"), sanction("FINE", "9999.99"), party_kind="INDIVIDUAL"), False, False, False),
    # "Large amounts" include the threshold (以上) and count confiscations with the fine.
    (penalty(sanction("FINE", "10000"), party_kind="INDIVIDUAL"), True, False, True),
    (penalty(sanction("FINE", "6000"), sanction("CONFISCATE_GAINS", "3000"),
             sanction("CONFISCATE_GOODS", "1000", "过期食品"), party_kind="INDIVIDUAL"), True, False, True),
    (penalty(sanction("FINE", "99999")), False, False, False),
    (penalty(sanction("FINE", "100000")), True, False, True),
    (penalty(sanction("FINE", "500000")), True, True, True),
    (penalty(sanction("REVOKE_LICENCE", detail="食品经营许可证")), True, True, True),
    (penalty(sanction("RESTRICT_BUSINESS", days=30)), False, False, True),
    (penalty(sanction("PUBLIC_CRITICISM")), False, False, False),
])
def test_the_rule_set_classes_a_proposed_penalty(proposed, review, discussion, hearing):
    assert procedure.classify(proposed, NEW) == procedure.Classification(review, discussion, hearing)


def test_under_the_old_law_only_some_kinds_opened_a_hearing():
    restricted = penalty(sanction("RESTRICT_BUSINESS", days=30))
    assert procedure.classify(restricted, NEW).hearing_eligible
    assert not procedure.classify(restricted, OLD).hearing_eligible
    assert procedure.classify(penalty(sanction("SUSPEND_BUSINESS", days=30)), OLD).hearing_eligible


# ---------------------------------------------------------------- heavier than notified


@pytest.mark.parametrize(("decided", "reason"), [
    (penalty(sanction("FINE", "5000")), None),
    (penalty(sanction("FINE", "4000")), None),
    (penalty(sanction("NONE")), None),
    (penalty(sanction("FINE", "5000"), sanction("SUSPEND_BUSINESS", days=10)), None),
    (penalty(sanction("FINE", "5000.01")), "exceeds the 5000.00 yuan notified"),
    (penalty(sanction("FINE", "5000"), sanction("WARNING")), "WARNING was not in the notice"),
    (penalty(sanction("FINE", "5000"), sanction("SUSPEND_BUSINESS", days=31)), "exceeds the 30 days notified"),
    (penalty(sanction("FINE", "5000"), sanction("SUSPEND_BUSINESS")), "exceeds the 30 days notified"),
    (penalty(sanction("FINE", "5000"), party_kind="INDIVIDUAL"), "named the party as ORGANISATION"),
])
def test_a_decision_heavier_than_the_notice_is_told_apart(decided, reason):
    notified = penalty(sanction("FINE", "5000.00"), sanction("SUSPEND_BUSINESS", days=30))
    reasons = procedure.heavier_than(decided, notified)
    assert (reasons == []) if reason is None else any(reason in r for r in reasons), reasons


# ---------------------------------------------------------------- surcharge and clocks


@pytest.mark.parametrize(("day", "surcharge"), [
    (dt.date(2026, 11, 30), "0.00"),       # the due day itself
    (dt.date(2026, 11, 29), "0.00"),       # paid early
    (dt.date(2026, 12, 1), "30.00"),       # 3% of 1000 for one day
    (dt.date(2026, 12, 10), "300.00"),     # ten days
    (dt.date(2027, 1, 2), "990.00"),       # 33 days
    (dt.date(2027, 1, 3), "1000.00"),      # 34 days would be 1020: never more than the fine
    (dt.date(2027, 6, 1), "1000.00"),
])
def test_the_surcharge_is_three_percent_a_day_never_more_than_the_fine(day, surcharge):
    due = dt.date(2026, 11, 30)
    assert procedure.late_payment_surcharge(Decimal("1000.00"), due, day, NEW) == Decimal(surcharge)


def test_the_surcharge_is_rounded_to_the_fen():
    # 3% of 333.33 is 9.9999 a day.
    assert procedure.late_payment_surcharge(Decimal("333.33"), TODAY, TODAY + dt.timedelta(days=1), NEW) \
        == Decimal("10.00")


def test_the_procedures_clocks():
    # Notified on Wednesday 30 September 2026: 8, 9, 10 (adjusted Saturday), 12, 13 October.
    notified = dt.date(2026, 9, 30)
    assert deadlines.statement_due(CALENDAR, NEW, notified).date == dt.date(2026, 10, 13)
    assert deadlines.hearing_request_due(CALENDAR, NEW, notified).date == dt.date(2026, 10, 13)
    assert deadlines.hearing_request_due(CALENDAR, OLD, notified).date == dt.date(2026, 10, 10)
    assert deadlines.legal_review_due(CALENDAR, NEW, TODAY).date == dt.date(2026, 11, 16)
    assert deadlines.legal_review_due(CALENDAR, NEW, dt.date(2026, 12, 28)).provisional
    assert deadlines.earliest_hearing_day(NEW, TODAY) == dt.date(2026, 11, 9)
    assert deadlines.delivery_due(CALENDAR, NEW, TODAY) == dt.date(2026, 11, 9)
    assert deadlines.payment_due(CALENDAR, NEW, TODAY) == dt.date(2026, 11, 17)


# ---------------------------------------------------------------- as stored


def test_penalties_round_trip_through_the_stored_json():
    proposed = penalty(sanction("FINE", "2000.5"), sanction("CONFISCATE_GOODS", None, "过期牛奶", 0),
                       party_kind="INDIVIDUAL")
    again = penalty_from_json(penalty_json(proposed))
    assert again is not None and again.party_kind == "INDIVIDUAL" and not again.simplified
    assert again.sanctions[0].amount_yuan == Decimal("2000.50") and again.sanctions[1].amount_yuan is None
    assert penalty_from_json("") is None
    case = Case(sanctions=sanctions_json(proposed.sanctions), proposed_penalty="", penalty_kind="FINE")
    assert [s.kind for s in case_sanctions(case)] == ["FINE", "CONFISCATE_GOODS"]
    assert case_proposed_penalty(case) is None


def test_a_case_decided_before_sanctions_were_lists_shows_its_one_kind_and_fine():
    legacy = Case(sanctions="[]", penalty_kind="FINE", fine_yuan=Decimal("2000.00"))
    assert case_sanctions(legacy) == list(penalty(sanction("FINE", "2000.00")).sanctions)
    assert case_sanctions(Case(sanctions="[]", penalty_kind=None)) == []


def test_a_penalty_input_is_a_plain_value():
    assert PenaltyInput("INDIVIDUAL", False, ()) == penalty(party_kind="INDIVIDUAL")
