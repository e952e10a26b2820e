"""What every emergency use case shares: the store, the clock, the rule book, the event writer, and
the note that an office's indicators may have moved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from services.common.db import Store
from services.common.events import EventWriter
from services.common.indicators import mark_dirty
from services.emergency.domain.rules import RuleBook
from services.emergency.models import Outbox

SOURCE = "emergency"

Item = TypeVar("Item")


@dataclass(frozen=True)
class ListResult(Generic[Item]):
    """One page of a listing and the token that asks for the next."""

    items: Sequence[Item]
    next_page_token: str


class Workspace:
    """The store, clock, grading rule book and event writer every emergency use case works with."""

    def __init__(self, store: Store, book: RuleBook, today: Callable[[], dt.date],
                 now: Callable[[], dt.datetime]):
        self.store = store
        self.book = book
        self.today = today
        self.now = now
        self.events = EventWriter(SOURCE, Outbox)

    @staticmethod
    def touched(session: Session, office_ids: Iterable[str] | None) -> None:
        """Notes that these offices' indicators (None: every office's) may have moved in this transaction."""
        mark_dirty(session, office_ids)
