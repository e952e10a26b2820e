"""Assessment periods: a month ("2026-09"), a quarter ("2026-Q3") or a year ("2026"), in
Asia/Shanghai dates. A period ends at midnight after its last day, Shanghai time."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from services.common.clock import SHANGHAI
from services.common.errors import InvalidArgument

MONTH, QUARTER, YEAR = "MONTH", "QUARTER", "YEAR"
KINDS = (MONTH, QUARTER, YEAR)
_FORMS = {MONTH: re.compile(r"^(\d{4})-(\d{2})$"), QUARTER: re.compile(r"^(\d{4})-Q([1-4])$"),
          YEAR: re.compile(r"^(\d{4})$")}
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class Period:
    """A month, quarter or year: its key, its kind and its first and last days."""

    key: str
    kind: str
    start: dt.date
    end: dt.date

    @property
    def cutoff(self) -> dt.datetime:
        """The instant the period ends: values recorded before it stood at its end."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), SHANGHAI).astimezone(dt.UTC)


def parse(key: str, field: str = "period") -> Period:
    """The period a key names ("2026-09", "2026-Q3", "2026"); anything else is refused as `field`."""
    key = key.strip()
    for kind, form in _FORMS.items():
        match = form.match(key)
        if not match:
            continue
        year = int(match.group(1))
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise InvalidArgument.of(field, f"year {year} is outside {FIRST_YEAR}-{LAST_YEAR}")
        if kind == YEAR:
            return Period(key, kind, dt.date(year, 1, 1), dt.date(year, 12, 31))
        number = int(match.group(2))
        if kind == MONTH and not 1 <= number <= 12:
            raise InvalidArgument.of(field, f"{key}: month {number} does not exist")
        first, months = (number, 1) if kind == MONTH else (3 * number - 2, 3)
        start = dt.date(year, first, 1)
        return Period(key, kind, start, _month_after(start, months) - dt.timedelta(days=1))
    raise InvalidArgument.of(field, f"{key!r} is not a period; use 2026-09 (month), 2026-Q3 (quarter) or 2026 (year)")


def parse_quarter(key: str, field: str = "quarter") -> Period:
    """The quarter a key names: officers are graded (平时考核) by quarter only."""
    period = parse(key, field)
    if period.kind != QUARTER:
        raise InvalidArgument.of(field, f"{key!r} is not a quarter; use e.g. 2026-Q3")
    return period


def quarter_of(day: dt.date) -> Period:
    """The quarter a day falls in."""
    return parse(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def last_ended_quarter(today: dt.date) -> Period:
    """The latest quarter that has ended by `today`: the one being graded now."""
    return quarter_of(quarter_of(today).start - dt.timedelta(days=1))


def _month_after(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    return dt.date(day.year + index // 12, index % 12 + 1, 1)
