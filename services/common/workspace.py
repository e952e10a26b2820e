"""What the use cases of every service share: the store, the day (Asia/Shanghai) and the clock, the
service's event writer, and the note that an office's indicators may have moved. Each service's
domain/workspace.py extends it with the rule sets and calendars its own use cases work by."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from services.common.db import Store, utcnow
from services.common.events import EventWriter, OutboxMixin
from services.common.indicators import mark_dirty


class BaseWorkspace:
    """The store, today()/now() and the event writer (`events`) of one service's use cases."""

    def __init__(self, store: Store, source: str, outbox: type[OutboxMixin], today: Callable[[], dt.date],
                 now: Callable[[], dt.datetime] = utcnow) -> None:
        self.store = store
        self.today = today
        self.now = now
        self.events = EventWriter(source, outbox)

    @staticmethod
    def touched(session: Session, office_ids: Iterable[str] | None) -> None:
        """These offices' indicators (None: every office's) may have moved in this transaction; the
        service's indicator refresher recomputes them after the commit."""
        mark_dirty(session, office_ids)
