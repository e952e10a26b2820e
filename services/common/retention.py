"""Retention: deleting what the event bookkeeping and the gateway's history no longer need, in short
batches, and measuring the tables that grow.

What goes, and when (the settings are services.common.config.retention_settings):
- outbox: rows the relay has published (sent_at set), OUTBOX_RETENTION_DAYS after publication. An
  unpublished row is never deleted, whatever its age: it is an event still owed to the consumers.
- inbox: rows INBOX_RETENTION_DAYS after the event was applied. The row is what makes a redelivery a
  duplicate, so the setting has a floor (config.MIN_INBOX_RETENTION_DAYS, reasoned there).
- applied_versions: never. It holds one row per aggregate (updated in place, so it grows with the
  aggregates, not with the events), and without its row an older event of that aggregate would
  apply again.
- index_history (gateway): minute points after HISTORY_MINUTE_RETENTION_DAYS, day points (the
  coarser rollup charts fall back to) after HISTORY_DAY_RETENTION_DAYS.

Each batch is one `DELETE ... WHERE key IN (SELECT key ... LIMIT n)` in a transaction of its own, so
a large backlog never holds a long lock, a huge transaction or SQLite's write lock for long.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from prometheus_client import Counter, Gauge
from sqlalchemy import Column, CursorResult, MetaData, Table, delete, func, select, text, tuple_
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from services.common.config import Settings
from services.common.consumer import Timer
from services.common.db import Store, utcnow

log = logging.getLogger(__name__)

# The tables whose size is exported: a fixed list, so the metrics' labels stay few.
MEASURED_TABLES = ("outbox", "inbox", "applied_versions", "dead_letters", "request_keys", "index_history")

TABLE_ROWS = Gauge("supervision_table_rows",
                   "Rows of a table that grows with use (an estimate on PostgreSQL: pg_class.reltuples).",
                   ["service", "table"])
TABLE_BYTES = Gauge("supervision_table_bytes",
                    "Bytes of a table with its indexes and TOAST (PostgreSQL; SQLite where dbstat exists).",
                    ["service", "table"])
ROWS_PRUNED = Counter("supervision_retention_pruned_rows_total", "Rows deleted by retention.",
                      ["service", "table"])


@dataclass(frozen=True)
class Rule:
    """Rows of `table` that may go: those whose `age` column is older than `keep` by `clock` and that
    match every condition of `where`."""

    table: Table
    age: Column[dt.datetime]
    keep: dt.timedelta
    # The clock `age` was written by: the event bookkeeping's is the wall clock (db.utcnow) even in a
    # rehearsal whose services run on a clock of their own, the gateway's history the service's.
    clock: Callable[[], dt.datetime]
    where: tuple[ColumnElement[bool], ...] = ()

    def condition(self, now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
        """The WHERE clause of the rows this rule deletes at `now`."""
        return (self.age.is_not(None), self.age < now - self.keep, *self.where)


@dataclass(frozen=True)
class Pruned:
    """What one rule's pruning deleted: rows, in how many batches."""

    rows: int
    batches: int


def prune(store: Store, rule: Rule, now: dt.datetime, batch_size: int, max_batches: int) -> Pruned:
    """Deletes the rows `rule` selects, oldest first, `batch_size` per transaction, until none is
    left or `max_batches` ran (the rest goes at the next sweep)."""
    key = list(rule.table.primary_key.columns)
    target = key[0] if len(key) == 1 else tuple_(*key)
    # By key, through a subquery: DELETE has no LIMIT on PostgreSQL (nor on most SQLite builds).
    oldest = select(*key).where(*rule.condition(now)).order_by(rule.age).limit(batch_size)
    rows = batches = 0
    while batches < max_batches:
        with store.transaction() as session:
            # A DELETE's result is a CursorResult; Session.execute is typed for every statement.
            result = cast(CursorResult[Any], session.execute(delete(rule.table).where(target.in_(oldest))))
            deleted = result.rowcount
        batches += 1
        rows += deleted
        if deleted < batch_size:
            break
    return Pruned(rows, batches)


def bookkeeping_rules(metadata: MetaData, outbox_days: int, inbox_days: int,
                      clock: Callable[[], dt.datetime] = utcnow) -> list[Rule]:
    """The outbox's published rows and the inbox's rows, each after its retention (`clock`: tests only)."""
    rules = []
    outbox = metadata.tables.get("outbox")
    if outbox is not None:
        rules.append(Rule(outbox, outbox.c.sent_at, dt.timedelta(days=outbox_days), clock))
    inbox = metadata.tables.get("inbox")
    if inbox is not None:
        rules.append(Rule(inbox, inbox.c.applied_at, dt.timedelta(days=inbox_days), clock))
    return rules


def history_rules(metadata: MetaData, now: Callable[[], dt.datetime], minute_days: int, day_days: int) -> list[Rule]:
    """The gateway's index history, bucketed by the service's clock `now`: minute points after
    `minute_days`, day points after `day_days`."""
    history = metadata.tables["index_history"]
    return [Rule(history, history.c.bucket, dt.timedelta(days=days), now, (history.c.resolution == resolution,))
            for resolution, days in (("minute", minute_days), ("day", day_days))]


@dataclass(frozen=True)
class TableSize:
    """How big a kept table is: its rows and, where the store can tell, its bytes."""

    rows: int
    # None where the store cannot tell (SQLite without the dbstat table).
    bytes: int | None


def measure(store: Store, tables: Iterable[str]) -> dict[str, TableSize]:
    """Rows and bytes of each table: PostgreSQL's statistics (cheap, estimated rows), SQLite's counts."""
    sizes = {}
    with store.read() as session:
        for table in tables:
            if store.is_sqlite:
                rows = session.scalar(select(func.count()).select_from(text(_quoted(table))))
                sizes[table] = TableSize(int(rows or 0), _sqlite_bytes(session, table))
                continue
            estimate, size = session.execute(text(
                "SELECT c.reltuples, pg_total_relation_size(c.oid) FROM pg_class c WHERE c.oid = to_regclass(:t)"),
                {"t": table}).one()
            if estimate < 0:  # never analysed yet (a young table): counted instead, being small
                estimate = session.scalar(select(func.count()).select_from(text(_quoted(table))))
            sizes[table] = TableSize(int(estimate), int(size))
    return sizes


def _sqlite_bytes(session: Session, table: str) -> int | None:
    """The pages of the table and its indexes (dbstat), or None where SQLite was built without it."""
    try:
        return int(session.scalar(text(
            "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = :t OR name IN "
            "(SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t)"), {"t": table}))
    except OperationalError:
        return None


def _quoted(table: str) -> str:
    if table not in MEASURED_TABLES:
        raise ValueError(f"{table} is not a measured table")
    return f'"{table}"'


class Retention:
    """One service's retention sweep: prunes by its rules, then exports its tables' sizes."""

    def __init__(self, service: str, store: Store, rules: list[Rule], measured: list[str], *,
                 batch_size: int, max_batches: int):
        self.service = service
        self.store = store
        self.rules = rules
        self.measured = measured
        self.batch_size = batch_size
        self.max_batches = max_batches
        for rule in rules:
            ROWS_PRUNED.labels(service, rule.table.name)  # exported from the start, at 0

    def run(self) -> dict[str, Pruned]:
        """Prunes every rule's rows, then measures; returns what was pruned per table."""
        pruned: dict[str, Pruned] = {}
        for rule in self.rules:
            result = prune(self.store, rule, rule.clock(), self.batch_size, self.max_batches)
            ROWS_PRUNED.labels(self.service, rule.table.name).inc(result.rows)
            before = pruned.get(rule.table.name, Pruned(0, 0))
            pruned[rule.table.name] = Pruned(before.rows + result.rows, before.batches + result.batches)
            if result.batches == self.max_batches:
                log.info("retention backlog left for the next sweep", extra={
                    "service": self.service, "table": rule.table.name, "rows_pruned": result.rows})
        for table, size in measure(self.store, self.measured).items():
            TABLE_ROWS.labels(self.service, table).set(size.rows)
            if size.bytes is not None:
                TABLE_BYTES.labels(self.service, table).set(size.bytes)
        return pruned


def timer(service: str, store: Store, settings: Settings, metadata: MetaData, extra_rules: Iterable[Rule] = (),
          *, clock: Callable[[], dt.datetime] = utcnow) -> Timer:
    """The retention timer of a service whose models are `metadata`: its outbox and inbox (by the wall
    clock; `clock` for tests), plus `extra_rules` (the gateway's history), and the sizes of its
    MEASURED_TABLES."""
    rules = bookkeeping_rules(metadata, settings.outbox_retention_days, settings.inbox_retention_days, clock)
    rules += list(extra_rules)
    measured = [name for name in MEASURED_TABLES if name in metadata.tables]
    retention = Retention(service, store, rules, measured, batch_size=settings.retention_batch_size,
                          max_batches=settings.retention_max_batches)
    return Timer("retention", retention.run)
