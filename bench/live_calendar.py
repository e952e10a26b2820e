"""What a working-day count costs on the calendar that reloads its file (LiveCalendar) beside the
fixed calendar it replaced, in one run: every statutory due date of every service is counted
through it, so its per-call check of the file (a monotonic clock read, a `stat` at most every poll
interval) is on the path of every write that starts a clock. Also the cost of one reload.
Usage: python -m bench.live_calendar
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
import timeit
from pathlib import Path

from bench.harness import machine, write_results
from services.common.calendar_reload import LiveCalendar
from services.common.working_days import WorkingDayCalendar

CALLS = 20_000
REPEATS = 5
FILE = "years:\n  2027:\n    holidays: [2027-01-01]\n    workdays: []\n"


def per_call_us(calendar: WorkingDayCalendar) -> float:
    """The best of REPEATS runs of CALLS 15-working-day counts, in microseconds per count."""
    start = dt.date(2026, 12, 1)
    runs = timeit.repeat(lambda: calendar.add_working_days(start, 15), number=CALLS, repeat=REPEATS)
    return min(runs) / CALLS * 1e6


def main() -> None:
    """Measures the three calendars and one reload, and records them under bench/results."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "calendar.yaml"
        path.write_text(FILE, encoding="utf-8")
        figures = {
            "fixed calendar (before)": per_call_us(WorkingDayCalendar.load(path)),
            "LiveCalendar, file checked every 2 s (the default)": per_call_us(LiveCalendar(path)),
            "LiveCalendar, file checked on every call": per_call_us(LiveCalendar(path, poll_seconds=0)),
        }
        started = time.perf_counter()
        WorkingDayCalendar.load(path)
        reload_ms = (time.perf_counter() - started) * 1e3
    rows = "\n".join(f"| {name} | {value:.1f} |" for name, value in figures.items())
    markdown = f"""# The working calendar that reloads its file, beside the fixed one

Command: `python -m bench.live_calendar`; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.
Machine: {machine()}

A count of 15 working days from 2026-12-01 (crossing a year the file holds), best of {REPEATS} runs of
{CALLS:,} counts, in one process:

| calendar | µs per count |
|---|---|
{rows}

Loading the file again (what a reload does before it swaps the calendar in): {reload_ms:.1f} ms.
Load average at the end: {" / ".join(f"{x:.1f}" for x in os.getloadavg())} (1 / 5 / 15 min) on {os.cpu_count()} cores.
A `stat` on every call is what the 2 s poll saves; with the poll, a count costs what it cost on the
fixed calendar to within the runs' spread. A service counts a due date once per write that starts
a clock, and a write costs milliseconds.
"""
    print(markdown)
    write_results("live-calendar", markdown, {"per_count_us": figures, "reload_ms": reload_ms})


if __name__ == "__main__":
    main()
