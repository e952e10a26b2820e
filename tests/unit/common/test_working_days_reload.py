"""The live calendar: re-read when the operator's file changes or on SIGHUP, the old one kept when
the new file is broken (the same in a real process: tests/integration/test_calendar_reload_process.py)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from services.common.calendar_reload import CALENDAR_RELOADS, LiveCalendar, install_reload_on_sighup
from tests.calendar_files import WITH_2027_LONG_NEW_YEAR, WITHOUT_2027, calendar_without_2027, write

# 2027-01-01 is a Friday; the file below makes it (and Monday the 4th) holidays.
NEW_YEAR = dt.date(2027, 1, 1)


class ManualClock:
    """A monotonic clock the test moves, so the poll interval passes without sleeping."""

    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def calendar_file(tmp_path: Path) -> Path:
    return calendar_without_2027(tmp_path)


def reloads(outcome: str) -> float:
    return CALENDAR_RELOADS.labels(outcome)._value.get()


def test_a_changed_file_is_read_once_the_poll_interval_passed(calendar_file):
    clock = ManualClock()
    live = LiveCalendar(calendar_file, poll_seconds=5, monotonic=clock)
    due_before = live.add_working_days(dt.date(2026, 12, 31), 1)
    assert (due_before.date, due_before.provisional) == (NEW_YEAR, True)

    write(calendar_file, WITH_2027_LONG_NEW_YEAR, 2_000_000_000)
    clock.value = 4.9  # within the interval: not even a stat
    assert live.add_working_days(dt.date(2026, 12, 31), 1).date == NEW_YEAR
    clock.value = 5.0
    after = live.add_working_days(dt.date(2026, 12, 31), 1)
    assert (after.date, after.provisional) == (dt.date(2027, 1, 5), False)
    assert live.generation == 1 and live.has_data_for(2027)


def test_an_unchanged_file_is_not_read_again(calendar_file):
    clock = ManualClock()
    live = LiveCalendar(calendar_file, poll_seconds=1, monotonic=clock)
    ok_before = reloads("ok")
    clock.value = 10
    assert not live.refresh()
    assert reloads("ok") == ok_before and live.generation == 0


def test_a_broken_file_keeps_the_calendar_in_use_and_says_why(calendar_file, caplog):
    clock = ManualClock()
    live = LiveCalendar(calendar_file, poll_seconds=1, monotonic=clock)
    write(calendar_file, WITH_2027_LONG_NEW_YEAR, 2_000_000_000)
    clock.value = 1
    assert live.refresh() and live.has_data_for(2027)

    errors_before = reloads("error")
    write(calendar_file, "years:\n  2027:\n    holidays: [2027-02-30]\n", 3_000_000_000)
    clock.value = 2
    assert not live.refresh()
    assert live.has_data_for(2027) and not live.is_working_day(NEW_YEAR)  # still the good file's data
    assert reloads("error") == errors_before + 1
    failures = [r for r in caplog.records if r.getMessage().startswith("working calendar not reloaded")]
    assert len(failures) == 1 and "2027-02-30" in failures[0].reason
    # Reported once, not at every poll, until the file changes again.
    clock.value = 3
    assert not live.refresh() and reloads("error") == errors_before + 1

    calendar_file.unlink()
    clock.value = 4
    assert not live.refresh() and live.has_data_for(2027)


def test_a_requested_reload_reads_a_file_whose_time_did_not_move(calendar_file):
    live = LiveCalendar(calendar_file, poll_seconds=3600, monotonic=ManualClock())
    write(calendar_file, WITH_2027_LONG_NEW_YEAR.replace("2027-01-04", "2027-01-05"), 1_000_000_000)  # same mtime
    os.truncate(calendar_file, len(WITH_2027_LONG_NEW_YEAR))  # and the same size as the good file
    write(calendar_file, WITH_2027_LONG_NEW_YEAR, 1_000_000_000)
    live.request_reload()
    assert not live.is_working_day(dt.date(2027, 1, 4)) and live.generation == 1


def test_rewriting_the_same_schedule_is_no_new_generation(calendar_file):
    clock = ManualClock()
    live = LiveCalendar(calendar_file, poll_seconds=1, monotonic=clock)
    write(calendar_file, "# comment only\n" + WITHOUT_2027, 2_000_000_000)
    clock.value = 1
    assert not live.refresh() and live.generation == 0


def test_without_a_file_nothing_is_polled():
    live = LiveCalendar(None, poll_seconds=0)
    assert not live.refresh(force=True) and live.generation == 0
    assert live.add_working_days(dt.date(2026, 12, 30), 1).date == dt.date(2026, 12, 31)


def test_sighup_cannot_be_installed_off_the_main_thread():
    import threading

    result: list[bool] = []
    worker = threading.Thread(target=lambda: result.append(install_reload_on_sighup()))
    worker.start()
    worker.join()
    assert result == [False]


def test_the_example_2027_file_in_the_repository_loads():
    example = Path(__file__).resolve().parents[3] / "deploy/calendar/working-calendar-2027.example.yaml"
    live = LiveCalendar(example)
    assert live.has_data_for(2027) and not live.is_working_day(dt.date(2027, 1, 1))
    assert live.is_working_day(dt.date(2027, 2, 20))  # an adjusted working Saturday
