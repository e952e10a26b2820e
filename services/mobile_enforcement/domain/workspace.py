"""What every mobile_enforcement use case shares: the store, the clock, the rule book, the checklist
catalogue, the working-day calendar, the event writer, the evidence trail, and the note that an
office's indicators may have moved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from services.common import hash_chain
from services.common.config import Settings
from services.common.db import Store
from services.common.working_days import WorkingDayCalendar
from services.common.workspace import BaseWorkspace
from services.mobile_enforcement.domain.checklists import Catalog
from services.mobile_enforcement.domain.rules import RuleBook
from services.mobile_enforcement.models import AuditRecord, Outbox

SOURCE = "mobile_enforcement"
V = TypeVar("V")


class Workspace(BaseWorkspace):
    """What the use cases of mobile enforcement (移动执法) work in: store, clock, rules, checklists, events, trails."""

    def __init__(self, store: Store, rules: RuleBook, catalog: Catalog, calendar: WorkingDayCalendar,
                 today: Callable[[], dt.date], now: Callable[[], dt.datetime],
                 trail_keys: hash_chain.TrailKeys | None = None) -> None:
        super().__init__(store, SOURCE, Outbox, today, now)
        self.rules = rules
        self.catalog = catalog
        self.calendar = calendar
        # The keys audit trails are sealed with; by default those this process's environment names.
        self.trail_keys = trail_keys or hash_chain.TrailKeys.from_settings(Settings.from_env())


    def record(self, session: Session, subject: str, action: str, by: str, **details: Any) -> str:
        """Appends an evidence record to the subject's hash-chained trail; returns the new head,
        which the owner stores so that removing the newest records is detected too."""
        record = {"action": action, "at": utc_text(self.now()), "by": by, **details}
        return hash_chain.append(session, AuditRecord, subject, record, self.trail_keys).hash


def utc_text(instant: dt.datetime) -> str:
    """An instant as event data and trail records carry it: ISO 8601 in UTC with a Z."""
    return instant.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def join_ids(ids: Sequence[str]) -> str:
    """Officer ids as a record stores them: comma-separated, in order."""
    return ",".join(ids)


def split_ids(joined: str) -> list[str]:
    """Officer ids a record stored with join_ids, in order."""
    return joined.split(",") if joined else []


def stored(value: V | None, what: str) -> V:
    """A field the record's state guarantees (a filed case's decision limit, a completed inspection's
    publication limit); its absence means a damaged store, never a caller's mistake."""
    if value is None:
        raise RuntimeError(f"damaged record: {what} is missing")
    return value
