"""The incident's timeline: every report, level change, action and note, in order, with who and when."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.clock import SHANGHAI
from services.emergency.models import TimelineEntry

REPORTED = "REPORTED"
COUNTS_UPDATED = "COUNTS_UPDATED"
LEVEL_CHANGED = "LEVEL_CHANGED"
ACTION_ADDED = "ACTION_ADDED"
ACTION_ASSIGNED = "ACTION_ASSIGNED"
ACTION_DONE = "ACTION_DONE"
ACTION_OVERDUE = "ACTION_OVERDUE"
NOTE = "NOTE"
CLOSED = "CLOSED"


def record(session: Session, incident_id: str, kind: str, actor: str, text: str, at: dt.datetime) -> None:
    """Adds an entry to the incident's timeline."""
    session.add(TimelineEntry(incident_id=incident_id, recorded_at=at, kind=kind, actor=actor, text=text))


def entries(session: Session, incident_id: str) -> list[TimelineEntry]:
    """The incident's timeline, oldest first."""
    return list(session.scalars(select(TimelineEntry).where(TimelineEntry.incident_id == incident_id)
                                .order_by(TimelineEntry.id)))


def local_time(instant: dt.datetime) -> str:
    """How an officer reads an instant: Shanghai wall-clock time."""
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
