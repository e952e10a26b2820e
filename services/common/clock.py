"""Time as the domain sees it: instants in UTC, statutory dates in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
import inspect
import os
import threading
from collections.abc import Callable
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai_date(instant: dt.datetime) -> dt.date:
    """The calendar day an instant falls on in Asia/Shanghai, the district's day."""
    return instant.astimezone(SHANGHAI).date()


def shanghai_today() -> dt.date:
    """Today in Asia/Shanghai by the wall clock."""
    return shanghai_date(dt.datetime.now(dt.UTC))


class Clock:
    """A settable instant for whole-period scenarios (a quarter played in minutes): every service
    built with its `today` and `now` sees the same time. Production never uses one."""

    def __init__(self, instant: dt.datetime):
        self._lock = threading.Lock()
        self.set(instant)

    def set(self, instant: dt.datetime) -> None:
        """Moves the clock to an aware instant (forwards or back)."""
        if instant.tzinfo is None:
            raise ValueError("the clock needs an aware instant")
        with self._lock:
            self._instant = instant.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        """The clock's instant, in UTC."""
        with self._lock:
            return self._instant

    def today(self) -> dt.date:
        """The clock's day in Asia/Shanghai."""
        return shanghai_date(self.now())

    def build_options(self, build: Callable[..., object]) -> dict[str, Callable[[], dt.date | dt.datetime]]:
        """The keyword arguments of a service's build() that this clock replaces (today, now)."""
        accepted = inspect.signature(build).parameters
        return {name: getattr(self, name) for name in ("today", "now") if name in accepted}


class FileClock(Clock):
    """The instant written in a file (CLOCK_FILE): several processes of one rehearsal share a time
    that the rehearsal moves by rewriting the file. Read again whenever the file changes."""

    def __init__(self, path: str):
        self._lock = threading.Lock()
        self.path = path
        self._seen: tuple[int, int, int] | None = None
        self._instant = dt.datetime.now(dt.UTC)

    def set(self, instant: dt.datetime) -> None:
        """Moves every process reading the file (written whole, then renamed into place)."""
        if instant.tzinfo is None:
            raise ValueError("the clock needs an aware instant")
        temporary = f"{self.path}.{os.getpid()}.tmp"
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(instant.isoformat())
        os.replace(temporary, self.path)

    def now(self) -> dt.datetime:
        """The instant in the file, read again when the file changed; ValueError when it cannot be read."""
        try:
            status = os.stat(self.path)
        except OSError as exc:
            raise ValueError(f"cannot read the clock file {self.path}: {exc.strerror}") from None
        with self._lock:
            # A rewrite renames a new file into place: a new inode even within one mtime tick.
            seen = (status.st_ino, status.st_mtime_ns, status.st_size)
            if self._seen != seen:
                with open(self.path, encoding="utf-8") as handle:
                    text = handle.read().strip()
                instant = dt.datetime.fromisoformat(text)
                if instant.tzinfo is None:
                    raise ValueError(f"the clock file {self.path} holds {text!r}, an instant without its zone")
                self._instant, self._seen = instant.astimezone(dt.UTC), seen
            return self._instant
