"""What a lead and a penalty decision must look like, in plain Python."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from services.common.credit_code import normalise_uscc, validate_uscc
from services.common.errors import Violations
from services.mobile_enforcement.domain.rules import RuleSet
from services.mobile_enforcement.domain.vocabulary import (
    FINE,
    INDIVIDUAL,
    LEAD_SOURCES,
    NO_PENALTY,
    ORGANISATION,
    PAUSE_REASONS,
    TESTING,
    WARNING,
)

MAX_PARTY_NAME = 200
MAX_ADDRESS = 300
MAX_SOURCE_REF = 64
MAX_TEXT = 4000
MAX_NAME = 100
MAX_FINE = Decimal("1000000000")
# A clock a few minutes ahead of ours is still "now".
CLOCK_SKEW = dt.timedelta(minutes=5)
PENALTY_KINDS = (NO_PENALTY, WARNING, FINE)
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
class PenaltyInput:
    """A penalty decision (处罚决定) as proposed: its kind, the party's kind, the fine and the procedure."""

    kind: str
    party_kind: str | None
    fine_yuan: Decimal | None
    simplified: bool


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


def check_penalty(penalty: PenaltyInput, rules: RuleSet) -> None:
    """The decision's own consistency, and the simplified procedure's limits of the rule set."""
    violations = Violations()
    if penalty.kind not in PENALTY_KINDS:
        violations.add("penalty.kind", f"must be one of {', '.join(PENALTY_KINDS)}")
    if penalty.party_kind not in PARTY_KINDS:
        violations.add("penalty.party_kind", f"must be one of {', '.join(PARTY_KINDS)}")
    if penalty.kind == FINE:
        if penalty.fine_yuan is None or penalty.fine_yuan <= 0:
            violations.add("penalty.fine", "a fine needs an amount above zero")
        elif penalty.fine_yuan > MAX_FINE:
            violations.add("penalty.fine", f"at most {MAX_FINE} yuan")
    elif penalty.fine_yuan:
        violations.add("penalty.fine", f"only a fine has an amount, not {penalty.kind}")
    if penalty.simplified and penalty.kind == NO_PENALTY:
        violations.add("penalty.simplified", "the simplified procedure imposes a warning or a fine")
    if penalty.simplified and penalty.kind == FINE and penalty.party_kind in PARTY_KINDS \
            and penalty.fine_yuan is not None:
        limit = (rules.simplified_max_fine_individual if penalty.party_kind == INDIVIDUAL
                 else rules.simplified_max_fine_organisation)
        if penalty.fine_yuan > limit:
            violations.add("penalty.fine", f"the simplified procedure fines {penalty.party_kind.lower()}s at most "
                                           f"{limit} yuan ({rules.id}); file the case and decide it by the "
                                           "ordinary procedure")
    violations.raise_if_any("invalid penalty")
