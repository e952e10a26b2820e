"""What a lead and a penalty decision must look like, in plain Python."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.common.credit_code import normalise_uscc, validate_uscc
from services.common.errors import Violations
from services.mobile_enforcement.domain.rules import RuleSet
from services.mobile_enforcement.domain.vocabulary import (
    ADMINISTRATIVE_DETENTION,
    AMOUNT_ALLOWED,
    AMOUNT_REQUIRED,
    DETAIL_REQUIRED,
    DURATION_ALLOWED,
    FINE,
    INDIVIDUAL,
    LEAD_SOURCES,
    NO_PENALTY,
    ORGANISATION,
    PAUSE_REASONS,
    PENALTY_KINDS,
    SIMPLIFIED_KINDS,
    TESTING,
)
from services.mobile_enforcement.models import Case

MAX_PARTY_NAME = 200
MAX_ADDRESS = 300
MAX_SOURCE_REF = 64
MAX_TEXT = 4000
MAX_NAME = 100
MAX_LONG_TEXT = 20000
MAX_DETAIL = 500
MAX_FINE = Decimal("1000000000")
FEN = Decimal("0.01")
# A term longer than a century is a typo (a lifelong restriction has no term: 0).
MAX_DURATION_DAYS = 36500
# A clock a few minutes ahead of ours is still "now".
CLOCK_SKEW = dt.timedelta(minutes=5)
PARTY_KINDS = (INDIVIDUAL, ORGANISATION)


@dataclass
class LeadInput:
    """A case lead (案源) as it is reported: the party, where it came from and what is suspected."""

    office_id: str
    entity_id: str
    party_name: str
    party_uscc: str
    party_address: str
    source: str
    source_ref: str
    description: str
    received_at: dt.datetime | None


@dataclass(frozen=True)
class SanctionInput:
    """One penalty of a decision (行政处罚种类): its kind, and the amount, detail and term the kind takes."""

    kind: str                      # vocabulary name, e.g. "FINE"
    amount_yuan: Decimal | None
    detail: str
    duration_days: int


@dataclass(frozen=True)
class PenaltyInput:
    """A penalty decision (处罚决定) as proposed or decided: the party's kind, the procedure and the sanctions."""

    party_kind: str | None
    simplified: bool
    sanctions: tuple[SanctionInput, ...]


@dataclass(frozen=True)
class InvestigationInput:
    """The investigation's conclusion (调查终结): the facts found, the legal basis and the intended penalty."""

    facts: str
    legal_basis: str
    proposed: PenaltyInput


def check_lead(data: LeadInput, now: dt.datetime) -> LeadInput:
    """The lead trimmed and normalised, its receipt defaulting to now; InvalidArgument naming each bad field."""
    violations = Violations()
    if data.source not in LEAD_SOURCES:
        violations.add("lead.source", f"must be one of {', '.join(LEAD_SOURCES)}")
    if len(data.source_ref) > MAX_SOURCE_REF:
        violations.add("lead.source_ref", f"at most {MAX_SOURCE_REF} characters")
    if not data.description.strip():
        violations.add("lead.description", "say what the suspected violation is")
    elif len(data.description) > MAX_TEXT:
        violations.add("lead.description", f"at most {MAX_TEXT} characters")
    if not data.entity_id.strip():
        if not data.party_name.strip():
            violations.add("lead.party.name", "required when the lead names no registered entity")
        if not data.office_id.strip():
            violations.add("lead.office_id", "required when the lead names no registered entity")
    if len(data.party_name) > MAX_PARTY_NAME:
        violations.add("lead.party.name", f"at most {MAX_PARTY_NAME} characters")
    if len(data.party_address) > MAX_ADDRESS:
        violations.add("lead.party.address", f"at most {MAX_ADDRESS} characters")
    uscc = normalise_uscc(data.party_uscc)
    if uscc and (problem := validate_uscc(uscc)):
        violations.add("lead.party.uscc", problem)
    received = data.received_at or now
    if received > now + CLOCK_SKEW:
        violations.add("lead.received_time", "is in the future")
    violations.raise_if_any("invalid lead")
    return LeadInput(data.office_id.strip(), normalise_uscc(data.entity_id), data.party_name.strip(), uscc,
                     data.party_address.strip(), data.source, data.source_ref.strip(), data.description.strip(),
                     received)


def check_text(violations: Violations, field: str, value: str, *, required: bool, limit: int = MAX_TEXT) -> str:
    """A free text trimmed, noting in `violations` when it is empty but required or too long."""
    if required and not value.strip():
        violations.add(field, "must not be empty")
    elif len(value) > limit:
        violations.add(field, f"at most {limit} characters")
    return value.strip()


def check_pause_reason(reason: str, lead: bool) -> None:
    """Refuses a pause of a clock for a reason the law does not allow (for a lead: testing only)."""
    violations = Violations()
    if reason not in PAUSE_REASONS:
        violations.add("reason", f"must be one of {', '.join(PAUSE_REASONS)}")
    elif lead and reason != TESTING:
        violations.add("reason", "a lead's filing clock stops only for testing, inspection, quarantine or "
                                 "expert opinion (TESTING)")
    violations.raise_if_any("invalid pause")


def check_penalty(penalty: PenaltyInput, rules: RuleSet, field: str = "penalty") -> PenaltyInput:
    """The decision's own consistency (kinds, amounts, details, terms), and the simplified procedure's
    limits of the rule set; returns it with its details trimmed. InvalidArgument names each bad field."""
    violations = Violations()
    if penalty.party_kind not in PARTY_KINDS:
        violations.add(f"{field}.party_kind", f"must be one of {', '.join(PARTY_KINDS)}")
    if not penalty.sanctions:
        violations.add(f"{field}.sanctions", "at least one sanction (NONE for a decision not to penalise)")
    elif len(penalty.sanctions) > len(PENALTY_KINDS):
        violations.add(f"{field}.sanctions", f"at most {len(PENALTY_KINDS)} sanctions, each kind once")
    kinds = [sanction.kind for sanction in penalty.sanctions]
    for index, sanction in enumerate(penalty.sanctions):
        _check_sanction(violations, f"{field}.sanctions[{index}]", sanction)
        if sanction.kind in kinds[:index]:
            violations.add(f"{field}.sanctions[{index}].kind", f"{sanction.kind} is listed twice; each kind at "
                                                               "most once per decision")
    if NO_PENALTY in kinds and len(kinds) > 1:
        violations.add(f"{field}.sanctions", "NONE (不予行政处罚) stands alone in a decision")
    if penalty.simplified:
        _check_simplified(violations, field, penalty, rules)
    violations.raise_if_any("invalid penalty")
    return PenaltyInput(penalty.party_kind, penalty.simplified,
                        tuple(SanctionInput(s.kind, s.amount_yuan, s.detail.strip(), s.duration_days)
                              for s in penalty.sanctions))


def _check_sanction(violations: Violations, where: str, sanction: SanctionInput) -> None:
    if sanction.kind == ADMINISTRATIVE_DETENTION:
        violations.add(f"{where}.kind", "行政拘留由公安机关决定，不属于市场监督管理部门的处罚种类 (administrative "
                                        "detention is for the public security organs, not the market regulator's)")
        return
    if sanction.kind not in PENALTY_KINDS:
        violations.add(f"{where}.kind", f"must be one of {', '.join(PENALTY_KINDS)}")
        return
    amount = sanction.amount_yuan
    if sanction.kind in AMOUNT_REQUIRED and (amount is None or amount <= 0):
        violations.add(f"{where}.amount", f"{sanction.kind} needs an amount above zero")
    elif amount and sanction.kind not in AMOUNT_ALLOWED:
        violations.add(f"{where}.amount", f"only {', '.join(AMOUNT_ALLOWED)} have an amount, not {sanction.kind}")
    elif amount is not None and amount < 0:
        violations.add(f"{where}.amount", "must not be negative")
    elif amount is not None and amount > MAX_FINE:
        violations.add(f"{where}.amount", f"at most {MAX_FINE} yuan")
    elif amount is not None and amount != amount.quantize(FEN):
        violations.add(f"{where}.amount", "at most two decimals (fen)")
    if sanction.kind in DETAIL_REQUIRED and not sanction.detail.strip():
        violations.add(f"{where}.detail", f"{sanction.kind} names what is confiscated, suspended or revoked")
    elif len(sanction.detail) > MAX_DETAIL:
        violations.add(f"{where}.detail", f"at most {MAX_DETAIL} characters")
    if sanction.duration_days < 0 or sanction.duration_days > MAX_DURATION_DAYS:
        violations.add(f"{where}.duration_days", f"must be 0 (no term) to {MAX_DURATION_DAYS}")
    elif sanction.duration_days and sanction.kind not in DURATION_ALLOWED:
        violations.add(f"{where}.duration_days", f"only {', '.join(DURATION_ALLOWED)} have a term, "
                                                 f"not {sanction.kind}")


def _check_simplified(violations: Violations, field: str, penalty: PenaltyInput, rules: RuleSet) -> None:
    kinds = [sanction.kind for sanction in penalty.sanctions]
    if any(kind not in SIMPLIFIED_KINDS for kind in kinds):
        violations.add(f"{field}.simplified", "the simplified procedure imposes a warning or a fine only; file the "
                                              "case and decide it by the ordinary procedure")
    fine = fine_of(penalty.sanctions)
    if fine is not None and penalty.party_kind in PARTY_KINDS:
        limit = (rules.simplified_max_fine_individual if penalty.party_kind == INDIVIDUAL
                 else rules.simplified_max_fine_organisation)
        if fine > limit:
            index = kinds.index(FINE)
            violations.add(f"{field}.sanctions[{index}].amount",
                           f"the simplified procedure fines {str(penalty.party_kind).lower()}s at most {limit} yuan "
                           f"({rules.id}); file the case and decide it by the ordinary procedure")


def check_investigation(findings: InvestigationInput, rules: RuleSet) -> InvestigationInput:
    """The conclusion trimmed, its facts and basis present and its proposed penalty sound (never simplified)."""
    violations = Violations()
    facts = check_text(violations, "facts", findings.facts, required=True, limit=MAX_LONG_TEXT)
    legal_basis = check_text(violations, "legal_basis", findings.legal_basis, required=True)
    if findings.proposed.simplified:
        violations.add("proposed_penalty.simplified", "a filed case is decided by the ordinary procedure")
    violations.raise_if_any("invalid conclusion of the investigation")
    proposed = check_penalty(findings.proposed, rules, "proposed_penalty")
    return InvestigationInput(facts, legal_basis, proposed)


# ---------------------------------------------------------------- stored penalties


def fine_of(sanctions: Sequence[SanctionInput]) -> Decimal | None:
    """The fine of the sanctions, None without one."""
    return next((s.amount_yuan for s in sanctions if s.kind == FINE), None)


def amount_of(sanctions: Sequence[SanctionInput], kind: str) -> Decimal | None:
    """The amount the sanction of that kind carries, None without one."""
    return next((s.amount_yuan for s in sanctions if s.kind == kind), None)


def _sanction_data(sanction: SanctionInput) -> dict[str, Any]:
    amount = None if sanction.amount_yuan is None else f"{sanction.amount_yuan:.2f}"
    return {"kind": sanction.kind, "amount_yuan": amount, "detail": sanction.detail,
            "duration_days": sanction.duration_days}


def _sanction(data: dict[str, Any]) -> SanctionInput:
    amount = data.get("amount_yuan")
    return SanctionInput(str(data["kind"]), None if amount is None else Decimal(str(amount)),
                         str(data.get("detail", "")), int(data.get("duration_days", 0)))


def sanctions_json(sanctions: Sequence[SanctionInput]) -> str:
    """The sanctions as Case.sanctions stores them (a JSON list, amounts as "2000.00")."""
    return json.dumps([_sanction_data(s) for s in sanctions], ensure_ascii=False)


def penalty_json(penalty: PenaltyInput) -> str:
    """A penalty as Case.proposed_penalty stores it."""
    return json.dumps({"party_kind": penalty.party_kind, "simplified": penalty.simplified,
                       "sanctions": [_sanction_data(s) for s in penalty.sanctions]}, ensure_ascii=False)


def penalty_from_json(stored_text: str) -> PenaltyInput | None:
    """A penalty penalty_json stored; None for the empty text of a case never concluded."""
    if not stored_text:
        return None
    data = json.loads(stored_text)
    return PenaltyInput(data.get("party_kind"), bool(data.get("simplified")),
                        tuple(_sanction(item) for item in data.get("sanctions", [])))


def case_sanctions(case: Case) -> list[SanctionInput]:
    """The decided sanctions of a case, in the decision's order; empty before the decision. A case
    decided before sanctions were stored as a list shows its one kind and fine."""
    items = [_sanction(item) for item in json.loads(case.sanctions or "[]")]
    if not items and case.penalty_kind:
        items = [SanctionInput(case.penalty_kind, case.fine_yuan, "", 0)]
    return items


def case_proposed_penalty(case: Case) -> PenaltyInput | None:
    """The penalty the investigation proposed (and the advance notice announced); None before it."""
    return penalty_from_json(case.proposed_penalty)
