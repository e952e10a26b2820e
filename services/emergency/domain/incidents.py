"""Incidents: reported with their counts, graded, re-graded by later reports, escalated, closed.

An incident is ACTIVE while an action of its plan is open, STABLE once all are done, and CLOSED
with a review. Its level is the criteria's level unless an officer escalated it higher; a re-grade
to a more severe level adds that level's missing actions to the plan.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from services.common.clock import shanghai_date
from services.common.errors import Aborted, FailedPrecondition, NotFound, Violations
from services.emergency.domain import actions, timeline
from services.emergency.domain.directory import officer_of_office
from services.emergency.domain.grading import Grading, grade, with_escalation
from services.emergency.domain.rules import (
    COUNT_FIELDS,
    INCIDENT_TYPES,
    NoRuleSet,
    RuleBook,
    RuleSet,
    TypeRules,
    more_severe,
)
from services.emergency.models import Incident

ACTIVE, STABLE, CLOSED = "ACTIVE", "STABLE", "CLOSED"
MAX_TITLE = 200
MAX_NAME = 200
MAX_TEXT = 4000
COUNT_LABELS = {
    "ill_count": "伤害/发病人数", "death_count": "死亡人数", "serious_injury_count": "重伤人数",
    "trapped_count": "被困人数", "trapped_hours": "被困时长（小时）", "evacuated_count": "转移人数",
    "affected_count": "涉及人数", "provinces_reached": "波及省份", "cities_reached": "波及地市",
    "counties_reached": "波及县区", "economic_loss_yuan": "经济损失（元）",
}
UPDATABLE_FIELDS = (*COUNT_FIELDS, "circumstances")


@dataclass
class IncidentInput:
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


def validate_counts(counts: dict[str, float], violations: Violations) -> None:
    for name in COUNT_FIELDS:
        value = counts[name]
        if not math.isfinite(value):
            violations.add(f"incident.{name}", "must be a finite number")
        elif value < 0:
            violations.add(f"incident.{name}", f"must not be negative (got {value:g})")
    if math.isfinite(counts["trapped_hours"]) and counts["trapped_hours"] > 0 and counts["trapped_count"] <= 0:
        violations.add("incident.trapped_count", "trapped_hours is given, so at least one person was trapped")


def check_circumstances(rules: TypeRules, reported: list[str], violations: Violations) -> None:
    for index, code in enumerate(reported):
        if code not in rules.circumstances:
            violations.add(f"incident.circumstances[{index}]",
                           f"{code!r} is not a circumstance of {rules.type}; known: {', '.join(rules.circumstances)}")


def _check_text(violations: Violations, name: str, value: str, limit: int, *, required: bool = False) -> None:
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
    _check_text(violations, "incident.title", data.title, MAX_TITLE, required=True)
    _check_text(violations, "incident.description", data.description, MAX_TEXT)
    _check_text(violations, "incident.entity_name", data.entity_name, MAX_NAME)
    _check_text(violations, "incident.address", data.address, MAX_NAME)
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
    return rule_set.types[data.type], rule_set.id


def _in_force_or_none(book: RuleBook, day: dt.date) -> RuleSet | None:
    try:
        return book.in_force(day)
    except NoRuleSet:
        return None


def open_incident(session: Session, data: IncidentInput, rules: TypeRules, rule_set_id: str, now: dt.datetime,
                  actor: str) -> Incident:
    circumstances = sorted(set(data.circumstances))
    grading = grade(rules, data.counts, frozenset(circumstances))
    incident = Incident(
        id=str(uuid.uuid4()), office_id=data.office_id, type=data.type, title=data.title.strip(),
        description=data.description.strip(), entity_name=data.entity_name.strip(), address=data.address.strip(),
        occurred_at=data.occurred_at, learned_at=data.learned_at, circumstances=circumstances,
        rule_set=rule_set_id, level=grading.level, criteria_level=grading.level, escalated_level=None,
        escalation_reason="", grading_reasons=[r.to_data() for r in grading.reasons], state=ACTIVE,
        review_cause="", review_measures="", review_lessons="", reported_by=actor, created_at=now,
        updated_at=now, closed_at=None, version=1,
        **{name: _stored(name, data.counts[name]) for name in COUNT_FIELDS})
    session.add(incident)
    session.flush()
    timeline.record(session, incident.id, timeline.REPORTED, actor,
                    f"接报{rules.name}：{incident.title}。{_grading_text(grading)}", now)
    actions.instantiate(session, incident, rules.plan_for(grading.level), incident.learned_at, grading.level,
                        actor, now)
    return incident


def _stored(name: str, value: float) -> float | int:
    return float(value) if name == "trapped_hours" else int(value)


def counts_of(incident: Incident) -> dict[str, float]:
    return {name: getattr(incident, name) for name in COUNT_FIELDS}


def _grading_text(grading: Grading) -> str:
    return f"定为{grading.level}级（{'；'.join(r.text for r in grading.reasons)}）"


def get_incident(session: Session, incident_id: str) -> Incident:
    incident = session.get(Incident, incident_id) if incident_id else None
    if incident is None:
        raise NotFound(f"incident {incident_id!r} not found")
    return incident


def require_open(incident: Incident, what: str) -> None:
    if incident.state == CLOSED:
        raise FailedPrecondition(f"incident {incident.id} is closed; {what} is no longer possible")


def check_version(incident: Incident, expected: int) -> None:
    if expected and expected != incident.version:
        raise Aborted(f"incident {incident.id} is at version {incident.version}, not {expected}; re-read and retry")


def update_counts(session: Session, incident: Incident, rules: TypeRules, counts: dict[str, float],
                  circumstances: list[str], mask: list[str], note: str, expected_version: int, now: dt.datetime,
                  actor: str) -> str | None:
    """Applies a later report; returns the previous level when the level changed."""
    fields = mask or list(UPDATABLE_FIELDS)
    violations = Violations()
    for name in fields:
        if name not in UPDATABLE_FIELDS:
            violations.add("update_mask", f"{name} cannot be updated; allowed: {', '.join(UPDATABLE_FIELDS)}")
    merged = {name: counts[name] if name in fields else value for name, value in counts_of(incident).items()}
    validate_counts(merged, violations)
    reported = list(circumstances) if "circumstances" in fields else list(incident.circumstances)
    check_circumstances(rules, reported, violations)
    _check_text(violations, "note", note, MAX_TEXT)
    violations.raise_if_any("invalid counts")
    require_open(incident, "a new report")
    check_version(incident, expected_version)
    changes = [f"{COUNT_LABELS[name]} {_shown(getattr(incident, name))}→{_shown(merged[name])}"
               for name in COUNT_FIELDS if merged[name] != getattr(incident, name)]
    new_circumstances = sorted(set(reported))
    if new_circumstances != sorted(incident.circumstances):
        labels = [rules.circumstances[c].label for c in new_circumstances]
        changes.append(f"情形：{'、'.join(labels) or '无'}")
    if not changes:
        return None
    for name in COUNT_FIELDS:
        setattr(incident, name, _stored(name, merged[name]))
    incident.circumstances = new_circumstances
    touch(incident, now)
    text = "续报：" + "；".join(changes) + (f"。{note.strip()}" if note.strip() else "")
    timeline.record(session, incident.id, timeline.COUNTS_UPDATED, actor, text, now)
    return regrade(session, incident, rules, now, actor)


def _shown(value: float) -> str:
    return f"{value:g}"


def escalate(session: Session, incident: Incident, rules: TypeRules, level: str | None, reason: str,
             now: dt.datetime, actor: str) -> str | None:
    violations = Violations()
    if level is None:
        violations.add("level", "required")
    _check_text(violations, "reason", reason, MAX_TEXT, required=True)
    violations.raise_if_any("invalid escalation")
    require_open(incident, "escalation")
    if not more_severe(level, incident.level):
        floor = (f"; the criteria give {incident.criteria_level}, and a level below them is never set"
                 if more_severe(incident.criteria_level, level) else "")
        violations.add("level", f"{level} is not above the incident's level {incident.level}{floor}")
        raise FailedPrecondition("an officer may only raise the level", violations.items)
    incident.escalated_level, incident.escalation_reason = level, reason.strip()
    touch(incident, now)
    return regrade(session, incident, rules, now, actor)


def regrade(session: Session, incident: Incident, rules: TypeRules, now: dt.datetime, actor: str) -> str | None:
    """Grades the incident again; a more severe level adds its plan's missing actions."""
    criteria = grade(rules, counts_of(incident), frozenset(incident.circumstances))
    grading = with_escalation(criteria, incident.escalated_level, incident.escalation_reason)
    previous = incident.level
    incident.criteria_level, incident.level = criteria.level, grading.level
    incident.grading_reasons = [r.to_data() for r in grading.reasons]
    if grading.level == previous:
        return None
    timeline.record(session, incident.id, timeline.LEVEL_CHANGED, actor,
                    f"等级由{previous}级调整为{grading.level}级：{_grading_text(grading)}", now)
    if more_severe(grading.level, previous):
        # An action the plan did not require until now cannot have been late before now: its
        # deadline runs from the re-grade, not from when the office first learned of the incident.
        added = actions.instantiate(session, incident, rules.plan_for(grading.level), now, grading.level, actor, now)
        if added and incident.state == STABLE:
            incident.state = ACTIVE
    return previous


def add_note(session: Session, incident: Incident, note: str, now: dt.datetime, actor: str) -> None:
    violations = Violations()
    _check_text(violations, "note", note, MAX_TEXT, required=True)
    violations.raise_if_any("invalid note")
    require_open(incident, "a note")
    touch(incident, now)
    timeline.record(session, incident.id, timeline.NOTE, actor, note.strip(), now)


@dataclass(frozen=True)
class ReviewInput:
    cause: str
    measures: str
    lessons: str


def close(session: Session, incident: Incident, review: ReviewInput, now: dt.datetime, actor: str) -> None:
    violations = Violations()
    for name in ("cause", "measures", "lessons"):
        _check_text(violations, f"review.{name}", getattr(review, name), MAX_TEXT, required=True)
    violations.raise_if_any("a closure needs its review")
    require_open(incident, "closing it again")
    if incident.state != STABLE:
        open_count = len(actions.open_actions(session, incident.id))
        raise FailedPrecondition(f"incident {incident.id} still has {open_count} open action(s); "
                                 "complete them before the review closes it")
    incident.review_cause, incident.review_measures = review.cause.strip(), review.measures.strip()
    incident.review_lessons = review.lessons.strip()
    incident.state, incident.closed_at = CLOSED, now
    touch(incident, now)
    timeline.record(session, incident.id, timeline.CLOSED, actor, f"结案。原因：{incident.review_cause}", now)


def touch(incident: Incident, now: dt.datetime) -> None:
    incident.updated_at = now
    incident.version += 1


def assign_action(session: Session, incident: Incident, action_id: str, officer_id: str, now: dt.datetime,
                  actor: str) -> None:
    require_open(incident, "dispatch")
    action = actions.get_action(session, incident, action_id)
    officer = officer_of_office(session, officer_id, incident.office_id)
    actions.assign(session, incident, action, officer, now, actor)
    touch(incident, now)


def complete_action(session: Session, incident: Incident, action_id: str, note: str, done_at: dt.datetime | None,
                    now: dt.datetime, actor: str) -> None:
    require_open(incident, "completing an action")
    action = actions.get_action(session, incident, action_id)
    if actions.complete(session, incident, action, note, done_at, now, actor):
        incident.state = STABLE
    touch(incident, now)
