"""What every facilities use case shares: the store, the clock, the standards, the event writer,
and the note that an office's indicators may have moved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from services.common.config import Settings
from services.common.db import Store
from services.common.errors import NotFound
from services.common.hash_chain import TrailKeys
from services.common.workspace import BaseWorkspace
from services.facilities.domain.standards import Standards
from services.facilities.models import Office, Outbox

SOURCE = "facilities"


class Workspace(BaseWorkspace):
    """The store, the clock, the facilities standards in force and the event writer every use case works with."""

    def __init__(self, store: Store, standards: Standards, today: Callable[[], dt.date],
                 now: Callable[[], dt.datetime], trail_keys: TrailKeys | None = None):
        super().__init__(store, SOURCE, Outbox, today, now)
        self.standards = standards
        # The keys custody trails are sealed with; by default those this process's environment names.
        self.trail_keys = trail_keys or TrailKeys.from_settings(Settings.from_env())



def get_office(session: Session, office_id: str) -> Office:
    """An office from the local copy; unknown until command_center's OfficeRegistered arrived."""
    office = session.get(Office, office_id) if office_id else None
    if office is None:
        raise NotFound(f"office {office_id!r} not found")
    return office


def utc_text(instant: dt.datetime) -> str:
    """An instant as event data and trail records carry it: ISO 8601 in UTC with a Z."""
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
