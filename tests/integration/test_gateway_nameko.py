"""The gateway's nameko worker (microservices mode): a broadcast subscriber of assessment's
SchemeUpdated that keeps each version in the gateway's store, and the history retention timer.

Runs in the nameko pytest process (`-m nameko`): eventlet-patched, so no gRPC here.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.common import migrate
from services.common.amqp import NamekoTransport
from services.common.db import Store, utcnow
from services.common.events import Envelope
from services.gateway.domain.schemes import load_starting_scheme
from services.gateway.models import HistoryPoint, KnownScheme
from tests.processes import start_service, stop

pytestmark = pytest.mark.nameko

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gateway_store(postgres_database):
    store = Store(postgres_database)
    migrate.upgrade("gateway", ROOT / "services/gateway/migrations", store.url)
    yield store
    store.dispose()


@pytest.fixture
def worker(gateway_store, amqp_uri):
    process = start_service("gateway", "worker", DATABASE_URL=gateway_store.url, AMQP_URI=amqp_uri,
                            SWEEP_INTERVAL_SECONDS="0.5", HISTORY_MINUTE_RETENTION_DAYS="7")
    yield process
    stop(process)


def scheme_updated(version: int) -> dict:
    body = load_starting_scheme().to_body()
    return Envelope(id=str(uuid.uuid4()), source="assessment", type="SchemeUpdated", subject="scheme/district",
                    time=utcnow(), aggregate_id="district", aggregate_version=version,
                    data={"version": version, "effective_from": "2026-01-01",
                          "scheme": {**body, "version": version}}).to_wire()


def test_the_worker_keeps_published_schemes_and_prunes_old_history(worker, gateway_store, amqp_uri):
    version = int(time.time()) % 1_000_000 + 2
    with gateway_store.transaction() as session:
        session.add(HistoryPoint(scope="MH01", series="index", resolution="minute", value=90.0, scheme_version=1,
                                 bucket=utcnow().replace(second=0, microsecond=0) - dt.timedelta(days=30)))
    transport = NamekoTransport(amqp_uri)
    deadline = time.monotonic() + 30
    # A broadcast queue has a name of the worker's own: publish until it is bound and consumed.
    while True:
        transport.publish(scheme_updated(version))
        with gateway_store.read() as session:
            kept = session.get(KnownScheme, version)
        if kept is not None:
            break
        assert worker.poll() is None and time.monotonic() < deadline, "the worker did not keep the scheme"
        time.sleep(0.5)
    assert kept.body["names"]["command_center.task_on_time"] == "督办任务按期办结率"
    deadline = time.monotonic() + 10
    while True:
        with gateway_store.read() as session:
            left = session.scalar(select(func.count()).select_from(HistoryPoint))
        if left == 0:
            break
        assert time.monotonic() < deadline, "the retention timer did not prune"
        time.sleep(0.2)
