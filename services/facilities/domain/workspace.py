"""What every facilities use case shares: the store, the clock, the standards, the event writer,
and the note that an office's indicators may have moved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from services.common.config import Settings
from services.common.db import Store
from services.common.errors import NotFound
from services.common.events import EventWriter
from services.common.hash_chain import TrailKeys
from services.common.indicators import mark_dirty
from services.facilities.domain.standards import Standards
from services.facilities.models import Office, Outbox

SOURCE = "facilities"
T = TypeVar("T")


@dataclass(frozen=True)
class ListResult(Generic[T]):
    """One page of a list read, and the token of the page after it ("" on the last page)."""

    items: list[T]
    next_page_token: str


class Workspace:
    """The store, the clock, the facilities standards in force and the event writer every use case works with."""

    def __init__(self, store: Store, standards: Standards, today: Callable[[], dt.date],
                 now: Callable[[], dt.datetime], trail_keys: TrailKeys | None = None):
        self.store = store
        self.standards = standards
        self.today = today
        self.now = now
        self.events = EventWriter(SOURCE, Outbox)
        # The keys custody trails are sealed with; by default those this process's environment names.
        self.trail_keys = trail_keys or TrailKeys.from_settings(Settings.from_env())

    @staticmethod
    def touched(session: Session, office_ids: Iterable[str] | None) -> None:
        """These offices' indicators (None: every office's) may have moved in this transaction;
        the service's indicator refresher recomputes them after the commit."""
        mark_dirty(session, office_ids)


def get_office(session: Session, office_id: str) -> Office:
    """An office from the local copy; unknown until command_center's OfficeRegistered arrived."""
    office = session.get(Office, office_id) if office_id else None
    if office is None:
        raise NotFound(f"office {office_id!r} not found")
    return office


def utc_text(instant: dt.datetime) -> str:
    """An instant as event data and trail records carry it: ISO 8601 in UTC with a Z."""
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
