"""The index history for trend charts: per office and for the district, the index, each dimension
and each indicator, by minute and by day (Asia/Shanghai), kept for a configurable time.

A point is written when a value changes (and each day once for every series, so a day chart has a
point per day): a series is a step function, its value holding until the next point. One gateway
replica writes at a time (services.gateway.recorder); one taking over may write a bucket again, with
the same value, and the last write wins.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.dialects import postgresql, sqlite

from services.common import retention
from services.common.clock import SHANGHAI
from services.common.db import Store
from services.common.errors import InvalidArgument
from services.gateway.domain.live import View
from services.gateway.models import HistoryPoint

DISTRICT = "_district"
MINUTE, DAY, MONTH = "minute", "day", "month"
RESOLUTIONS = (MINUTE, DAY, MONTH)
# The longest range one query may ask for, per resolution.
MAX_SPAN = {MINUTE: dt.timedelta(days=7), DAY: dt.timedelta(days=800), MONTH: dt.timedelta(days=800)}
# Rows per statement: SQLite caps the parameters of one statement.
BATCH = 500
DEFAULT_SPAN = {MINUTE: dt.timedelta(hours=24), DAY: dt.timedelta(days=90), MONTH: dt.timedelta(days=365)}


@dataclass(frozen=True)
class Point:
    """One point of a trend: the value (None: no data) from this time until the next point."""

    time: dt.datetime
    value: float | None


def minute_of(instant: dt.datetime) -> dt.datetime:
    """The start (in UTC) of the instant's minute."""
    return instant.astimezone(dt.UTC).replace(second=0, microsecond=0)


def day_of(instant: dt.datetime) -> dt.datetime:
    """The start (in UTC) of the instant's day in Asia/Shanghai."""
    local = instant.astimezone(SHANGHAI)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


def series_values(view: View, scope: str) -> dict[str, float | None]:
    """What history keeps of a scope now: the index, each dimension, every indicator's value."""
    if scope == DISTRICT:
        score = view.district.score
        values = {key: (n / d if d > 0 else None) for key, (n, d) in view.district.totals.items()}
    else:
        state = view.offices[scope]
        score = state.score
        values = {key: (v.numerator / v.denominator if v.denominator > 0 else None) for key, v in state.values.items()}
    values.update({i.key: i.value for i in score.indicators})
    values["index"] = score.index
    values.update({d.key: d.score for d in score.dimensions})
    return values


class History:
    """The index history (指数走势) in the gateway's store: written as values change, read for trend charts."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._written: dict[tuple[str, str], tuple[dt.datetime, float | None]] = {}
        self._day: dt.datetime | None = None
        # One statement executed with many rows: a multi-row VALUES of a different length each time
        # was compiled anew for every write (SQLAlchemy caches a statement by its shape).
        statement = _upsert(store)(HistoryPoint)
        self._upsert_points = statement.on_conflict_do_update(
            index_elements=["scope", "series", "resolution", "bucket"],
            set_={"value": statement.excluded.value, "scheme_version": statement.excluded.scheme_version})

    def record(self, view: View, scopes: Iterable[str], now: dt.datetime) -> int:
        """Writes the values of `scopes` that changed (every scope's, on the first record of a day);
        returns how many points were written."""
        minute, day = minute_of(now), day_of(now)
        if day != self._day:
            scopes = [*view.offices, DISTRICT]
        rows: list[dict[str, Any]] = []
        for scope in scopes:
            if scope != DISTRICT and scope not in view.offices:
                continue
            for series, value in series_values(view, scope).items():
                last = self._written.get((scope, series))
                if last is not None and last[1] == value and day == self._day:
                    continue
                rows.append({"scope": scope, "series": series, "value": value, "scheme_version": view.scheme.version})
        # In key order: two writers upserting overlapping rows in different orders (a set's order
        # differs between processes) can each lock a row the other waits for, a deadlock on PostgreSQL.
        rows.sort(key=lambda row: (row["scope"], row["series"]))
        if rows:
            with self.store.transaction() as session:
                for resolution, bucket in ((MINUTE, minute), (DAY, day)):
                    for start in range(0, len(rows), BATCH):
                        session.execute(self._upsert_points, [{**row, "resolution": resolution, "bucket": bucket}
                                                              for row in rows[start:start + BATCH]])
        for row in rows:
            self._written[(row["scope"], row["series"])] = (minute, row["value"])
        self._day = day
        return len(rows)

    def rewrite_all(self) -> None:
        """The next record writes every series again (a writer taking over from another replica,
        whose writes this one did not see)."""
        self._written.clear()
        self._day = None

    def points(self, scope: str, series: str, resolution: str, start: dt.datetime, end: dt.datetime) -> list[Point]:
        """The series over [start, end], led by the value in force at `start`.

        A day's point holds the day's last value, so the value in force at a moment is the last
        minute point before it or, when minutes are no longer kept, the last point of an earlier day.
        """
        table = HistoryPoint
        where = (table.scope == scope, table.series == series)
        first_day = day_of(start)
        with self.store.read() as session:
            def last_before(resolution_: str, before: dt.datetime) -> Row[dt.datetime, float | None] | None:
                return session.execute(select(table.bucket, table.value)
                                       .where(*where, table.resolution == resolution_, table.bucket < before)
                                       .order_by(table.bucket.desc()).limit(1)).first()

            if resolution == MINUTE:
                lead = last_before(MINUTE, start) or last_before(DAY, first_day)
                begin = start
            else:
                lead, begin = last_before(DAY, first_day), first_day
            rows = session.execute(select(table.bucket, table.value)
                                   .where(*where, table.resolution == (MINUTE if resolution == MINUTE else DAY),
                                          table.bucket >= begin, table.bucket <= end)
                                   .order_by(table.bucket)).all()
        points = [Point(begin, lead.value)] if lead is not None else []
        points += [Point(bucket, value) for bucket, value in rows]
        if resolution == MONTH:
            return _last_per_month(points)
        return points

    def prune(self, now: dt.datetime, minute_days: int, day_days: int) -> int:
        """Deletes minute points older than `minute_days` and day points older than `day_days`, all
        of them, in short batches (the gateway's retention timer runs the same rules, bounded)."""
        return sum(retention.prune(self.store, rule, now, BATCH, max_batches=sys.maxsize).rows
                   for rule in retention.history_rules(HistoryPoint.metadata, lambda: now, minute_days, day_days))


def query_range(resolution: str, start: dt.datetime | None, end: dt.datetime | None,
                now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The range a history query covers; INVALID_ARGUMENT for a bad resolution or range."""
    if resolution not in RESOLUTIONS:
        raise InvalidArgument.of("resolution", f"must be one of {', '.join(RESOLUTIONS)}")
    end = end or now
    start = start or end - DEFAULT_SPAN[resolution]
    if start >= end:
        raise InvalidArgument.of("from", "must be before 'to'")
    if end - start > MAX_SPAN[resolution]:
        raise InvalidArgument.of("from", f"a {resolution} query covers at most {MAX_SPAN[resolution].days} days")
    return start, end


def _last_per_month(points: list[Point]) -> list[Point]:
    months: dict[tuple[int, int], Point] = {}
    for point in points:
        local = point.time.astimezone(SHANGHAI)
        months[(local.year, local.month)] = point
    return list(months.values())


def _upsert(store: Store) -> Callable[[type[HistoryPoint]], sqlite.Insert | postgresql.Insert]:
    return sqlite.insert if store.is_sqlite else postgresql.insert
