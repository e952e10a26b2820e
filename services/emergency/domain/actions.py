"""The actions of a response plan on an incident: instantiated with due times, dispatched to
officers, completed, and marked overdue once when their due time passes.

An action is overdue when it was not done by its due time: the sweep marks open ones, once each,
and a completion sets it from when the action was actually done. An officer often records a report
made by phone afterwards; the timeline keeps both times, and any overdue notice already sent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.common.errors import FailedPrecondition, NotFound, Violations
from services.emergency.domain import timeline
from services.emergency.domain.rules import PlannedAction
from services.emergency.models import Incident, IncidentAction, Officer

OPEN, DONE = "OPEN", "DONE"
MAX_NOTE = 4000
# Clients' clocks drift: an instant reported this far ahead of ours is still taken as "now".
CLOCK_SKEW = dt.timedelta(minutes=2)


def instantiate(session: Session, incident: Incident, plan: list[PlannedAction], anchor: dt.datetime, level: str,
                actor: str, now: dt.datetime) -> list[IncidentAction]:
    """Adds the plan's actions the incident does not have yet, due `anchor` + the level's time."""
    existing = set(session.scalars(select(IncidentAction.code).where(IncidentAction.incident_id == incident.id)))
    position = session.scalar(select(func.count()).select_from(IncidentAction)
                              .where(IncidentAction.incident_id == incident.id)) or 0
    added = []
    for planned in plan:
        if planned.code in existing:
            continue
        action = IncidentAction(id=str(uuid.uuid4()), incident_id=incident.id, code=planned.code,
                                title=planned.title, kind=planned.kind, required_by=level, position=position,
                                due_at=anchor + planned.due[level], state=OPEN, overdue=False, assignee_id="",
                                done_at=None, done_by="", note="")
        session.add(action)
        added.append(action)
        position += 1
    if added:
        listed = "；".join(f"{a.title}（{timeline.local_time(a.due_at)}前）" for a in added)
        # Below level IV ("" level) the plan is the outcome's handling, not a level's response.
        started = f"启动{level}级响应" if level else "启动未达级别事件处置"
        timeline.record(session, incident.id, timeline.ACTION_ADDED, actor, f"{started}：{listed}", now)
    session.flush()
    return added


def actions_of(session: Session, incident_ids: Sequence[str]) -> dict[str, list[IncidentAction]]:
    """Each incident's actions in the order of its plan."""
    result: dict[str, list[IncidentAction]] = {incident_id: [] for incident_id in incident_ids}
    if incident_ids:
        for action in session.scalars(select(IncidentAction).where(IncidentAction.incident_id.in_(incident_ids))
                                      .order_by(IncidentAction.incident_id, IncidentAction.position)):
            result[action.incident_id].append(action)
    return result


def open_actions(session: Session, incident_id: str) -> list[IncidentAction]:
    """The incident's actions not done yet."""
    return list(session.scalars(select(IncidentAction).where(IncidentAction.incident_id == incident_id,
                                                             IncidentAction.state == OPEN)))


def get_action(session: Session, incident: Incident, action_id: str) -> IncidentAction:
    """One of the incident's actions, or NotFound."""
    action = session.get(IncidentAction, action_id) if action_id else None
    if action is None or action.incident_id != incident.id:
        raise NotFound(f"incident {incident.id} has no action {action_id!r}")
    return action


def assign(session: Session, incident: Incident, action: IncidentAction, officer: Officer, now: dt.datetime,
           actor: str) -> None:
    """Dispatches an officer to an open action (派员处置)."""
    if action.state == DONE:
        raise FailedPrecondition(f"action {action.code} is done; dispatch is for open actions")
    action.assignee_id = officer.id
    timeline.record(session, incident.id, timeline.ACTION_ASSIGNED, actor,
                    f"指派{officer.name}（{officer.id}）负责：{action.title}", now)


def complete(session: Session, incident: Incident, action: IncidentAction, note: str, done_at: dt.datetime | None,
             now: dt.datetime, actor: str) -> bool:
    """Marks the action done; returns True when it was the incident's last open action."""
    violations = Violations()
    if len(note) > MAX_NOTE:
        violations.add("note", f"at most {MAX_NOTE} characters")
    done_at = done_at or now
    if done_at > now + CLOCK_SKEW:
        violations.add("done_time", "is in the future")
    elif done_at < incident.learned_at:
        violations.add("done_time", "is before the office learned of the incident")
    violations.raise_if_any("invalid completion")
    if action.state == DONE:
        # A DONE action always has its time; the fallback only satisfies the column's type.
        when = action.done_at.isoformat() if action.done_at else "an unrecorded time"
        raise FailedPrecondition(f"action {action.code} was already done at {when}")
    action.state, action.done_at, action.done_by, action.note = DONE, done_at, actor, note.strip()
    action.overdue = done_at > action.due_at
    late = "（逾期）" if action.overdue else ""
    text = f"完成：{action.title}{late}" + (f"。{action.note}" if action.note else "")
    if done_at != now:
        text += f"（实际完成时间 {timeline.local_time(done_at)}）"
    timeline.record(session, incident.id, timeline.ACTION_DONE, actor, text, now)
    session.flush()
    return not open_actions(session, incident.id)


def newly_overdue(session: Session, now: dt.datetime, limit: int = 500) -> list[IncidentAction]:
    """Open actions past their due time and not marked yet, oldest deadline first."""
    return list(session.scalars(select(IncidentAction).where(IncidentAction.state == OPEN,
                                                             IncidentAction.overdue.is_(False),
                                                             IncidentAction.due_at < now)
                                .order_by(IncidentAction.due_at, IncidentAction.id).limit(limit)))


def mark_overdue(session: Session, action: IncidentAction, now: dt.datetime) -> None:
    """Marks an open action overdue and notes it on the timeline."""
    action.overdue = True
    timeline.record(session, action.incident_id, timeline.ACTION_OVERDUE, "system",
                    f"逾期未完成：{action.title}（时限 {timeline.local_time(action.due_at)}）", now)
