"""What every command_center use case shares: the store, the clock, the working-day calendar, the
event writer, and the note that an office's indicators may have moved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from services.command_center.models import Outbox
from services.common.db import Store, utcnow
from services.common.events import EventWriter
from services.common.indicators import mark_dirty
from services.common.working_days import WorkingDayCalendar

SOURCE = "command_center"

Item = TypeVar("Item")


@dataclass(frozen=True)
class ListResult(Generic[Item]):
    """One page of a listing and the token that asks for the next."""

    items: Sequence[Item]
    next_page_token: str


class Workspace:
    """The store, clock, calendar and event writer every command_center use case works with."""

    def __init__(self, store: Store, today: Callable[[], dt.date], calendar: WorkingDayCalendar,
                 now: Callable[[], dt.datetime] = utcnow):
        self.store = store
        self.today = today
        self.now = now
        self.calendar = calendar
        self.events = EventWriter(SOURCE, Outbox)

    @staticmethod
    def touched(session: Session, office_ids: Iterable[str] | None) -> None:
        """Notes that these offices' indicators (None: every office's) may have moved in this transaction."""
        mark_dirty(session, office_ids)
