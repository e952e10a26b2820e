"""Indicators a service contributes to the standardization index.

A use case notes in its transaction which offices' indicators it may have moved (`mark_dirty`).
After the commit, the service's IndicatorRefresher recomputes those offices from the store,
compares the readings with the last published snapshot and, where something moved, bumps the
office's version and writes IndicatorsChanged (event-carried state) in one transaction.

Refreshing after the commit instead of inside it keeps the grouped indicator queries off every
write's critical path and lets a burst of writes to one office cost one refresh (measured in
bench/results). The marks live in memory, so a refresher also refreshes every office when it
starts: a crash between a commit and its refresh loses nothing. IndicatorSource answers from the
snapshot, so what it returns always matches what was published.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Float, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from services.common.contracts import timestamp_of
from services.common.db import Store, TableMixin, UTCDateTime, utcnow
from services.common.events import EventWriter
from supervision.common.v1.events_pb2 import IndicatorsChanged
from supervision.common.v1.indicators_pb2 import IndicatorValue

log = logging.getLogger(__name__)

_DIRTY, _ALL = "dirty_offices", "dirty_all_offices"


@dataclass(frozen=True)
class Reading:
    """One indicator of one office as computed from the store: numerator over denominator."""

    office_id: str
    key: str
    numerator: float
    denominator: float

    @property
    def has_data(self) -> bool:
        """Whether there was anything to count (a zero denominator scores as missing, not as 0)."""
        return self.denominator > 0

    @property
    def value(self) -> float:
        """The ratio, 0.0 without data."""
        return self.numerator / self.denominator if self.denominator > 0 else 0.0


class IndicatorSnapshotMixin(TableMixin):
    """The last published reading of each office's indicators, with the version of its IndicatorsChanged."""

    __tablename__ = "indicator_snapshots"

    office_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(96), primary_key=True)
    numerator: Mapped[float] = mapped_column(Float)
    denominator: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(BigInteger)
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime())


def mark_dirty(session: Session, office_ids: Iterable[str] | None) -> None:
    """The indicators of these offices (None: every office) may have moved in this transaction."""
    if office_ids is None:
        session.info[_ALL] = True
    else:
        session.info.setdefault(_DIRTY, set()).update(office_ids)


def reading_message(reading: Reading) -> IndicatorValue:
    """One reading as IndicatorsChanged carries it (the office, time and version are the event's)."""
    return IndicatorValue(key=reading.key, numerator=reading.numerator, denominator=reading.denominator,
                          value=reading.value, has_data=reading.has_data)


def refresh(session: Session, snapshot_model: type[IndicatorSnapshotMixin], events: EventWriter,
            readings_by_office: dict[str, list[Reading]], now: Callable[[], dt.datetime] = utcnow) -> list[str]:
    """Stores readings that changed and publishes IndicatorsChanged per office; returns those offices."""
    if not readings_by_office:
        return []
    existing: dict[str, dict[str, IndicatorSnapshotMixin]] = {}
    # FOR UPDATE (PostgreSQL): two processes refreshing one office never publish the same version.
    rows = session.scalars(select(snapshot_model).where(snapshot_model.office_id.in_(list(readings_by_office)))
                           .with_for_update())
    for row in rows:
        existing.setdefault(row.office_id, {})[row.key] = row
    as_of = now()  # the service's clock: a period's cutoff is compared with it
    changed: list[str] = []
    for office_id, readings in readings_by_office.items():
        current = existing.get(office_id, {})
        moved = [r for r in readings
                 if r.key not in current
                 or (current[r.key].numerator, current[r.key].denominator) != (r.numerator, r.denominator)]
        if not moved:
            continue
        version = max((row.version for row in current.values()), default=0) + 1
        for reading in readings:
            snapshot = current.get(reading.key)
            if snapshot is None:
                session.add(snapshot_model(office_id=office_id, key=reading.key, numerator=reading.numerator,
                                           denominator=reading.denominator, version=version, as_of=as_of))
            else:
                snapshot.numerator, snapshot.denominator, snapshot.version, snapshot.as_of = (
                    reading.numerator, reading.denominator, version, as_of)
        events.record(session, IndicatorsChanged(office_id=office_id, version=version, as_of=timestamp_of(as_of),
                                                 indicators=[reading_message(r) for r in readings]),
                      aggregate_type="indicators", aggregate_id=office_id, version=version, office_id=office_id)
        changed.append(office_id)
    return changed


Compute = Callable[[Session, list[str] | None], dict[str, list[Reading]]]


class IndicatorRefresher:
    """Recomputes the offices marked dirty by committed transactions, in a thread of its own."""

    def __init__(self, service: str, store: Store, snapshot_model: type[IndicatorSnapshotMixin],
                 events: EventWriter, compute: Compute, *, debounce_seconds: float = 0.02,
                 min_interval_seconds: float = 0.1, max_backoff_seconds: float = 30.0,
                 now: Callable[[], dt.datetime] = utcnow):
        self.service = service
        self.now = now
        self.store = store
        self.snapshots = snapshot_model
        self.events = events
        self.compute = compute
        self.debounce_seconds = debounce_seconds
        # Under a stream of writes (more than one commit marked offices by the end of the debounce)
        # a refresh starts at most this often and covers every office marked meanwhile: its
        # transaction and grouped queries are paid per interval, not per write. A single change
        # (someone watching the index move) waits only the debounce.
        self.min_interval_seconds = min_interval_seconds
        self._commits = 0  # commits that marked offices since the last refresh took the marks
        self.max_backoff_seconds = max_backoff_seconds
        self._lock = threading.Lock()
        # One refresh at a time per process: the thread and a caller's flush() must not both
        # insert an office's first snapshot, and flush() returns only after pending work is stored.
        self._flushing = threading.Lock()
        self._dirty: set[str] = set()
        self._all = True  # the first pass refreshes everything (marks lost in a crash)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        store.after_commit.append(self._noted)

    def _noted(self, notes: dict[str, Any]) -> None:
        if notes.get(_ALL) or notes.get(_DIRTY):
            with self._lock:
                self._all = self._all or bool(notes.get(_ALL))
                self._dirty.update(notes.get(_DIRTY, ()))
                self._commits += 1
            self._wake.set()

    def start(self) -> None:
        """Starts refreshing in a thread of its own; its first pass refreshes every office."""
        self._wake.set()
        self._thread = threading.Thread(target=self._run, name=f"indicators-{self.service}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops the thread; what is still marked is refreshed by flush() or the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def flush(self) -> list[str]:
        """Refreshes what is pending now, in the caller's thread; returns the offices that changed."""
        with self._flushing:
            return self._flush()

    def _flush(self) -> list[str]:
        with self._lock:
            everything, dirty = self._all, self._dirty
            self._all, self._dirty, self._commits = False, set(), 0
        if not everything and not dirty:
            return []
        try:
            with self.store.transaction() as session:
                readings = self.compute(session, None if everything else sorted(dirty))
                return refresh(session, self.snapshots, self.events, readings, self.now)
        except Exception:
            with self._lock:  # put the marks back: the next pass retries them
                self._all = self._all or everything
                self._dirty |= dirty
            raise

    def _run(self) -> None:
        failures = 0
        last_started = -math.inf
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.wait(self.debounce_seconds):
                return
            with self._lock:
                streaming = self._commits > 1
            if streaming and self._stop.wait(last_started + self.min_interval_seconds - time.monotonic()):
                return
            last_started = time.monotonic()
            try:
                self.flush()
                failures = 0
            except Exception:
                failures += 1
                log.exception("indicator refresh failed", extra={"service": self.service})
                self._stop.wait(min(0.1 * 2 ** failures, self.max_backoff_seconds))
                self._wake.set()
