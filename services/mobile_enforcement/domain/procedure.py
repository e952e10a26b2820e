"""The ordinary penalty procedure's pure rules: which steps a proposed penalty calls for (legal
review, collective discussion, a hearing on request), whether a decision is heavier than the one the
party was notified of, and the late-payment surcharge (加处罚款)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from services.mobile_enforcement.domain.case_rules import FEN, PenaltyInput, SanctionInput
from services.mobile_enforcement.domain.rules import PenaltyClass, RuleSet
from services.mobile_enforcement.domain.vocabulary import (
    CONFISCATE_GAINS,
    CONFISCATE_GOODS,
    FINE,
    INDIVIDUAL,
    NO_PENALTY,
)

# The sanctions whose amounts count towards "large amounts" (较大数额): the fine, the illegal gains
# and the assessed value of the goods confiscated (市场监督管理行政处罚听证办法 2021 art. 5).
MONEY_KINDS = (FINE, CONFISCATE_GAINS, CONFISCATE_GOODS)


@dataclass(frozen=True)
class Classification:
    """What the rule set requires of a proposed penalty before the decision."""

    legal_review_required: bool
    collective_discussion_required: bool
    hearing_eligible: bool


def money_total(sanctions: Sequence[SanctionInput]) -> Decimal:
    """The fine plus the confiscated gains and goods' assessed value, in yuan."""
    return sum((s.amount_yuan or Decimal(0) for s in sanctions if s.kind in MONEY_KINDS), Decimal(0))


def in_class(penalty: PenaltyInput, penalty_class: PenaltyClass) -> bool:
    """Whether the penalty has a kind of the class or money at or above the party's threshold."""
    if any(s.kind in penalty_class.kinds for s in penalty.sanctions):
        return True
    threshold = (penalty_class.fine_individual_from_yuan if penalty.party_kind == INDIVIDUAL
                 else penalty_class.fine_organisation_from_yuan)
    return money_total(penalty.sanctions) >= threshold


def classify(penalty: PenaltyInput, rules: RuleSet) -> Classification:
    """The steps the proposed penalty calls for under the rule set (a decision not to penalise, none)."""
    return Classification(in_class(penalty, rules.major_decisions), in_class(penalty, rules.collective_discussion),
                          in_class(penalty, rules.hearing))


def heavier_than(decided: PenaltyInput, notified: PenaltyInput) -> list[str]:
    """Why the decision is heavier than the penalty the party was notified of (empty when it is not):
    a kind not notified, a higher amount or a longer term, or another kind of party."""
    reasons: list[str] = []
    if decided.party_kind != notified.party_kind:
        reasons.append(f"the notice named the party as {notified.party_kind}, the decision as {decided.party_kind}")
    proposed = {s.kind: s for s in notified.sanctions}
    for sanction in decided.sanctions:
        if sanction.kind == NO_PENALTY:
            continue
        before = proposed.get(sanction.kind)
        if before is None:
            reasons.append(f"{sanction.kind} was not in the notice")
            continue
        if (sanction.amount_yuan or Decimal(0)) > (before.amount_yuan or Decimal(0)):
            reasons.append(f"{sanction.kind} of {sanction.amount_yuan} yuan exceeds the {before.amount_yuan or 0} "
                           "yuan notified")
        if before.duration_days and (sanction.duration_days == 0 or sanction.duration_days > before.duration_days):
            reasons.append(f"{sanction.kind} for {sanction.duration_days or 'no limit of'} days exceeds the "
                           f"{before.duration_days} days notified")
    return reasons


def late_payment_surcharge(fine: Decimal, payment_due: dt.date, day: dt.date, rules: RuleSet) -> Decimal:
    """The surcharge owed on `day` for a fine due on `payment_due`: the rule set's percentage of the
    fine for each day after the due day, rounded to the fen, never more than the fine."""
    late_days = max(0, (day - payment_due).days)
    surcharge = (fine * rules.surcharge_percent_per_day * late_days / Decimal(100)).quantize(FEN, ROUND_HALF_UP)
    return min(surcharge, fine)
