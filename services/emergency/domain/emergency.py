"""emergency's use cases: each one transaction that changes state, writes its events and marks the
offices whose indicators it may have moved (the refresher recomputes them after the commit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.access import office_scope, require_read, require_write
from services.common.context import Caller
from services.common.contracts import timestamp_of
from services.common.db import Store
from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.events import EventWriter
from services.common.idempotency import run_once
from services.common.indicators import Reading, mark_dirty
from services.common.paging import Page, next_token
from services.emergency import indicators
from services.emergency.domain import actions, directory, drills, incidents, timeline
from services.emergency.domain.drills import DrillInput
from services.emergency.domain.incidents import IncidentInput, ReviewInput
from services.emergency.domain.rules import NOTIFICATION, NoRuleSet, RuleBook, RuleSet, TypeRules
from services.emergency.models import (
    Drill,
    Incident,
    IncidentAction,
    Outbox,
    RequestKey,
    TimelineEntry,
)
from supervision.emergency.v1 import events_pb2

SOURCE = "emergency"

# Every event emergency publishes is about one incident and starts with the same eight fields.
IncidentMessage = (events_pb2.IncidentReported | events_pb2.IncidentLevelChanged | events_pb2.IncidentClosed
                   | events_pb2.ActionOverdue | events_pb2.NotificationOverdue)


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    actions: list[IncidentAction]
    # Empty in lists: only a single incident is read with its timeline.
    timeline: list[TimelineEntry]


@dataclass(frozen=True)
class ListResult:
    items: list
    next_page_token: str


class Emergency:
    def __init__(self, store: Store, book: RuleBook, today: Callable[[], dt.date],
                 now: Callable[[], dt.datetime]):
        self.store = store
        self.book = book
        self.events = EventWriter(SOURCE, Outbox)
        self.today = today
        self.now = now

    # ------------------------------------------------------------------ incidents

    def report_incident(self, caller: Caller, request_id: str, data: IncidentInput) -> IncidentView:
        rules, rule_set_id = incidents.validate_report(data, self.book, self.now())
        require_write(caller, data.office_id)

        def create(session: Session) -> str:
            directory.known_office(session, data.office_id, "incident.office_id")
            incident = incidents.open_incident(session, data, rules, rule_set_id, self.now(), caller.subject)
            due = report_due(actions.actions_of(session, [incident.id])[incident.id])
            self._incident_event(session, events_pb2.IncidentReported, incident,
                                 description=incident.description, occurred_at=timestamp_of(incident.occurred_at),
                                 report_due=timestamp_of(due), rule_set=incident.rule_set,
                                 grading_reasons=grading_basis(incident.grading_reasons))
            mark_dirty(session, [incident.office_id])
            return incident.id

        return run_once(self.store, RequestKey, request_id, "ReportIncident", create,
                        lambda session, incident_id: self._view(session, incident_id, with_timeline=True))

    def get_incident(self, caller: Caller, incident_id: str) -> IncidentView:
        with self.store.read() as session:
            view = self._view(session, incident_id, with_timeline=True)
        require_read(caller, view.incident.office_id)
        return view

    def list_incidents(self, caller: Caller, page: Page, office_id: str | None, incident_type: str | None,
                       level: str | None, state: str | None) -> ListResult:
        scope = office_scope(caller, office_id)
        query = select(Incident).where(Incident.id > page.after).order_by(Incident.id).limit(page.size)
        for column, value in ((Incident.office_id, scope), (Incident.type, incident_type), (Incident.level, level),
                              (Incident.state, state)):
            if value:
                query = query.where(column == value)
        with self.store.read() as session:
            rows = list(session.scalars(query))
            by_incident = actions.actions_of(session, [i.id for i in rows])
        return ListResult([IncidentView(i, by_incident[i.id], []) for i in rows],
                          next_token(rows[-1].id if rows else None, len(rows), page))

    def update_counts(self, caller: Caller, incident_id: str, counts: dict[str, float], circumstances: list[str],
                      mask: list[str], note: str, expected_version: int) -> IncidentView:
        def change(session: Session, incident: Incident, rules: TypeRules, now: dt.datetime) -> None:
            previous = incidents.update_counts(session, incident, rules, counts, circumstances, mask, note,
                                               expected_version, now, caller.subject)
            self._level_changed(session, incident, previous)

        return self._change(caller, incident_id, change)

    def escalate_level(self, caller: Caller, incident_id: str, level: str | None, reason: str) -> IncidentView:
        def change(session: Session, incident: Incident, rules: TypeRules, now: dt.datetime) -> None:
            previous = incidents.escalate(session, incident, rules, level, reason, now, caller.subject)
            self._level_changed(session, incident, previous)

        return self._change(caller, incident_id, change)

    def assign_action(self, caller: Caller, incident_id: str, action_id: str, officer_id: str) -> IncidentView:
        return self._change(caller, incident_id, lambda session, incident, rules, now: incidents.assign_action(
            session, incident, action_id, officer_id, now, caller.subject))

    def complete_action(self, caller: Caller, incident_id: str, action_id: str, note: str,
                        done_at: dt.datetime | None) -> IncidentView:
        return self._change(caller, incident_id, lambda session, incident, rules, now: incidents.complete_action(
            session, incident, action_id, note, done_at, now, caller.subject))

    def add_note(self, caller: Caller, incident_id: str, note: str) -> IncidentView:
        return self._change(caller, incident_id, lambda session, incident, rules, now: incidents.add_note(
            session, incident, note, now, caller.subject))

    def close_incident(self, caller: Caller, incident_id: str, review: ReviewInput) -> IncidentView:
        def change(session: Session, incident: Incident, rules: TypeRules, now: dt.datetime) -> None:
            incidents.close(session, incident, review, now, caller.subject)
            self._incident_event(session, events_pb2.IncidentClosed, incident,
                                 closed_at=timestamp_of(incident.closed_at), review_cause=incident.review_cause)

        return self._change(caller, incident_id, change)

    def _change(self, caller: Caller, incident_id: str,
                change: Callable[[Session, Incident, TypeRules, dt.datetime], None]) -> IncidentView:
        now = self.now()
        with self.store.transaction() as session:
            incident = incidents.get_incident(session, incident_id)
            require_write(caller, incident.office_id)
            change(session, incident, self._rules_of(incident), now)
            mark_dirty(session, [incident.office_id])
            return self._view(session, incident.id, with_timeline=True)

    def _rules_of(self, incident: Incident) -> TypeRules:
        try:
            return self.book.get(incident.rule_set).types[incident.type]
        except NoRuleSet as exc:
            raise FailedPrecondition(f"incident {incident.id}: {exc}") from None

    def grading_rules(self, incident_type: str | None, day: dt.date | None) -> tuple[RuleSet, TypeRules]:
        if incident_type is None:
            raise InvalidArgument.of("type", "required")
        try:
            rule_set = self.book.in_force(day or self.today())
        except NoRuleSet as exc:
            raise InvalidArgument.of("date", str(exc)) from None
        return rule_set, rule_set.types[incident_type]

    def sweep_overdue(self) -> int:
        """Marks actions whose due time passed, publishes ActionOverdue (NotificationOverdue for a
        report to the superior) once each, and marks every office's indicators for a refresh (a new
        year resets the drill count too). Returns how many actions became overdue."""
        now = self.now()
        with self.store.transaction() as session:
            overdue = actions.newly_overdue(session, now)
            for action in overdue:
                incident = session.get(Incident, action.incident_id)
                actions.mark_overdue(session, action, now)
                incidents.touch(incident, now)
                message = events_pb2.NotificationOverdue if action.kind == NOTIFICATION else events_pb2.ActionOverdue
                self._incident_event(session, message, incident, action_id=action.id, action_code=action.code,
                                     action_title=action.title, action_kind=action.kind,
                                     due_at=timestamp_of(action.due_at))
            mark_dirty(session, None)
        return len(overdue)

    def _view(self, session: Session, incident_id: str, *, with_timeline: bool) -> IncidentView:
        incident = incidents.get_incident(session, incident_id)
        return IncidentView(incident, actions.actions_of(session, [incident.id])[incident.id],
                            timeline.entries(session, incident.id) if with_timeline else [])

    def _level_changed(self, session: Session, incident: Incident, previous: str | None) -> None:
        if previous is not None:
            self._incident_event(session, events_pb2.IncidentLevelChanged, incident, previous_level=previous,
                                 grading_reasons=grading_basis(incident.grading_reasons))

    def _incident_event(self, session: Session, message: type[IncidentMessage], incident: Incident,
                        **fields) -> None:
        """Records `message` with the incident as it now stands, plus the `fields` that event adds."""
        self.events.record(session, message(incident_id=incident.id, version=incident.version,
                                            office_id=incident.office_id, type=incident.type, level=incident.level,
                                            title=incident.title, state=incident.state,
                                            learned_at=timestamp_of(incident.learned_at), **fields),
                           aggregate_type="incident", aggregate_id=incident.id, version=incident.version,
                           office_id=incident.office_id)

    # ------------------------------------------------------------------ drills

    def record_drill(self, caller: Caller, request_id: str, data: DrillInput) -> Drill:
        drills.validate_drill(data, self.today())
        require_write(caller, data.office_id)

        def create(session: Session) -> str:
            directory.known_office(session, data.office_id, "drill.office_id")
            drill = drills.new_drill(session, data, self.now(), caller.subject)
            mark_dirty(session, [drill.office_id])
            return drill.id

        return run_once(self.store, RequestKey, request_id, "RecordDrill", create,
                        lambda session, drill_id: session.get(Drill, drill_id))

    def list_drills(self, caller: Caller, page: Page, office_id: str | None, year: int | None) -> ListResult:
        scope = office_scope(caller, office_id)
        query = select(Drill).where(Drill.id > page.after).order_by(Drill.id).limit(page.size)
        if scope:
            query = query.where(Drill.office_id == scope)
        if year is not None:
            query = query.where(Drill.held_on >= dt.date(year, 1, 1), Drill.held_on <= dt.date(year, 12, 31))
        with self.store.read() as session:
            rows = list(session.scalars(query))
        return ListResult(rows, next_token(rows[-1].id if rows else None, len(rows), page))

    # ------------------------------------------------------------------ command_center's directory

    def apply_office(self, session: Session, office_id: str, *, name: str, district: str,
                     streets: list[str]) -> None:
        """Keeps command_center's office (the whole office, as its latest event carries it)."""
        office = directory.apply_office(session, office_id, name=name, district=district, streets=streets)
        # A newly known office gets its indicators at once (no drills yet is a reading too).
        mark_dirty(session, [office.id])

    def apply_officer(self, session: Session, officer_id: str, *, name: str, office_id: str, group: str,
                      certificate_no: str, certificate_expires: dt.date | None) -> None:
        """Keeps command_center's officer (the whole officer, as its latest event carries it)."""
        directory.apply_officer(session, officer_id, name=name, office_id=office_id, group=group,
                                certificate_no=certificate_no, certificate_expires=certificate_expires)

    # ------------------------------------------------------------------ indicators

    def compute_indicators(self, session: Session, office_ids: list[str] | None) -> dict[str, list[Reading]]:
        today = self.today()
        try:
            target = self.book.in_force(today).drills_per_office_per_year
        except NoRuleSet:
            target = 0
        return indicators.compute(session, office_ids, today, target)


def report_due(action_rows: list[IncidentAction]) -> dt.datetime | None:
    """When the first report to the superior is due."""
    return min((a.due_at for a in action_rows if a.kind == NOTIFICATION), default=None)


def grading_basis(reasons: list[dict]) -> list[events_pb2.GradingBasis]:
    """The stored grading reasons ({"level", "criterion", "text"}) as the events carry them."""
    return [events_pb2.GradingBasis(level=r["level"], criterion=r["criterion"], text=r["text"]) for r in reasons]

