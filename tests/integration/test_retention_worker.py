"""A real worker process prunes its service's old event bookkeeping on its sweep, and its metrics
server shows the tables' sizes and the rows pruned."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from sqlalchemy import func, insert, select

from services.command_center.models import Inbox, Outbox
from services.common.db import utcnow
from tests.integration.conftest import scrape
from tests.processes import start_worker, stop
from tests.support import free_port

pytestmark = pytest.mark.nameko

DAY = dt.timedelta(days=1)


def samples(metrics_port: int) -> dict[tuple[str, str], float]:
    """command_center's retention series by (name, table)."""
    return {(s.name, s.labels.get("table", "")): s.value for s in scrape(metrics_port)
            if s.labels.get("service") == "command_center"}


def test_the_worker_prunes_old_published_outbox_and_inbox_rows_and_exports_sizes(command_center_postgres, amqp_uri):
    store = command_center_postgres
    now = utcnow()
    with store.transaction() as session:
        session.execute(insert(Outbox), [{
            "event_id": str(uuid.uuid4()), "event_type": "OfficeUpdated", "envelope": {}, "attempts": 0,
            "created_at": now - 40 * DAY, "sent_at": None if n % 4 == 0 else now - 40 * DAY} for n in range(200)])
        session.execute(insert(Inbox), [{
            "event_id": str(uuid.uuid4()), "source": "mobile_enforcement", "event_type": "CaseClosed",
            "applied_at": now - 40 * DAY} for _ in range(120)])
    metrics_port = free_port()
    process = start_worker("command_center", DATABASE_URL=store.url, AMQP_URI=amqp_uri, SWEEP_INTERVAL_SECONDS="0.5",
                           RETENTION_BATCH_SIZE="50", METRICS_PORT=str(metrics_port))
    try:
        deadline = time.monotonic() + 30
        while True:
            with store.read() as session:
                left = (session.scalar(select(func.count()).select_from(Outbox)),
                        session.scalar(select(func.count()).select_from(Inbox)))
            # The counters move just after their table's last batch: read until the sweep has ended.
            exposed = samples(metrics_port) if left == (50, 0) else {}
            if ("supervision_table_rows", "outbox") in exposed:
                break
            assert process.poll() is None and time.monotonic() < deadline, f"not pruned: {left} rows left"
            time.sleep(0.3)
    finally:
        stop(process)
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Outbox).where(Outbox.sent_at.is_(None))) == 50
    assert exposed[("supervision_retention_pruned_rows_total", "outbox")] == 150
    assert exposed[("supervision_retention_pruned_rows_total", "inbox")] == 120
    assert exposed[("supervision_table_bytes", "outbox")] > 0
    assert ("supervision_table_rows", "applied_versions") in exposed
