"""Statutory deadlines counted in 工作日 (working days) or natural days.

Working days skip weekends and public holidays and include the adjusted
working weekends (调休). The State Council publishes each year's schedule
only a few weeks ahead, so the calendar is data: chinesecalendar's tables
plus an operator file that adds or replaces whole years. A deadline that
reaches into a year with no schedule is counted on weekends alone and
marked provisional, so it can be recomputed once the schedule is loaded.

The day on which a period starts is never counted: the clock starts the
next day.
"""

from __future__ import annotations

import datetime
import functools
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CalendarDataError",
    "DueDate",
    "WorkingDayCalendar",
    "default_calendar",
]

_ONE_DAY = datetime.timedelta(days=1)
_MIN_YEAR = 1990
_MAX_YEAR = 2100
_YEAR_KEYS = frozenset({"holidays", "workdays"})
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YAML_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _DatesAsTextLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text.

    PyYAML raises a bare ValueError for an impossible date such as 2027-02-30,
    with no file position; parsing the text ourselves lets the error name the
    year and the entry.
    """


_DatesAsTextLoader.yaml_implicit_resolvers = {
    first_char: [(tag, regexp) for tag, regexp in resolvers if tag != _YAML_TIMESTAMP_TAG]
    for first_char, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class DueDate:
    """A computed deadline.

    ``provisional`` is True when the count crossed a year without calendar
    data: callers must store it so the deadline can be recomputed once that
    year's schedule is published, rather than trusting a weekends-only guess.
    """

    date: datetime.date
    provisional: bool


class CalendarDataError(ValueError):
    """The operator overrides file is malformed.

    A ValueError so that start-up code that already refuses bad configuration
    refuses this too; the message names file, year and date so the operator
    can fix the file without reading code.
    """


class WorkingDayCalendar:
    """Immutable holiday calendar; cheap to query, so share one instance."""

    __slots__ = ("_adjusted_workdays", "_holidays", "_years")

    def __init__(
        self,
        holidays: Iterable[datetime.date],
        adjusted_workdays: Iterable[datetime.date],
        years_with_data: Iterable[int],
    ) -> None:
        """Build from raw data.

        Dates outside ``years_with_data`` are rejected: a half-known year would
        yield deadlines that look final but are not.
        """
        self._holidays: frozenset[datetime.date] = frozenset(holidays)
        self._adjusted_workdays: frozenset[datetime.date] = frozenset(adjusted_workdays)
        self._years: frozenset[int] = frozenset(years_with_data)

        both = self._holidays & self._adjusted_workdays
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"dates are both holiday and adjusted workday: {listed}")
        for kind, dates in (("holiday", self._holidays), ("adjusted workday", self._adjusted_workdays)):
            for day in dates:
                if _is_datetime(day):
                    raise TypeError(f"{kind} {day!r} is a datetime; pass datetime.date")
                if day.year not in self._years:
                    raise ValueError(
                        f"{kind} {day.isoformat()} lies in {day.year}, which is not listed in years_with_data"
                    )

    @classmethod
    def load(cls, overrides_path: str | Path | None = None) -> WorkingDayCalendar:
        """chinesecalendar's data merged with an operator file.

        Years in the file replace chinesecalendar's whole year, so a corrected
        schedule never mixes with stale entries. A missing or unreadable file
        raises OSError: silently falling back would produce wrong deadlines.
        """
        holidays, workdays, years = _chinese_calendar_data()
        if overrides_path is not None:
            overrides = _read_overrides(Path(overrides_path))
            replaced = overrides.keys()
            holidays = {d for d in holidays if d.year not in replaced}
            workdays = {d for d in workdays if d.year not in replaced}
            for year_holidays, year_workdays in overrides.values():
                holidays |= year_holidays
                workdays |= year_workdays
            years = years | set(replaced)
        return cls(holidays, workdays, years)

    def years_with_data(self) -> frozenset[int]:
        """Years whose schedule is known; anything else is weekends-only."""
        return self._years

    def has_data_for(self, year: int) -> bool:
        """Whether deadlines touching ``year`` can be final."""
        return year in self._years

    def is_working_day(self, day: datetime.date) -> bool:
        """Adjusted weekends count, holidays do not; unknown years are Mon-Fri.

        Unknown years need no special case: they have no entries in either set.
        A datetime is refused because its date depends on the time zone.
        """
        if _is_datetime(day):
            raise TypeError("pass a datetime.date in China local time, not a datetime")
        if day in self._adjusted_workdays:
            return True
        return day.weekday() < 5 and day not in self._holidays

    def add_working_days(self, start: datetime.date, days: int) -> DueDate:
        """The ``days``-th working day after ``start`` (start not counted).

        The result may be a Saturday or Sunday when that is an adjusted
        working day: the law counts those as ordinary working days.
        """
        _check_days(days)
        if _is_datetime(start):
            raise TypeError("pass a datetime.date in China local time, not a datetime")
        if days == 0:
            return DueDate(start, provisional=False)
        adjusted = self._adjusted_workdays
        holidays = self._holidays
        current = start
        remaining = days
        while remaining:
            current += _ONE_DAY
            if current in adjusted or (current.weekday() < 5 and current not in holidays):
                remaining -= 1
        return DueDate(current, self._any_year_missing((start + _ONE_DAY).year, current.year))

    def add_calendar_days(self, start: datetime.date, days: int) -> DueDate:
        """Natural-day limits (e.g. 90 days) ignore the calendar, so never provisional.

        A deadline that lands on a holiday is not postponed here: whether it
        rolls over is a rule of the specific statute, decided by the caller.
        """
        _check_days(days)
        if _is_datetime(start):
            raise TypeError("pass a datetime.date in China local time, not a datetime")
        return DueDate(start + datetime.timedelta(days=days), provisional=False)

    def working_days_between(self, start: datetime.date, end: datetime.date) -> int:
        """Working days in (start, end]: how much of a limit has been used.

        Same half-open convention as add_working_days, so
        ``working_days_between(s, add_working_days(s, n).date) == n``.
        """
        if _is_datetime(start) or _is_datetime(end):
            raise TypeError("pass a datetime.date in China local time, not a datetime")
        count = 0
        current = start + _ONE_DAY
        while current <= end:
            if self.is_working_day(current):
                count += 1
            current += _ONE_DAY
        return count

    def same_schedule(self, other: WorkingDayCalendar) -> bool:
        """Whether both calendars know the same years with the same holidays and adjusted workdays."""
        return (self._years, self._holidays, self._adjusted_workdays) == (
            other._years, other._holidays, other._adjusted_workdays)

    def _any_year_missing(self, first_year: int, last_year: int) -> bool:
        return any(year not in self._years for year in range(first_year, last_year + 1))

    def __repr__(self) -> str:
        years = sorted(self._years)
        span = f"{years[0]}..{years[-1]}" if years else "none"
        return f"<WorkingDayCalendar years={span} ({len(years)} years)>"


@functools.lru_cache(maxsize=1)
def default_calendar() -> WorkingDayCalendar:
    """Process-wide calendar, built once so request paths never read files.

    Fixed for the life of the process: services count their deadlines on a
    services.common.calendar_reload.LiveCalendar, which follows the file.
    """
    return WorkingDayCalendar.load(os.environ.get("WORKING_CALENDAR_FILE") or None)


def _is_datetime(value: object) -> bool:
    # datetime is a date subclass but never equal to one, so set lookups
    # would silently miss every holiday.
    return isinstance(value, datetime.datetime)


def _check_days(days: int) -> None:
    if isinstance(days, bool) or not isinstance(days, int):
        raise TypeError(f"days must be an int, got {type(days).__name__}")
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")


def _chinese_calendar_data() -> tuple[set[datetime.date], set[datetime.date], set[int]]:
    # Read the tables directly: chinese_calendar.is_workday raises outside its
    # range, and deriving the years from the data picks up new package
    # releases without a code change.
    from chinese_calendar import constants

    holidays = set(constants.holidays)
    workdays = set(constants.workdays)
    years = {d.year for d in holidays} | {d.year for d in workdays}
    return holidays, workdays, years


def _read_overrides(path: Path) -> dict[int, tuple[set[datetime.date], set[datetime.date]]]:
    text = path.read_text(encoding="utf-8")
    try:
        document = yaml.load(text, Loader=_DatesAsTextLoader)
    except (yaml.YAMLError, ValueError) as exc:
        raise CalendarDataError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(document, Mapping):
        raise CalendarDataError(
            f"{path}: top level must be a mapping with a 'years' key, got {_describe(document)}"
        )
    unknown = set(document) - {"years"}
    if unknown:
        raise CalendarDataError(
            f"{path}: unknown top-level keys {sorted(map(str, unknown))}; only 'years' is allowed"
        )
    if "years" not in document:
        raise CalendarDataError(f"{path}: missing top-level key 'years'")
    years = document["years"]
    if not isinstance(years, Mapping):
        raise CalendarDataError(f"{path}: 'years' must be a mapping of year to data, got {_describe(years)}")

    result: dict[int, tuple[set[datetime.date], set[datetime.date]]] = {}
    for year, data in years.items():
        if isinstance(year, bool) or not isinstance(year, int):
            raise CalendarDataError(
                f"{path}: year key {year!r} must be an integer year, got {_describe(year)}"
            )
        if not _MIN_YEAR <= year <= _MAX_YEAR:
            raise CalendarDataError(f"{path}: year {year} is outside {_MIN_YEAR}..{_MAX_YEAR}")
        result[year] = _read_year(path, year, data)
    return result


def _read_year(path: Path, year: int, data: Any) -> tuple[set[datetime.date], set[datetime.date]]:
    where = f"{path}: year {year}"
    if not isinstance(data, Mapping):
        raise CalendarDataError(
            f"{where}: must be a mapping with 'holidays' and 'workdays' lists, got {_describe(data)}"
        )
    unknown = set(data) - _YEAR_KEYS
    if unknown:
        raise CalendarDataError(
            f"{where}: unknown keys {sorted(map(str, unknown))}; allowed are 'holidays' and 'workdays'"
        )
    holidays = _read_dates(where, year, "holidays", data.get("holidays", []))
    workdays = _read_dates(where, year, "workdays", data.get("workdays", []))

    both = holidays & workdays
    if both:
        day = min(both)
        raise CalendarDataError(f"{where}: {day.isoformat()} is listed as both holiday and workday")
    for day in sorted(workdays):
        if day.weekday() < 5:
            raise CalendarDataError(
                f"{where}: workday {day.isoformat()} is a {_WEEKDAY_NAMES[day.weekday()]}; "
                "an adjusted working day must be a Saturday or Sunday"
            )
    return holidays, workdays


def _read_dates(where: str, year: int, key: str, raw: Any) -> set[datetime.date]:
    if not isinstance(raw, list):
        raise CalendarDataError(
            f"{where}: '{key}' must be a list of dates (use [] for none), got {_describe(raw)}"
        )
    dates: set[datetime.date] = set()
    for item in raw:
        day = _parse_date(where, key, item)
        if day.year != year:
            raise CalendarDataError(f"{where}: {key} entry {day.isoformat()} is not in {year}")
        dates.add(day)
    return dates


def _parse_date(where: str, key: str, item: Any) -> datetime.date:
    # Dates arrive as text (see _DatesAsTextLoader), quoted or not; only an
    # explicit !!timestamp tag yields a date object.
    if isinstance(item, datetime.datetime):
        raise CalendarDataError(f"{where}: {key} entry {item!r} has a time; give a plain date YYYY-MM-DD")
    if isinstance(item, datetime.date):
        return item
    if isinstance(item, str):
        text = item.strip()
        # fromisoformat alone would also take 20270101 or 2027-W01-1.
        if not _ISO_DATE.fullmatch(text):
            raise CalendarDataError(f"{where}: {key} entry {item!r} is not a date in the form YYYY-MM-DD")
        try:
            return datetime.date.fromisoformat(text)
        except ValueError as exc:
            raise CalendarDataError(f"{where}: {key} entry {item!r} is not a real date ({exc})") from exc
    raise CalendarDataError(f"{where}: {key} entry {item!r} is not a date YYYY-MM-DD, got {_describe(item)}")


def _describe(value: object) -> str:
    return "nothing" if value is None else type(value).__name__
