"""Unit tests for services.common.working_days.

Expected dates are worked out by hand from the 2026 schedule (holidays
Jan 1-3, Feb 15-23, Apr 4-6, May 1-5, Jun 19-21, Sep 25-27, Oct 1-7; adjusted
working days Jan 4, Feb 14, Feb 28, May 9, Sep 20, Oct 10) and written as
literals so a wrong rule cannot agree with itself.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common import working_days
from services.common.working_days import (
    CalendarDataError,
    DueDate,
    WorkingDayCalendar,
    default_calendar,
)

# One shared instance: the calendar is immutable, and hypothesis does not
# allow function-scoped fixtures in @given tests.
CALENDAR = WorkingDayCalendar.load()


@pytest.fixture
def cal() -> WorkingDayCalendar:
    return CALENDAR


def write_overrides(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- chinesecalendar data -------------------------------------------------


def test_years_come_from_package_data(cal: WorkingDayCalendar) -> None:
    # chinesecalendar 1.11.0 covers 2004..2026 and nothing else.
    assert cal.years_with_data() == frozenset(range(2004, 2027))
    assert cal.has_data_for(2026)
    assert not cal.has_data_for(2003)
    assert not cal.has_data_for(2027)


def test_2026_schedule_is_loaded(cal: WorkingDayCalendar) -> None:
    for adjusted in ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]:
        day = date.fromisoformat(adjusted)
        assert day.weekday() >= 5, adjusted
        assert cal.is_working_day(day), adjusted
    assert not cal.is_working_day(date(2026, 2, 16))  # Mon, Spring Festival
    assert not cal.is_working_day(date(2026, 10, 7))  # Wed, National Day
    assert not cal.is_working_day(date(2026, 2, 21))  # Sat, inside the holiday
    assert cal.is_working_day(date(2026, 2, 24))  # Tue, first day back
    assert not cal.is_working_day(date(2026, 3, 7))  # ordinary Saturday


def test_year_without_data_is_weekdays_only(cal: WorkingDayCalendar) -> None:
    # 2027-01-01 is a Friday; without 2027 data it cannot be known as 元旦.
    assert cal.is_working_day(date(2027, 1, 1))
    assert not cal.is_working_day(date(2027, 1, 2))  # Saturday
    assert not cal.is_working_day(date(2027, 1, 3))  # Sunday


# --- add_working_days -----------------------------------------------------


def test_seven_working_days_across_spring_festival_2026(cal: WorkingDayCalendar) -> None:
    # Received Thu 2026-02-12 (not counted):
    #   Feb 13 Fri = 1, Feb 14 Sat (调休) = 2, Feb 15-23 holiday,
    #   Feb 24 Tue = 3, 25 = 4, 26 = 5, 27 Fri = 6, Feb 28 Sat (调休) = 7.
    assert cal.add_working_days(date(2026, 2, 12), 7) == DueDate(date(2026, 2, 28), provisional=False)


def test_working_days_across_national_day_2026(cal: WorkingDayCalendar) -> None:
    # Start Wed 2026-09-30 (not counted); Oct 1-7 holiday;
    #   Oct 8 Thu = 1, 9 Fri = 2, 10 Sat (调休) = 3, 11 Sun skipped,
    #   12 Mon = 4, 13 = 5, 14 = 6, 15 Thu = 7,
    #   16 Fri = 8, 19 Mon = 9, 20 = 10, 21 = 11, 22 = 12, 23 Fri = 13,
    #   26 Mon = 14, 27 Tue = 15.
    start = date(2026, 9, 30)
    assert cal.add_working_days(start, 3) == DueDate(date(2026, 10, 10), provisional=False)
    assert cal.add_working_days(start, 7) == DueDate(date(2026, 10, 15), provisional=False)
    assert cal.add_working_days(start, 15) == DueDate(date(2026, 10, 27), provisional=False)


def test_year_end_into_2027_is_provisional_until_schedule_loaded(tmp_path: Path) -> None:
    # Start Tue 2026-12-22 (not counted). 2026 has no holidays left:
    #   Dec 23 = 1, 24 = 2, 25 = 3, 28 = 4, 29 = 5, 30 = 6, 31 = 7,
    # then 2027 without data, weekends only, so Fri Jan 1 counts:
    #   Jan 1 = 8, 4 = 9, 5 = 10, 6 = 11, 7 = 12, 8 = 13, 11 = 14, Jan 12 Tue = 15.
    start = date(2026, 12, 22)
    before = WorkingDayCalendar.load()
    assert before.add_working_days(start, 15) == DueDate(date(2027, 1, 12), provisional=True)

    # Once 2027 is loaded with Jan 1 as a holiday, everything shifts by one day.
    path = write_overrides(tmp_path, "years:\n  2027:\n    holidays: [2027-01-01]\n    workdays: []\n")
    after = WorkingDayCalendar.load(path)
    assert after.has_data_for(2027)
    assert after.add_working_days(start, 15) == DueDate(date(2027, 1, 13), provisional=False)
    # 2026 data is untouched by the 2027 override.
    assert after.add_working_days(date(2026, 2, 12), 7) == DueDate(date(2026, 2, 28), provisional=False)


def test_provisional_only_when_counted_days_reach_unknown_year(cal: WorkingDayCalendar) -> None:
    # Thu 2026-12-31 is the only day counted: still 2026, so final.
    assert cal.add_working_days(date(2026, 12, 30), 1) == DueDate(date(2026, 12, 31), provisional=False)
    # Start day is 2026-12-31 itself; the day counted is Fri 2027-01-01.
    assert cal.add_working_days(date(2026, 12, 31), 1) == DueDate(date(2027, 1, 1), provisional=True)


def test_start_day_not_counted(cal: WorkingDayCalendar) -> None:
    # Mon 2026-03-09 + 1 working day = Tue 2026-03-10 (ordinary week, no holidays).
    assert cal.add_working_days(date(2026, 3, 9), 1) == DueDate(date(2026, 3, 10), provisional=False)


def test_weekend_start(cal: WorkingDayCalendar) -> None:
    # Sat 2026-03-07: Sun 8 is skipped, Mon 9 = 1, Tue 10 = 2.
    assert cal.add_working_days(date(2026, 3, 7), 1) == DueDate(date(2026, 3, 9), provisional=False)
    assert cal.add_working_days(date(2026, 3, 7), 2) == DueDate(date(2026, 3, 10), provisional=False)
    # Sun 2026-03-08 counts from Mon 9 as well.
    assert cal.add_working_days(date(2026, 3, 8), 1) == DueDate(date(2026, 3, 9), provisional=False)


def test_holiday_start(cal: WorkingDayCalendar) -> None:
    # Start on National Day itself: Oct 2-7 holiday, Oct 8 Thu = 1.
    assert cal.add_working_days(date(2026, 10, 1), 1) == DueDate(date(2026, 10, 8), provisional=False)


def test_zero_days_returns_start(cal: WorkingDayCalendar) -> None:
    # Even in a year without data: nothing was counted.
    assert cal.add_working_days(date(2027, 6, 1), 0) == DueDate(date(2027, 6, 1), provisional=False)
    assert cal.add_working_days(date(2026, 10, 3), 0) == DueDate(date(2026, 10, 3), provisional=False)


def test_negative_days_rejected(cal: WorkingDayCalendar) -> None:
    with pytest.raises(ValueError, match="days must be >= 0"):
        cal.add_working_days(date(2026, 3, 9), -1)
    with pytest.raises(ValueError, match="days must be >= 0"):
        cal.add_calendar_days(date(2026, 3, 9), -1)


def test_datetime_rejected(cal: WorkingDayCalendar) -> None:
    # A datetime never equals a date, so it would miss every holiday silently.
    with pytest.raises(TypeError):
        cal.add_working_days(datetime(2026, 9, 30, 12, 0), 1)
    with pytest.raises(TypeError):
        cal.is_working_day(datetime(2026, 10, 1, 12, 0))


# --- add_calendar_days ----------------------------------------------------


def test_add_calendar_days_across_year_end(cal: WorkingDayCalendar) -> None:
    # 2026-12-15 + 90 natural days: 16 days to Dec 31, 31 in Jan, 28 in Feb
    # (2027 not leap) = 75, 15 more -> 2027-03-15. Never provisional.
    assert cal.add_calendar_days(date(2026, 12, 15), 90) == DueDate(date(2027, 3, 15), provisional=False)
    assert cal.add_calendar_days(date(2026, 12, 31), 1) == DueDate(date(2027, 1, 1), provisional=False)
    # Natural days ignore holidays: lands on National Day unchanged.
    assert cal.add_calendar_days(date(2026, 9, 30), 1) == DueDate(date(2026, 10, 1), provisional=False)


# --- working_days_between -------------------------------------------------


def test_working_days_between_examples(cal: WorkingDayCalendar) -> None:
    # (Sep 30, Oct 10]: Oct 8, 9, 10 (调休) = 3.
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert cal.working_days_between(date(2026, 10, 10), date(2026, 10, 10)) == 0
    assert cal.working_days_between(date(2026, 10, 10), date(2026, 9, 30)) == 0


@given(
    start=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)),
    days=st.integers(min_value=0, max_value=60),
)
def test_working_days_between_inverts_add_working_days(start: date, days: int) -> None:
    cal = CALENDAR
    due = cal.add_working_days(start, days)
    assert cal.working_days_between(start, due.date) == days
    if days > 0:
        # The deadline is always itself a working day, and the day before
        # it does not yet complete the period.
        assert cal.is_working_day(due.date)
        assert cal.working_days_between(start, date.fromordinal(due.date.toordinal() - 1)) == days - 1
    assert due.provisional == (days > 0 and due.date.year > 2026)


# --- overrides ------------------------------------------------------------


def test_override_replaces_whole_year(tmp_path: Path) -> None:
    # Replacing 2026 with empty lists drops all its holidays and 调休 days.
    path = write_overrides(tmp_path, "years:\n  2026:\n    holidays: []\n    workdays: []\n")
    cal = WorkingDayCalendar.load(path)
    assert cal.has_data_for(2026)
    assert cal.is_working_day(date(2026, 10, 1))  # Thursday, no longer a holiday
    assert not cal.is_working_day(date(2026, 10, 10))  # Saturday, no longer adjusted
    # Sep 30 start: Oct 1 = 1 ... Oct 9 Fri = 7, ordinary weeks.
    assert cal.add_working_days(date(2026, 9, 30), 7) == DueDate(date(2026, 10, 9), provisional=False)


def test_override_with_adjusted_weekend_and_quoted_dates(tmp_path: Path) -> None:
    # 2027-02-06 is a Saturday declared a holiday; Sun 2027-02-07 is an adjusted workday.
    path = write_overrides(
        tmp_path,
        "years:\n  2027:\n    holidays: [2027-01-01, '2027-02-06']\n    workdays: [\"2027-02-07\"]\n",
    )
    cal = WorkingDayCalendar.load(str(path))
    assert not cal.is_working_day(date(2027, 1, 1))
    assert not cal.is_working_day(date(2027, 2, 6))
    assert cal.is_working_day(date(2027, 2, 7))
    # Fri 2027-02-05 + 1: Sat 6 holiday, Sun 7 adjusted workday = 1.
    assert cal.add_working_days(date(2027, 2, 5), 1) == DueDate(date(2027, 2, 7), provisional=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("- 2027-01-01\n", "top level must be a mapping", id="list-not-mapping"),
        pytest.param("", "top level must be a mapping", id="empty-file"),
        pytest.param("holidays: []\n", "unknown top-level keys ['holidays']", id="wrong-top-level-key"),
        pytest.param("{}\n", "missing top-level key 'years'", id="no-years-key"),
        pytest.param("years: [2027]\n", "'years' must be a mapping", id="years-not-mapping"),
        pytest.param(
            "years:\n  '2027':\n    holidays: []\n    workdays: []\n",
            "year key '2027' must be an integer year",
            id="year-as-string",
        ),
        pytest.param(
            "years:\n  1989:\n    holidays: []\n    workdays: []\n",
            "year 1989 is outside 1990..2100",
            id="year-too-early",
        ),
        pytest.param(
            "years:\n  2101:\n    holidays: []\n    workdays: []\n",
            "year 2101 is outside 1990..2100",
            id="year-too-late",
        ),
        pytest.param("years:\n  2027:\n", "year 2027: must be a mapping", id="year-without-data"),
        pytest.param(
            "years:\n  2027:\n    holiday: [2027-01-01]\n",
            "year 2027: unknown keys ['holiday']",
            id="misspelt-key",
        ),
        pytest.param(
            "years:\n  2027:\n    holidays: 2027-01-01\n",
            "year 2027: 'holidays' must be a list",
            id="holidays-not-list",
        ),
        pytest.param(
            "years:\n  2027:\n    holidays: [2026-12-31]\n    workdays: []\n",
            "year 2027: holidays entry 2026-12-31 is not in 2027",
            id="date-outside-year",
        ),
        pytest.param(
            "years:\n  2027:\n    holidays: [2027-02-06]\n    workdays: [2027-02-06]\n",
            "year 2027: 2027-02-06 is listed as both holiday and workday",
            id="holiday-and-workday",
        ),
        pytest.param(
            "years:\n  2027:\n    holidays: []\n    workdays: [2027-02-08]\n",
            "year 2027: workday 2027-02-08 is a Monday; an adjusted working day must be a Saturday or Sunday",
            id="weekday-as-workday",
        ),
        pytest.param(
            "years:\n  2027:\n    holidays: [2027-02-30]\n    workdays: []\n",
            "year 2027: holidays entry '2027-02-30' is not a real date",
            id="impossible-date",
        ),
        pytest.param(
            "years:\n  2027:\n    holidays: [next friday]\n    workdays: []\n",
            "year 2027: holidays entry 'next friday' is not a date in the form YYYY-MM-DD",
            id="unreadable-date",
        ),
        pytest.param(
            "years:\n  2027:\n    holidays: [20270101]\n    workdays: []\n",
            "year 2027: holidays entry 20270101 is not a date YYYY-MM-DD",
            id="number-as-date",
        ),
        pytest.param("years: {2027: [\n", "not valid YAML", id="yaml-syntax"),
    ],
)
def test_malformed_overrides(tmp_path: Path, text: str, expected: str) -> None:
    path = write_overrides(tmp_path, text)
    with pytest.raises(CalendarDataError) as excinfo:
        WorkingDayCalendar.load(path)
    message = str(excinfo.value)
    assert str(path) in message
    assert expected in message


def test_calendar_data_error_is_value_error() -> None:
    assert issubclass(CalendarDataError, ValueError)


def test_missing_overrides_file_is_not_ignored(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        WorkingDayCalendar.load(tmp_path / "absent.yaml")


# --- constructor and default_calendar -------------------------------------


def test_constructor_rejects_inconsistent_data() -> None:
    with pytest.raises(ValueError, match="both holiday and adjusted workday"):
        WorkingDayCalendar([date(2026, 10, 10)], [date(2026, 10, 10)], [2026])
    with pytest.raises(ValueError, match="not listed in years_with_data"):
        WorkingDayCalendar([date(2027, 1, 1)], [], [2026])


def test_constructor_with_plain_data() -> None:
    cal = WorkingDayCalendar([date(2030, 1, 1)], [], [2030])
    assert cal.years_with_data() == frozenset({2030})
    # Tue 2030-01-01 is a holiday, so Mon 2029-12-31 + 1 = Wed 2030-01-02.
    # 2029 has no data, but only the uncounted start day lies there: final.
    assert cal.add_working_days(date(2029, 12, 31), 1) == DueDate(date(2030, 1, 2), provisional=False)


def test_default_calendar_reads_env_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_overrides(tmp_path, "years:\n  2027:\n    holidays: [2027-01-01]\n    workdays: []\n")
    monkeypatch.setenv("WORKING_CALENDAR_FILE", str(path))
    default_calendar.cache_clear()
    try:
        first = default_calendar()
        assert first.has_data_for(2027)
        assert default_calendar() is first
        monkeypatch.setenv("WORKING_CALENDAR_FILE", "")
        assert default_calendar() is first  # cached until cache_clear()
        default_calendar.cache_clear()
        assert not working_days.default_calendar().has_data_for(2027)
    finally:
        default_calendar.cache_clear()
