"""What every emergency use case shares: the store, the clock, the rule book, the event writer, and
the note that an office's indicators may have moved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from services.common.db import Store
from services.common.workspace import BaseWorkspace
from services.emergency.domain.rules import RuleBook
from services.emergency.models import Outbox

SOURCE = "emergency"


class Workspace(BaseWorkspace):
    """The store, clock, grading rule book and event writer every emergency use case works with."""

    def __init__(self, store: Store, book: RuleBook, today: Callable[[], dt.date],
                 now: Callable[[], dt.datetime]):
        super().__init__(store, SOURCE, Outbox, today, now)
        self.book = book

