"""Retention on a real SQLite store at a fixed instant: what goes, in how many transactions, what
stays, and the settings that are refused."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event, func, insert, select

from services.common import migrate, retention
from services.common.clock import Clock
from services.common.config import MIN_INBOX_RETENTION_DAYS, ConfigError, Settings
from services.common.db import Store, utcnow
from services.gateway.models import Base as GatewayBase

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 12, 7, 4, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@pytest.fixture
def store(tmp_path):
    """The gateway's schema as its migrations build it: outbox, inbox, versions and the history."""
    store = Store(f"sqlite:///{tmp_path / 'gateway.db'}")
    migrate.upgrade("gateway", ROOT / "services/gateway/migrations", store.url)
    yield store
    store.dispose()


def tables():
    return GatewayBase.metadata.tables


def add_outbox(store: Store, count: int, created: dt.datetime, sent: dt.datetime | None) -> None:
    outbox = tables()["outbox"]
    with store.transaction() as session:
        session.execute(insert(outbox), [{
            "event_id": str(uuid.uuid4()), "event_type": "OfficeUpdated", "envelope": {}, "created_at": created,
            "sent_at": sent, "attempts": 0} for _ in range(count)])


def add_inbox(store: Store, count: int, applied: dt.datetime) -> None:
    with store.transaction() as session:
        session.execute(insert(tables()["inbox"]), [{
            "event_id": str(uuid.uuid4()), "source": "command_center", "event_type": "OfficeUpdated",
            "applied_at": applied} for _ in range(count)])


def count(store: Store, table: str, *where) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(tables()[table]).where(*where))


def commits(store: Store) -> list[int]:
    """A list that grows by one at each transaction the store commits."""
    seen: list[int] = []
    event.listen(store.engine, "commit", lambda _connection: seen.append(1))
    return seen


def settings(**env: str) -> Settings:
    return Settings.from_env({"LOG_FORMAT": "text", **env})


def test_published_outbox_rows_older_than_the_retention_go_in_batches_and_unpublished_ones_stay(store):
    add_outbox(store, 10, NOW - 30 * DAY, sent=NOW - 20 * DAY)   # published long ago: go
    add_outbox(store, 4, NOW - 30 * DAY, sent=None)               # never published: stay, however old
    add_outbox(store, 3, NOW - 2 * DAY, sent=NOW - 2 * DAY)       # published within the retention: stay
    [rule] = [r for r in retention.bookkeeping_rules(GatewayBase.metadata, 7, 30) if r.table.name == "outbox"]
    transactions = commits(store)

    pruned = retention.prune(store, rule, NOW, batch_size=3, max_batches=100)

    assert pruned == retention.Pruned(rows=10, batches=4)  # 3 + 3 + 3 + 1
    assert len(transactions) == 4  # each batch its own transaction
    outbox = tables()["outbox"]
    assert count(store, "outbox", outbox.c.sent_at.is_(None)) == 4
    assert count(store, "outbox") == 7


def test_a_backlog_larger_than_a_sweep_is_left_for_the_next_one(store):
    add_inbox(store, 25, NOW - 40 * DAY)
    [rule] = [r for r in retention.bookkeeping_rules(GatewayBase.metadata, 7, 30) if r.table.name == "inbox"]

    first = retention.prune(store, rule, NOW, batch_size=5, max_batches=3)
    assert first == retention.Pruned(rows=15, batches=3)
    assert count(store, "inbox") == 10
    second = retention.prune(store, rule, NOW, batch_size=5, max_batches=3)
    assert second == retention.Pruned(rows=10, batches=3)  # the third batch finds nothing left
    assert count(store, "inbox") == 0


def test_the_boundary_is_the_retention_itself(store):
    add_inbox(store, 1, NOW - 30 * DAY)                              # exactly 30 days: kept
    add_inbox(store, 1, NOW - 30 * DAY - dt.timedelta(seconds=1))   # a second more: goes
    [rule] = [r for r in retention.bookkeeping_rules(GatewayBase.metadata, 7, 30) if r.table.name == "inbox"]
    assert retention.prune(store, rule, NOW, batch_size=10, max_batches=10).rows == 1
    assert count(store, "inbox") == 1


def test_history_minute_points_go_before_the_day_rollup(store):
    history = tables()["index_history"]
    with store.transaction() as session:
        session.execute(insert(history), [
            {"scope": "MH01", "series": f"s{n}", "resolution": resolution, "bucket": NOW - age,
             "value": 1.0, "scheme_version": 1}
            for n in range(4) for resolution, age in (("minute", 10 * DAY), ("minute", DAY), ("day", 10 * DAY),
                                                      ("day", 900 * DAY))])

    removed = sum(retention.prune(store, rule, NOW, batch_size=3, max_batches=10).rows
                  for rule in retention.history_rules(GatewayBase.metadata, lambda: NOW, minute_days=7, day_days=800))

    assert removed == 8  # the 10-day-old minutes and the 900-day-old days, by their composite key
    with store.read() as session:
        left = session.execute(select(history.c.resolution, history.c.bucket)).all()
    assert sorted({(r, NOW - b) for r, b in left}) == [("day", 10 * DAY), ("minute", DAY)]


def test_the_timer_prunes_and_exports_sizes_and_pruned_counts(store):
    add_outbox(store, 6, NOW - 30 * DAY, sent=NOW - 30 * DAY)
    add_outbox(store, 2, NOW - 30 * DAY, sent=None)
    add_inbox(store, 5, NOW - 60 * DAY)
    add_inbox(store, 2, NOW)
    with store.transaction() as session:
        session.execute(insert(tables()["applied_versions"]), [
            {"aggregate": f"command_center/office/MH0{n}", "version": n} for n in range(3)])
    clock = Clock(NOW)
    timer = retention.timer("retention_probe", store, settings(RETENTION_BATCH_SIZE="4"), GatewayBase.metadata,
                            clock=clock.now)

    def sample(name: str, table: str) -> float | None:
        return REGISTRY.get_sample_value(name, {"service": "retention_probe", "table": table})

    assert sample("supervision_retention_pruned_rows_total", "outbox") == 0.0  # exported before any run
    assert timer.name == "retention"
    timer.run()

    assert sample("supervision_retention_pruned_rows_total", "outbox") == 6
    assert sample("supervision_retention_pruned_rows_total", "inbox") == 5
    assert sample("supervision_table_rows", "outbox") == 2
    assert sample("supervision_table_rows", "inbox") == 2
    assert sample("supervision_table_rows", "applied_versions") == 3  # measured, never pruned
    assert sample("supervision_table_rows", "index_history") == 0
    assert sample("supervision_table_bytes", "outbox") > 0  # this SQLite has dbstat
    assert sample("supervision_table_rows", "request_keys") is None  # the gateway has none
    assert count(store, "applied_versions") == 3
    clock.set(NOW + 40 * DAY)
    timer.run()
    assert sample("supervision_retention_pruned_rows_total", "inbox") == 7
    assert sample("supervision_table_rows", "outbox") == 2  # unpublished: kept after 70 days too


def test_a_rehearsal_clock_far_ahead_prunes_the_history_but_not_the_bookkeeping_written_by_the_wall_clock(store):
    wall = utcnow()
    add_inbox(store, 3, wall - DAY)
    add_outbox(store, 2, wall - DAY, sent=wall - DAY)
    rehearsal = Clock(wall + 200 * DAY)  # a quarter played ahead of the wall clock, as CLOCK_FILE does
    history = tables()["index_history"]
    with store.transaction() as session:
        session.execute(insert(history), [{"scope": "MH01", "series": "index", "resolution": "minute",
                                           "bucket": rehearsal.now() - 10 * DAY, "value": 1.0, "scheme_version": 1}])
    timer = retention.timer("retention_rehearsal", store, settings(), GatewayBase.metadata,
                            retention.history_rules(GatewayBase.metadata, rehearsal.now, 7, 800))

    timer.run()

    assert count(store, "index_history") == 0  # ten days old by the service's clock
    assert (count(store, "inbox"), count(store, "outbox")) == (3, 2)  # a day old by the clock that wrote them


def test_retention_settings_have_defaults():
    defaults = settings()
    assert (defaults.outbox_retention_days, defaults.inbox_retention_days) == (7, 30)
    assert (defaults.retention_batch_size, defaults.retention_max_batches) == (1000, 100)
    assert settings(INBOX_RETENTION_DAYS=str(MIN_INBOX_RETENTION_DAYS)).inbox_retention_days == MIN_INBOX_RETENTION_DAYS


@pytest.mark.parametrize(("name", "value"), [
    ("OUTBOX_RETENTION_DAYS", "-1"), ("OUTBOX_RETENTION_DAYS", "0"), ("OUTBOX_RETENTION_DAYS", "a week"),
    ("INBOX_RETENTION_DAYS", "-3"), ("INBOX_RETENTION_DAYS", str(MIN_INBOX_RETENTION_DAYS - 1)),
    ("INBOX_RETENTION_DAYS", "1"), ("RETENTION_BATCH_SIZE", "0"), ("RETENTION_MAX_BATCHES", "-5"),
])
def test_a_bad_retention_setting_is_refused_naming_it(name, value):
    with pytest.raises(ConfigError, match=name):
        settings(**{name: value})


def test_an_inbox_retention_below_the_floor_says_why():
    with pytest.raises(ConfigError, match="applied twice"):
        settings(INBOX_RETENTION_DAYS="2")
