"""The demo district's loading, as each service records it: started, completed, and what was left out.

A service's demo loader runs into a store that is empty, or whose demo load was started and never
completed (a first start stopped half-way): the row `demo_loads(name, started_at, completed_at)` is
written before the loader's first write and completed after its last. A loader run again after an
interruption at any point finishes the district without duplicates: creates carry request ids,
and every other step looks at the record's state before acting (services/<service>/demo).

The loaders never fail on a valid store: what they cannot load (an office without officers, an
office the demo's data does not know) is left out and said in DemoOutcome.skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.db import Store, TableMixin, UTCDateTime, utcnow

# The one load each service records today; the name leaves room for more demo sets later.
DISTRICT = "district"
NOT_EMPTY = "the store holds data the demo did not load: demo data left out"


@dataclass(frozen=True)
class DemoOutcome:
    """What one run of a service's demo loader did."""

    # It wrote something this time (a fresh load, or the rest of an interrupted one).
    loaded: bool
    # The service's demo is recorded complete (by this run or an earlier one).
    complete: bool
    # Human-readable: what the loader left out, and why.
    skipped: tuple[str, ...] = ()


class DemoLoadMixin(TableMixin):
    """When each demo load of this service started and completed (services.common.demo)."""

    __tablename__ = "demo_loads"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # None while the load is under way, or after it was interrupted: the next run resumes it.
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def demo_load(store: Store, model: type[DemoLoadMixin], name: str = DISTRICT) -> DemoLoadMixin | None:
    """The recorded demo load of this name, or None when it never started."""
    with store.read() as session:
        return session.get(model, name)


def record_start(session: Session, model: type[DemoLoadMixin], name: str = DISTRICT,
                 now: Callable[[], dt.datetime] = utcnow) -> None:
    """Records that the demo load starts (kept as it was when it is being resumed)."""
    if session.get(model, name) is None:
        session.add(model(name=name, started_at=now(), completed_at=None))
        session.flush()


def record_completion(store: Store, model: type[DemoLoadMixin], name: str = DISTRICT,
                      now: Callable[[], dt.datetime] = utcnow) -> None:
    """Records that the demo load finished: later runs leave the store alone."""
    with store.transaction() as session:
        row = session.get(model, name)
        if row is None:
            raise ValueError(f"demo load {name!r} completed without having been started")
        if row.completed_at is None:
            row.completed_at = now()


def run_demo(store: Store, model: type[DemoLoadMixin], *, is_empty: Callable[[Session], bool],
             load: Callable[[list[str]], None],
             missing_prerequisite: Callable[[Session], str | None] = lambda session: None,
             name: str = DISTRICT, now: Callable[[], dt.datetime] = utcnow) -> DemoOutcome:
    """Runs `load` when the store is empty or its demo load was interrupted, between the records
    of its start and completion. `load` appends what it leaves out to the list it is given.
    `missing_prerequisite` names what must arrive first (e.g. command_center's offices): the load
    then does not start, and a later run may."""
    with store.transaction() as session:
        row = session.get(model, name)
        if row is not None and row.completed_at is not None:
            return DemoOutcome(loaded=False, complete=True)
        if row is None:
            if not is_empty(session):
                return DemoOutcome(loaded=False, complete=False, skipped=(NOT_EMPTY,))
            missing = missing_prerequisite(session)
            if missing:
                return DemoOutcome(loaded=False, complete=False, skipped=(missing,))
            # In the same transaction as the emptiness check, so nothing can slip in between.
            record_start(session, model, name, now)
    skipped: list[str] = []
    load(skipped)
    record_completion(store, model, name, now)
    return DemoOutcome(loaded=True, complete=True, skipped=tuple(skipped))
