"""A working-day calendar that follows the operator's file without a restart.

The State Council publishes a year's holiday schedule a few weeks before the year starts, while
cases and complaints already have due dates counted into it on weekends alone (provisional). The
operator adds the year to `WORKING_CALENDAR_FILE`; every process then picks it up:

- on the file's change: its modification time and size are looked at, at most once per
  `poll_seconds`, by whichever call asks the calendar something (a stat, no read, so request paths
  stay cheap);
- on SIGHUP: the next question re-reads the file whatever its modification time says (an editor
  that keeps the old time, a file on a network share).

A file that no longer reads (bad YAML, an impossible date, gone) keeps the calendar in use: the
reason is logged and counted (`supervision_calendar_reloads_total{outcome="error"}`), never raised
to the request that happened to notice it. Every process reloads; recounting the stored provisional
due dates is each service's own timer, run by one replica under its lease.
"""

from __future__ import annotations

import datetime
import logging
import os
import signal
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from prometheus_client import Counter, Gauge

from services.common.working_days import CalendarDataError, DueDate, WorkingDayCalendar

__all__ = ["LiveCalendar", "install_reload_on_sighup", "reload_all"]

log = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 2.0

CALENDAR_RELOADS = Counter("supervision_calendar_reloads_total",
                           "Re-reads of WORKING_CALENDAR_FILE after a change or SIGHUP, by outcome (ok, error).",
                           ["outcome"])
# Written at 0 from the start: an alert on increase() never sees a series' first sample.
for _outcome in ("ok", "error"):
    CALENDAR_RELOADS.labels(_outcome)
CALENDAR_GENERATION = Gauge("supervision_calendar_generation",
                            "How many times this process installed a new working-day calendar since it started.")

# Every live calendar of the process, so one SIGHUP reaches each service hosted in it (the monolith).
_LIVE: weakref.WeakSet[LiveCalendar] = weakref.WeakSet()
_SIGHUP_LOCK = threading.Lock()
_sighup_installed = False


class LiveCalendar(WorkingDayCalendar):
    """A WorkingDayCalendar whose data is re-read when the operator's file changes or on SIGHUP.

    It answers every question with the calendar loaded last, so code written for a fixed calendar
    takes it unchanged; `generation` grows at each successful reload, which is how a service's
    timer knows the stored provisional due dates are worth recounting.
    """

    __slots__ = ("__weakref__", "_current", "_generation", "_lock", "_monotonic", "_next_check", "_path",
                 "_poll_seconds", "_reload_requested", "_seen")

    def __init__(self, path: str | Path | None, *, poll_seconds: float = DEFAULT_POLL_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        """Loads the file now; a missing or malformed file raises here, at start-up, as before."""
        super().__init__((), (), ())
        self._path = Path(path) if path else None
        self._poll_seconds = poll_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._seen = self._stat()
        self._current = WorkingDayCalendar.load(self._path)
        self._generation = 0
        self._reload_requested = False
        self._next_check = monotonic() + poll_seconds
        _LIVE.add(self)
        # Every process builds its services' calendars on its main thread: the signal reaches them all.
        install_reload_on_sighup()

    @property
    def path(self) -> Path | None:
        """The operator's file, None when the bundled calendar alone is used."""
        return self._path

    @property
    def generation(self) -> int:
        """How many new calendars were installed since start-up (0: still the first one)."""
        self.refresh()
        return self._generation

    def current(self) -> WorkingDayCalendar:
        """The calendar in use now, after looking at the file if the poll interval passed."""
        self.refresh()
        return self._current

    def request_reload(self) -> None:
        """Re-read the file at the next question, whatever its modification time (SIGHUP)."""
        self._reload_requested = True

    def refresh(self, *, force: bool = False) -> bool:
        """Re-reads the file if it changed (or a reload was requested); True when a new calendar
        was installed. Never raises for a bad file: the calendar in use stays."""
        if self._path is None:
            return False
        if not (force or self._reload_requested or self._monotonic() >= self._next_check):
            return False
        with self._lock:
            requested, self._reload_requested = self._reload_requested, False
            self._next_check = self._monotonic() + self._poll_seconds
            seen = self._stat()
            if not (force or requested) and seen == self._seen:
                return False
            try:
                loaded = WorkingDayCalendar.load(self._path)
            except (OSError, CalendarDataError, ValueError) as exc:
                # Remember what was seen, so a broken file is reported once, not at every poll.
                self._seen = seen
                CALENDAR_RELOADS.labels("error").inc()
                log.error("working calendar not reloaded; the previous one stays in use",
                          extra={"path": str(self._path), "reason": str(exc)})
                return False
            self._seen = seen
            changed = not loaded.same_schedule(self._current)
            self._current = loaded
            CALENDAR_RELOADS.labels("ok").inc()
            if changed:
                self._generation += 1
                CALENDAR_GENERATION.set(self._generation)
            log.info("working calendar reloaded", extra={"path": str(self._path), "changed": changed,
                                                         "years": _span(loaded)})
            return changed

    def _stat(self) -> tuple[int, int] | None:
        if self._path is None:
            return None
        try:
            status = os.stat(self._path)
        except OSError:
            return None
        return status.st_mtime_ns, status.st_size

    # The questions of WorkingDayCalendar, each asked of the calendar in use.

    def years_with_data(self) -> frozenset[int]:
        """Years whose schedule is known in the calendar in use."""
        return self.current().years_with_data()

    def has_data_for(self, year: int) -> bool:
        """Whether deadlines touching `year` can be final on the calendar in use."""
        return self.current().has_data_for(year)

    def is_working_day(self, day: datetime.date) -> bool:
        """Whether `day` is a working day on the calendar in use."""
        return self.current().is_working_day(day)

    def add_working_days(self, start: datetime.date, days: int) -> DueDate:
        """The `days`-th working day after `start` on the calendar in use."""
        return self.current().add_working_days(start, days)

    def add_calendar_days(self, start: datetime.date, days: int) -> DueDate:
        """Natural days after `start` (the calendar plays no part)."""
        return self.current().add_calendar_days(start, days)

    def working_days_between(self, start: datetime.date, end: datetime.date) -> int:
        """Working days in (start, end] on the calendar in use."""
        return self.current().working_days_between(start, end)

    def same_schedule(self, other: WorkingDayCalendar) -> bool:
        """Whether the calendar in use has the same schedule as `other`."""
        return self.current().same_schedule(other)

    def __repr__(self) -> str:
        return f"<LiveCalendar path={self._path} generation={self._generation} {self._current!r}>"


def reload_all() -> None:
    """Asks every live calendar of this process to re-read its file at its next question."""
    for calendar in list(_LIVE):
        calendar.request_reload()


def install_reload_on_sighup() -> bool:
    """Makes SIGHUP reload every live calendar of this process; False where it cannot (not the main
    thread, no SIGHUP on the platform). A handler already installed is still called after ours."""
    global _sighup_installed
    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        return False
    with _SIGHUP_LOCK:
        if _sighup_installed:
            return True
        previous = signal.getsignal(signal.SIGHUP)

        def on_sighup(signum: int, frame: FrameType | None) -> None:
            reload_all()
            if callable(previous):
                previous(signum, frame)

        signal.signal(signal.SIGHUP, on_sighup)
        _sighup_installed = True
    return True


def _span(calendar: WorkingDayCalendar) -> str:
    years = sorted(calendar.years_with_data())
    return f"{years[0]}..{years[-1]}" if years else "none"
