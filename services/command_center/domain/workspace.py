"""What every command_center use case shares: the store, the clock, the working-day calendar, the
duty scopes, the event writer, and the note that an office's indicators may have moved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from services.command_center.domain.duty_scopes import load_scopes
from services.command_center.models import Outbox
from services.common.db import Store, utcnow
from services.common.working_days import WorkingDayCalendar
from services.common.workspace import BaseWorkspace

SOURCE = "command_center"


class Workspace(BaseWorkspace):
    """The store, clock, calendar, duty scopes and event writer every command_center use case works with."""

    def __init__(self, store: Store, today: Callable[[], dt.date], calendar: WorkingDayCalendar,
                 now: Callable[[], dt.datetime] = utcnow, scopes: Mapping[str, str] | None = None):
        super().__init__(store, SOURCE, Outbox, today, now)
        self.calendar = calendar
        # Loaded (and so checked) when the service is built: a broken file stops the start.
        self.scopes = scopes if scopes is not None else load_scopes()

