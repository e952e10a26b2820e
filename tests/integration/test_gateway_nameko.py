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
from services.common.clock import shanghai_today
from services.common.context import SYSTEM_CALLER
from services.common.db import Store, utcnow
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


@pytest.fixture
def assessment(tmp_path):
    """assessment's own use cases on a store of its own (no gRPC in this process)."""
    from services.assessment.domain.schemes import Schemes
    from services.assessment.domain.workspace import Workspace

    store = Store(f"sqlite:///{tmp_path / 'assessment.db'}")
    migrate.upgrade("assessment", ROOT / "services/assessment/migrations", store.url)
    yield Schemes(Workspace(store, shanghai_today))
    store.dispose()


def scheme_updated(schemes) -> dict:
    """A new scheme version through assessment's UpdateScheme use case: the SchemeUpdated it writes."""
    from services.assessment.domain.schemes import SchemeDraft
    from services.assessment.models import Outbox

    current = schemes.get_scheme(0, None)
    record = schemes.update_scheme(
        SYSTEM_CALLER, f"scheme-{uuid.uuid4()}", SchemeDraft(current.scheme, schemes.workspace.today(), "新版本"), 0)
    with schemes.workspace.store.read() as session:
        event = dict(session.scalars(select(Outbox.envelope).order_by(Outbox.id.desc())).first())
    assert event["type"] == "supervision.assessment.v1.SchemeUpdated" and event["aggregate_version"] == \
        record.scheme.version
    return event


def test_the_worker_keeps_published_schemes_and_prunes_old_history(worker, gateway_store, amqp_uri, assessment):
    event = scheme_updated(assessment)
    version = event["aggregate_version"]
    with gateway_store.transaction() as session:
        session.add(HistoryPoint(scope="MH01", series="index", resolution="minute", value=90.0, scheme_version=1,
                                 bucket=utcnow().replace(second=0, microsecond=0) - dt.timedelta(days=30)))
    transport = NamekoTransport(amqp_uri)
    deadline = time.monotonic() + 30
    # A broadcast queue has a name of the worker's own: publish until it is bound and consumed.
    while True:
        transport.publish(event)
        with gateway_store.read() as session:
            kept = session.get(KnownScheme, version)
        if kept is not None:
            break
        assert worker.poll() is None and time.monotonic() < deadline, "the worker did not keep the scheme"
        time.sleep(0.5)
    assert kept.body["names"]["command_center.task_on_time"] == "督办任务按期办结率"
    assert kept.body["names"]["complaints.backlog"] == "投诉积压件数"  # unscored, named by assessment
    deadline = time.monotonic() + 10
    while True:
        with gateway_store.read() as session:
            left = session.scalar(select(func.count()).select_from(HistoryPoint))
        if left == 0:
            break
        assert time.monotonic() < deadline, "the retention timer did not prune"
        time.sleep(0.2)
