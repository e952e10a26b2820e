"""Retention as the services run it: every service's timers prune its event bookkeeping, and on a
real PostgreSQL database a large backlog goes in short batches, leaving what must stay."""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event, func, insert, select, text

from services.common import migrate, registry
from services.common.consumer import run_timer
from services.common.db import Store, utcnow
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]
DAY = dt.timedelta(days=1)


def migrated(service: str, url: str) -> Store:
    store = Store(url)
    migrate.upgrade(service, ROOT / f"services/{service}/migrations", store.url)
    return store


def metadata_of(service: str):
    return importlib.import_module(f"services.{service}.models").Base.metadata


def add_outbox(store: Store, service: str, count: int, created: dt.datetime, sent: dt.datetime | None) -> None:
    with store.transaction() as session:
        session.execute(insert(metadata_of(service).tables["outbox"]), [{
            "event_id": str(uuid.uuid4()), "event_type": "OfficeUpdated", "envelope": {"n": n},
            "created_at": created, "sent_at": sent, "attempts": 0} for n in range(count)])


def add_inbox(store: Store, service: str, count: int, applied: dt.datetime) -> None:
    with store.transaction() as session:
        session.execute(insert(metadata_of(service).tables["inbox"]), [{
            "event_id": str(uuid.uuid4()), "source": "command_center", "event_type": "OfficeUpdated",
            "applied_at": applied} for _ in range(count)])


def count(store: Store, service: str, table: str, *where) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(metadata_of(service).tables[table]).where(*where))


@pytest.mark.parametrize("service", registry.names())
def test_every_services_timers_prune_its_old_published_outbox_and_inbox_rows(service, tmp_path):
    store = migrated(service, f"sqlite:///{tmp_path / f'{service}.db'}")
    try:
        now = utcnow()
        add_outbox(store, service, 3, now - 60 * DAY, sent=now - 60 * DAY)
        add_outbox(store, service, 2, now - 60 * DAY, sent=None)
        add_inbox(store, service, 4, now - 60 * DAY)
        add_inbox(store, service, 1, now - DAY)
        build = importlib.import_module(f"services.{service}.service").build
        runtime = build(make_settings(DATA_DIR=str(tmp_path)), store)

        for timer in runtime.timers:  # what the worker (or the monolith's timer threads) runs each sweep
            run_timer(runtime.name, timer, runtime.store)

        outbox = metadata_of(service).tables["outbox"]
        assert count(store, service, "outbox") == 2, "old published outbox rows were not pruned"
        assert count(store, service, "outbox", outbox.c.sent_at.is_(None)) == 2
        assert count(store, service, "inbox") == 1, "old inbox rows were not pruned"
    finally:
        store.dispose()


def test_a_large_backlog_on_postgresql_goes_in_short_batches_and_unpublished_rows_stay(postgres_database):
    service = "command_center"
    store = migrated(service, postgres_database)
    try:
        now = utcnow()
        add_outbox(store, service, 4500, now - 30 * DAY, sent=now - 29 * DAY)   # go
        add_outbox(store, service, 300, now - 30 * DAY, sent=None)               # stay: never published
        add_outbox(store, service, 200, now - DAY, sent=now - DAY)                # stay: recent
        add_inbox(store, service, 2500, now - 45 * DAY)                           # go
        add_inbox(store, service, 100, now - 10 * DAY)                            # stay
        with store.transaction() as session:
            session.execute(insert(metadata_of(service).tables["applied_versions"]), [
                {"aggregate": f"mobile_enforcement/case/{n}", "version": 1} for n in range(50)])
        settings = make_settings(DATA_DIR="var", RETENTION_BATCH_SIZE="1000", RETENTION_MAX_BATCHES="100")
        runtime = importlib.import_module(f"services.{service}.service").build(settings, store)
        [timer] = [t for t in runtime.timers if t.name == "retention"]
        transactions: list[int] = []
        event.listen(store.engine, "commit", lambda _c: transactions.append(1))
        # Each DELETE with the number of commits before it: equal numbers would share a transaction.
        deletes: list[tuple[str, int]] = []
        event.listen(store.engine, "before_cursor_execute",
                     lambda _c, _cur, statement, *_: deletes.append((statement, len(transactions)))
                     if statement.lstrip().upper().startswith("DELETE") else None)

        def sample(name: str, table: str) -> float | None:
            return REGISTRY.get_sample_value(name, {"service": service, "table": table})

        pruned_before = {t: sample("supervision_retention_pruned_rows_total", t) or 0.0 for t in ("outbox", "inbox")}
        run_timer(service, timer, store)  # through the lease every sweep takes

        outbox = metadata_of(service).tables["outbox"]
        assert count(store, service, "outbox") == 500
        assert count(store, service, "outbox", outbox.c.sent_at.is_(None)) == 300
        assert count(store, service, "inbox") == 100
        assert count(store, service, "applied_versions") == 50
        # 4500 rows in five DELETEs of at most 1000 (the fifth takes the last 500), 2500 in three.
        assert len([s for s, _ in deletes if "outbox" in s]) == 5
        assert len([s for s, _ in deletes if "inbox" in s]) == 3
        assert len({committed for _, committed in deletes}) == 8  # one transaction per batch, never one for all
        assert sample("supervision_retention_pruned_rows_total", "outbox") - pruned_before["outbox"] == 4500
        assert sample("supervision_retention_pruned_rows_total", "inbox") - pruned_before["inbox"] == 2500
        assert sample("supervision_table_bytes", "outbox") > 0
        assert sample("supervision_table_bytes", "request_keys") > 0  # measured although never pruned

        # The row gauges are PostgreSQL's estimates: exact once the table has been analysed.
        with store.engine.connect() as connection:
            connection.execute(text("ANALYZE outbox"))
            connection.execute(text("ANALYZE inbox"))
            connection.commit()
        run_timer(service, timer, store)
        assert sample("supervision_table_rows", "outbox") == 500
        assert sample("supervision_table_rows", "inbox") == 100
        assert sample("supervision_retention_pruned_rows_total", "outbox") - pruned_before["outbox"] == 4500
    finally:
        store.dispose()
