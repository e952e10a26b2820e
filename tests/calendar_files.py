"""Working-calendar files for the tests of the calendar's reload and of the recounts it causes: one
that lacks 2027 (dates in 2027 are provisional) and ones that add it."""

from __future__ import annotations

import os
from pathlib import Path

WITHOUT_2027 = "years:\n  2030:\n    holidays: [2030-01-01]\n    workdays: []\n"
# 2027 with New Year's Day a holiday: a provisional date counted over it moves one working day.
WITH_2027 = WITHOUT_2027 + "  2027:\n    holidays: [2027-01-01]\n    workdays: []\n"
# 2027 with New Year's Day and Monday 4 January holidays.
WITH_2027_LONG_NEW_YEAR = WITHOUT_2027 + "  2027:\n    holidays: [2027-01-01, 2027-01-04]\n    workdays: []\n"


def write(path: Path, text: str, mtime_ns: int) -> None:
    """Writes a calendar file with the given modification time (the reload polls on it)."""
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))


def calendar_without_2027(directory: Path) -> Path:
    """A calendar file in `directory` that lacks 2027."""
    path = directory / "calendar.yaml"
    write(path, WITHOUT_2027, 1_000_000_000)
    return path
