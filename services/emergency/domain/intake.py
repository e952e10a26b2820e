"""Taking in an incident's first report (接报): what it must hold, checked all at once, and the rule
set it is graded by."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from services.common.clock import shanghai_date
from services.common.errors import Violations
from services.emergency.domain import actions
from services.emergency.domain.rules import COUNT_FIELDS, INCIDENT_TYPES, NoRuleSet, RuleBook, RuleSet, TypeRules

MAX_TITLE = 200
MAX_NAME = 200
MAX_TEXT = 4000


@dataclass
class IncidentInput:
    """An incident as an office first reports it (接报): type, office, what happened, when, the counts."""

    type: str | None
    office_id: str
    title: str
    description: str = ""
    entity_name: str = ""
    address: str = ""
    occurred_at: dt.datetime | None = None
    learned_at: dt.datetime | None = None
    counts: dict[str, float] = field(default_factory=lambda: dict.fromkeys(COUNT_FIELDS, 0))
    circumstances: list[str] = field(default_factory=list)


def validate_counts(counts: Mapping[str, float], violations: Violations) -> None:
    """Notes every count that is negative or not a number, and trapped hours without anyone trapped."""
    for name in COUNT_FIELDS:
        value = counts[name]
        if not math.isfinite(value):
            violations.add(f"incident.{name}", "must be a finite number")
        elif value < 0:
            violations.add(f"incident.{name}", f"must not be negative (got {value:g})")
    if math.isfinite(counts["trapped_hours"]) and counts["trapped_hours"] > 0 and counts["trapped_count"] <= 0:
        violations.add("incident.trapped_count", "trapped_hours is given, so at least one person was trapped")


def check_circumstances(rules: TypeRules, reported: Sequence[str], violations: Violations) -> None:
    """Notes every reported circumstance the type's rules do not know."""
    for index, code in enumerate(reported):
        if code not in rules.circumstances:
            violations.add(f"incident.circumstances[{index}]",
                           f"{code!r} is not a circumstance of {rules.type}; known: {', '.join(rules.circumstances)}")


def check_text(violations: Violations, name: str, value: str, limit: int, *, required: bool = False) -> None:
    """Notes a text that is longer than `limit`, or blank where it is required."""
    if required and not value.strip():
        violations.add(name, "must not be empty")
    elif len(value) > limit:
        violations.add(name, f"at most {limit} characters")


def validate_report(data: IncidentInput, book: RuleBook, now: dt.datetime) -> tuple[TypeRules, str]:
    """Everything wrong with a report, at once; returns the type's rules and the rule set id."""
    violations = Violations()
    if data.type is None:
        violations.add("incident.type", "required")
    elif data.type not in INCIDENT_TYPES:
        violations.add("incident.type", f"unknown type {data.type!r}")
    if not data.office_id:
        violations.add("incident.office_id", "must not be empty")
    check_text(violations, "incident.title", data.title, MAX_TITLE, required=True)
    check_text(violations, "incident.description", data.description, MAX_TEXT)
    check_text(violations, "incident.entity_name", data.entity_name, MAX_NAME)
    check_text(violations, "incident.address", data.address, MAX_NAME)
    latest = now + actions.CLOCK_SKEW
    if data.occurred_at is None:
        violations.add("incident.occurred_at", "required")
    elif data.occurred_at > latest:
        violations.add("incident.occurred_at", "is in the future")
    rule_set = None
    if data.learned_at is None:
        violations.add("incident.learned_at", "required")
    elif data.learned_at > latest:
        violations.add("incident.learned_at", "is in the future")
    elif data.occurred_at is not None and data.learned_at < data.occurred_at:
        violations.add("incident.learned_at", "is before occurred_at: an office cannot learn of an incident "
                                              "before it happens")
    else:
        try:
            rule_set = book.in_force(shanghai_date(data.learned_at))
        except NoRuleSet as exc:
            violations.add("incident.learned_at", str(exc))
    validate_counts(data.counts, violations)
    # With learned_at unusable the codes are still checked, against the rules in force today.
    vocabulary = rule_set or _in_force_or_none(book, shanghai_date(now))
    if vocabulary is not None and data.type in INCIDENT_TYPES:
        check_circumstances(vocabulary.types[data.type], data.circumstances, violations)
    violations.raise_if_any("invalid incident")
    assert rule_set is not None and data.type is not None  # else a violation was raised above
    return rule_set.types[data.type], rule_set.id


def _in_force_or_none(book: RuleBook, day: dt.date) -> RuleSet | None:
    try:
        return book.in_force(day)
    except NoRuleSet:
        return None
