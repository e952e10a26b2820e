"""Incidents: reported with their counts, graded, re-graded by later reports, escalated, closed.

An incident is ACTIVE while an action of its plan is open, STABLE once all are done, and CLOSED
with a review. Its level is the criteria's level unless an officer escalated it higher; a re-grade
to a more severe level adds that level's missing actions to the plan. An incident meeting no
criterion of a type with its own outcome below level IV has no level (BELOW_IV): its outcome says
what it is (below level IV, or not an accident) and its plan is that outcome's handling.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.access import office_scope, require_read, require_write
from services.common.context import Caller
from services.common.contracts import timestamp_of
from services.common.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound, Violations
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from services.emergency.domain import actions, timeline
from services.emergency.domain.directory import known_office, officer_of_office
from services.emergency.domain.grading import Grading, grade, with_escalation
from services.emergency.domain.intake import (
    MAX_TEXT,
    IncidentInput,
    check_circumstances,
    check_text,
    validate_counts,
    validate_report,
)
from services.emergency.domain.rules import (
    BELOW_IV,
    COUNT_FIELDS,
    NOTIFICATION,
    NoRuleSet,
    PlannedAction,
    RuleSet,
    TypeRules,
    more_severe,
)
from services.emergency.domain.workspace import Workspace
from services.emergency.models import Incident, IncidentAction, RequestKey, TimelineEntry
from supervision.emergency.v1 import events_pb2

ACTIVE, STABLE, CLOSED = "ACTIVE", "STABLE", "CLOSED"
COUNT_LABELS = {
    "ill_count": "伤害/发病人数", "death_count": "死亡人数", "serious_injury_count": "重伤人数",
    "trapped_count": "被困人数", "trapped_hours": "被困时长（小时）", "evacuated_count": "转移人数",
    "affected_count": "涉及人数", "provinces_reached": "波及省份", "cities_reached": "波及地市",
    "counties_reached": "波及县区", "economic_loss_yuan": "经济损失（元）",
}
UPDATABLE_FIELDS = (*COUNT_FIELDS, "circumstances")

# Every event emergency publishes is about one incident and starts with the same eight fields.
IncidentMessage = (events_pb2.IncidentReported | events_pb2.IncidentLevelChanged | events_pb2.IncidentClosed
                   | events_pb2.ActionOverdue | events_pb2.NotificationOverdue)


@dataclass(frozen=True)
class IncidentView:
    """An incident with its actions, and its timeline when read alone."""

    incident: Incident
    actions: list[IncidentAction]
    # Empty in lists: only a single incident is read with its timeline.
    timeline: list[TimelineEntry]


@dataclass(frozen=True)
class ReviewInput:
    """The review (总结评估) that closes an incident: cause, measures taken, lessons learned."""

    cause: str
    measures: str
    lessons: str


def open_incident(session: Session, data: IncidentInput, rules: TypeRules, rule_set_id: str, now: dt.datetime,
                  actor: str) -> Incident:
    """A new ACTIVE incident, graded by its type's rules, with the plan's actions for its level."""
    circumstances = sorted(set(data.circumstances))
    grading = grade(rules, data.counts, frozenset(circumstances))
    incident = Incident(
        id=str(uuid.uuid4()), office_id=data.office_id, type=data.type, title=data.title.strip(),
        description=data.description.strip(), entity_name=data.entity_name.strip(), address=data.address.strip(),
        occurred_at=data.occurred_at, learned_at=data.learned_at, circumstances=circumstances,
        rule_set=rule_set_id, level=grading.level, criteria_level=grading.level, escalated_level=None,
        outcome=grading.outcome, handling=grading.handling, unit_report_late=False,
        escalation_reason="", grading_reasons=[r.to_data() for r in grading.reasons], state=ACTIVE,
        review_cause="", review_measures="", review_lessons="", reported_by=actor, created_at=now,
        updated_at=now, closed_at=None, version=1,
        **{name: _stored(name, data.counts[name]) for name in COUNT_FIELDS})
    session.add(incident)
    session.flush()
    timeline.record(session, incident.id, timeline.REPORTED, actor,
                    f"接报{rules.name}：{incident.title}。{_grading_text(grading)}", now)
    _note_late_unit_report(session, incident, rules, now)
    actions.instantiate(session, incident, _plan(rules, incident), incident.learned_at, grading.level, actor, now)
    return incident


def _note_late_unit_report(session: Session, incident: Incident, rules: TypeRules, now: dt.datetime) -> None:
    """Records, once, that an accident reached the regulator later than the rule set gives the unit."""
    limit = rules.unit_report_within
    # Below level IV it is no accident, so the unit owed no report (yet).
    if limit is None or incident.level == BELOW_IV or incident.unit_report_late:
        return
    if incident.learned_at - incident.occurred_at > limit:
        incident.unit_report_late = True
        hours = limit.total_seconds() / 3600
        timeline.record(session, incident.id, timeline.NOTE, "system",
                        f"事故单位迟报：事故发生于{timeline.local_time(incident.occurred_at)}，"
                        f"{timeline.local_time(incident.learned_at)}方报告，超过{hours:g}小时报告时限", now)


def _plan(rules: TypeRules, incident: Incident) -> list[PlannedAction]:
    """The plan the incident's level calls for (below IV: its handling's)."""
    return rules.plan_for(incident.level, rules.with_implied(frozenset(incident.circumstances)))


def _stored(name: str, value: float) -> float | int:
    return float(value) if name == "trapped_hours" else int(value)


def counts_of(incident: Incident) -> dict[str, float]:
    """The incident's counts by field name."""
    return {name: getattr(incident, name) for name in COUNT_FIELDS}


def _grading_text(grading: Grading) -> str:
    if grading.level == BELOW_IV:
        return f"不定级（{'；'.join(r.text for r in grading.reasons)}）"
    return f"定为{grading.level}级（{'；'.join(r.text for r in grading.reasons)}）"


def _level_text(level: str) -> str:
    return f"{level}级" if level else "不定级"


def get_incident(session: Session, incident_id: str) -> Incident:
    """The stored incident, or NotFound."""
    incident = session.get(Incident, incident_id) if incident_id else None
    if incident is None:
        raise NotFound(f"incident {incident_id!r} not found")
    return incident


def require_open(incident: Incident, what: str) -> None:
    """Refuses `what` on a closed incident."""
    if incident.state == CLOSED:
        raise FailedPrecondition(f"incident {incident.id} is closed; {what} is no longer possible")


def check_version(incident: Incident, expected: int) -> None:
    """Refuses a change made against a version other than the stored one (0 expects none)."""
    if expected and expected != incident.version:
        raise Aborted(f"incident {incident.id} is at version {incident.version}, not {expected}; re-read and retry")


def update_counts(session: Session, incident: Incident, rules: TypeRules, counts: Mapping[str, float],
                  circumstances: Sequence[str], mask: Sequence[str], note: str, expected_version: int,
                  now: dt.datetime, actor: str) -> str | None:
    """Applies a later report; returns the previous level when the level changed."""
    fields = list(mask) or list(UPDATABLE_FIELDS)
    violations = Violations()
    for name in fields:
        if name not in UPDATABLE_FIELDS:
            violations.add("update_mask", f"{name} cannot be updated; allowed: {', '.join(UPDATABLE_FIELDS)}")
    merged = {name: counts[name] if name in fields else value for name, value in counts_of(incident).items()}
    validate_counts(merged, violations)
    reported = list(circumstances) if "circumstances" in fields else list(incident.circumstances)
    check_circumstances(rules, reported, violations)
    check_text(violations, "note", note, MAX_TEXT)
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
    """An officer raises the level above the criteria's; returns the previous level when it changed."""
    violations = Violations()
    if level is None:
        violations.add("level", "required")
    check_text(violations, "reason", reason, MAX_TEXT, required=True)
    violations.raise_if_any("invalid escalation")
    assert level is not None  # else "required" was raised above
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
    """Grades the incident again; a more severe level, or a handling below IV, adds its plan's missing actions."""
    criteria = grade(rules, counts_of(incident), frozenset(incident.circumstances))
    grading = with_escalation(criteria, incident.escalated_level, incident.escalation_reason)
    previous, previous_handling = incident.level, incident.handling
    incident.criteria_level, incident.level = criteria.level, grading.level
    incident.outcome, incident.handling = grading.outcome, grading.handling
    incident.grading_reasons = [r.to_data() for r in grading.reasons]
    if grading.level == previous and grading.handling == previous_handling:
        return None
    if grading.level != previous:
        timeline.record(session, incident.id, timeline.LEVEL_CHANGED, actor,
                        f"等级由{_level_text(previous)}调整为{_level_text(grading.level)}：{_grading_text(grading)}",
                        now)
    # A more severe level, or a handling below IV the new facts call for, adds the actions the plan
    # did not require until now. Those cannot have been late before now: their deadlines run from
    # the re-grade, not from when the office first learned of the incident.
    _note_late_unit_report(session, incident, rules, now)
    if more_severe(grading.level, previous) or grading.level == BELOW_IV:
        added = actions.instantiate(session, incident, _plan(rules, incident), now, grading.level, actor, now)
        if added and incident.state == STABLE:
            incident.state = ACTIVE
    return previous if grading.level != previous else None


def add_note(session: Session, incident: Incident, note: str, now: dt.datetime, actor: str) -> None:
    """Adds a note to an open incident's timeline."""
    violations = Violations()
    check_text(violations, "note", note, MAX_TEXT, required=True)
    violations.raise_if_any("invalid note")
    require_open(incident, "a note")
    touch(incident, now)
    timeline.record(session, incident.id, timeline.NOTE, actor, note.strip(), now)


def close(session: Session, incident: Incident, review: ReviewInput, now: dt.datetime, actor: str) -> None:
    """Closes a STABLE incident with its review."""
    violations = Violations()
    for name in ("cause", "measures", "lessons"):
        check_text(violations, f"review.{name}", getattr(review, name), MAX_TEXT, required=True)
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
    """Dates a change to the incident and moves its version on."""
    incident.updated_at = now
    incident.version += 1


def assign_action(session: Session, incident: Incident, action_id: str, officer_id: str, now: dt.datetime,
                  actor: str) -> None:
    """Dispatches an officer of the incident's office to one of its open actions."""
    require_open(incident, "dispatch")
    action = actions.get_action(session, incident, action_id)
    officer = officer_of_office(session, officer_id, incident.office_id)
    actions.assign(session, incident, action, officer, now, actor)
    touch(incident, now)


def complete_action(session: Session, incident: Incident, action_id: str, note: str, done_at: dt.datetime | None,
                    now: dt.datetime, actor: str) -> None:
    """Marks an action done; the incident is STABLE once its last open action is."""
    require_open(incident, "completing an action")
    action = actions.get_action(session, incident, action_id)
    if actions.complete(session, incident, action, note, done_at, now, actor):
        incident.state = STABLE
    touch(incident, now)


def report_due(action_rows: Sequence[IncidentAction]) -> dt.datetime | None:
    """When the first report to the superior is due."""
    return min((a.due_at for a in action_rows if a.kind == NOTIFICATION), default=None)


def grading_basis(reasons: Sequence[Mapping[str, str]]) -> list[events_pb2.GradingBasis]:
    """The stored grading reasons ({"level", "criterion", "text"}) as the events carry them."""
    return [events_pb2.GradingBasis(level=r["level"], criterion=r["criterion"], text=r["text"]) for r in reasons]


Change = Callable[[Session, Incident, TypeRules, dt.datetime], None]


class Incidents:
    """The response to incidents (突发事件): reporting, grading, dispatching, completing actions, closing."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def report_incident(self, caller: Caller, request_id: str, data: IncidentInput) -> IncidentView:
        """An office reports an incident (接报): graded, its plan started, once per request id."""
        rules, rule_set_id = validate_report(data, self.workspace.book, self.workspace.now())
        require_write(caller, data.office_id)

        def create(session: Session) -> str:
            known_office(session, data.office_id, "incident.office_id")
            incident = open_incident(session, data, rules, rule_set_id, self.workspace.now(), caller.subject)
            due = report_due(actions.actions_of(session, [incident.id])[incident.id])
            self._record(session, events_pb2.IncidentReported, incident,
                         description=incident.description, occurred_at=timestamp_of(incident.occurred_at),
                         report_due=timestamp_of(due), rule_set=incident.rule_set,
                         grading_reasons=grading_basis(incident.grading_reasons), outcome=incident.outcome,
                         handling=incident.handling, unit_report_late=incident.unit_report_late)
            self.workspace.touched(session, [incident.office_id])
            return incident.id

        def load(session: Session, incident_id: str) -> IncidentView:
            return self._view(session, incident_id, with_timeline=True)

        return run_once(self.workspace.store, RequestKey, request_id, "ReportIncident", create, load)

    def get_incident(self, caller: Caller, incident_id: str) -> IncidentView:
        """One incident with its actions and timeline, for a caller who may read its office."""
        with self.workspace.store.read() as session:
            view = self._view(session, incident_id, with_timeline=True)
        require_read(caller, view.incident.office_id)
        return view

    def list_incidents(self, caller: Caller, page: Page, office_id: str | None, incident_type: str | None,
                       level: str | None, state: str | None, outcome: str | None = None) -> ListResult[IncidentView]:
        """The incidents the caller may see, by office, type, level, state or outcome (without their timelines)."""
        scope = office_scope(caller, office_id)
        query = select(Incident).where(Incident.id > page.after).order_by(Incident.id).limit(page.size)
        for column, value in ((Incident.office_id, scope), (Incident.type, incident_type), (Incident.level, level),
                              (Incident.state, state), (Incident.outcome, outcome)):
            if value:
                query = query.where(column == value)
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
            by_incident = actions.actions_of(session, [i.id for i in rows])
        return ListResult([IncidentView(i, by_incident[i.id], []) for i in rows],
                          next_token(rows[-1].id if rows else None, len(rows), page))

    def update_counts(self, caller: Caller, incident_id: str, counts: Mapping[str, float],
                      circumstances: Sequence[str], mask: Sequence[str], note: str,
                      expected_version: int) -> IncidentView:
        """A later report (续报) changes the counts or circumstances, and the incident is graded again."""
        def change(session: Session, incident: Incident, rules: TypeRules, now: dt.datetime) -> None:
            previous = update_counts(session, incident, rules, counts, circumstances, mask, note,
                                     expected_version, now, caller.subject)
            self._level_changed(session, incident, previous)

        return self._change(caller, incident_id, change)

    def escalate_level(self, caller: Caller, incident_id: str, level: str | None, reason: str) -> IncidentView:
        """An officer raises the incident's level above what the criteria give, with a reason."""
        def change(session: Session, incident: Incident, rules: TypeRules, now: dt.datetime) -> None:
            previous = escalate(session, incident, rules, level, reason, now, caller.subject)
            self._level_changed(session, incident, previous)

        return self._change(caller, incident_id, change)

    def assign_action(self, caller: Caller, incident_id: str, action_id: str, officer_id: str) -> IncidentView:
        """Dispatches an officer of the incident's office to one of its actions."""
        def change(session: Session, incident: Incident, rules: TypeRules, now: dt.datetime) -> None:
            assign_action(session, incident, action_id, officer_id, now, caller.subject)

        return self._change(caller, incident_id, change)

    def complete_action(self, caller: Caller, incident_id: str, action_id: str, note: str,
                        done_at: dt.datetime | None) -> IncidentView:
        """Records an action done (when it was actually done, if earlier than now)."""
        def change(session: Session, incident: Incident, rules: TypeRules, now: dt.datetime) -> None:
            complete_action(session, incident, action_id, note, done_at, now, caller.subject)

        return self._change(caller, incident_id, change)

    def add_note(self, caller: Caller, incident_id: str, note: str) -> IncidentView:
        """Adds a note to the incident's timeline."""
        def change(session: Session, incident: Incident, rules: TypeRules, now: dt.datetime) -> None:
            add_note(session, incident, note, now, caller.subject)

        return self._change(caller, incident_id, change)

    def close_incident(self, caller: Caller, incident_id: str, review: ReviewInput) -> IncidentView:
        """Closes a stable incident with its review (总结评估)."""
        def change(session: Session, incident: Incident, rules: TypeRules, now: dt.datetime) -> None:
            close(session, incident, review, now, caller.subject)
            self._record(session, events_pb2.IncidentClosed, incident,
                         closed_at=timestamp_of(incident.closed_at), review_cause=incident.review_cause,
                         outcome=incident.outcome)

        return self._change(caller, incident_id, change)

    def grading_rules(self, incident_type: str | None, day: dt.date | None) -> tuple[RuleSet, TypeRules]:
        """The grading rules (分级标准) of a type in the rule set in force on a day (today by default)."""
        if incident_type is None:
            raise InvalidArgument.of("type", "required")
        try:
            rule_set = self.workspace.book.in_force(day or self.workspace.today())
        except NoRuleSet as exc:
            raise InvalidArgument.of("date", str(exc)) from None
        return rule_set, rule_set.types[incident_type]

    def sweep_overdue(self) -> int:
        """Marks actions past their due time overdue, once each; returns how many became overdue."""
        now = self.workspace.now()
        with self.workspace.store.transaction() as session:
            overdue = actions.newly_overdue(session, now)
            for action in overdue:
                incident = get_incident(session, action.incident_id)
                actions.mark_overdue(session, action, now)
                touch(incident, now)
                # A report to the superior that is late is a NotificationOverdue, any other an ActionOverdue.
                message = events_pb2.NotificationOverdue if action.kind == NOTIFICATION else events_pb2.ActionOverdue
                self._record(session, message, incident, action_id=action.id, action_code=action.code,
                             action_title=action.title, action_kind=action.kind,
                             due_at=timestamp_of(action.due_at))
            # Every office's indicators: a new year resets the drill count too.
            self.workspace.touched(session, None)
        return len(overdue)

    def _change(self, caller: Caller, incident_id: str, change: Change) -> IncidentView:
        now = self.workspace.now()
        with self.workspace.store.transaction() as session:
            incident = get_incident(session, incident_id)
            require_write(caller, incident.office_id)
            change(session, incident, self._rules_of(incident), now)
            self.workspace.touched(session, [incident.office_id])
            return self._view(session, incident.id, with_timeline=True)

    def _rules_of(self, incident: Incident) -> TypeRules:
        try:
            return self.workspace.book.get(incident.rule_set).types[incident.type]
        except NoRuleSet as exc:
            raise FailedPrecondition(f"incident {incident.id}: {exc}") from None

    @staticmethod
    def _view(session: Session, incident_id: str, *, with_timeline: bool) -> IncidentView:
        incident = get_incident(session, incident_id)
        return IncidentView(incident, actions.actions_of(session, [incident.id])[incident.id],
                            timeline.entries(session, incident.id) if with_timeline else [])

    def _level_changed(self, session: Session, incident: Incident, previous: str | None) -> None:
        if previous is not None:
            self._record(session, events_pb2.IncidentLevelChanged, incident, previous_level=previous,
                         grading_reasons=grading_basis(incident.grading_reasons), outcome=incident.outcome,
                         handling=incident.handling, unit_report_late=incident.unit_report_late)

    def _record(self, session: Session, message: type[IncidentMessage], incident: Incident, **fields: Any) -> None:
        """Records `message` with the incident as it now stands, plus the `fields` that event adds."""
        self.workspace.events.record(
            session, message(incident_id=incident.id, version=incident.version, office_id=incident.office_id,
                             type=incident.type, level=incident.level, title=incident.title, state=incident.state,
                             learned_at=timestamp_of(incident.learned_at), **fields),
            aggregate_type="incident", aggregate_id=incident.id, version=incident.version,
            office_id=incident.office_id)
