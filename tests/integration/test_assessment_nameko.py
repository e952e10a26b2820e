"""assessment's nameko worker: indicator history and evidence from events relayed through the real
broker, applied once however often they are delivered.

Runs in its own pytest process (`-m nameko`): nameko's pytest plugin monkey-patches the standard
library, which gRPC code must never see.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Integer, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.assessment.domain import evidence
from services.assessment.models import Evidence, IndicatorHistory
from services.common import migrate
from services.common.amqp import NamekoTransport
from services.common.contracts import date_of
from services.common.db import Store
from services.common.events import EventWriter, OutboxMixin
from services.common.indicators import IndicatorSnapshotMixin, Reading, refresh
from services.common.relay import OutboxRelay
from supervision.common.v1.events_pb2 import StatutoryClock
from supervision.complaints.v1 import events_pb2 as complaints_pb
from tests.processes import start_worker, stop

pytestmark = pytest.mark.nameko

ROOT = Path(__file__).resolve().parents[2]


class SourceBase(DeclarativeBase):
    pass


class SourceSnapshot(IndicatorSnapshotMixin, SourceBase):
    pass


class SourceOutbox(OutboxMixin, SourceBase):
    """The outbox of the complaints service, as a publisher of IndicatorsChanged and ComplaintResolved."""

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)


@pytest.fixture
def assessment_db(postgres_database):
    store = Store(postgres_database)
    migrate.upgrade("assessment", ROOT / "services/assessment/migrations", store.url)
    yield store
    store.dispose()


@pytest.fixture
def worker(assessment_db, amqp_uri):
    # No INDICATOR_SOURCES: the worker must not need (or start) any gRPC channel.
    process = start_worker("assessment", DATABASE_URL=assessment_db.url, AMQP_URI=amqp_uri)
    yield process
    stop(process)


@pytest.fixture
def complaints(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'complaints.db'}")
    SourceBase.metadata.create_all(store.engine)
    yield store, EventWriter("complaints", SourceOutbox)
    store.dispose()


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def count(store: Store, model, *where) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_history_and_evidence_arrive_through_the_broker_once(worker, assessment_db, complaints, amqp_uri):
    store, writer = complaints
    office = f"T{uuid.uuid4().hex[:6]}"
    with store.transaction() as session:
        # complaints' own publishing code: the refresher's IndicatorsChanged, and a resolved
        # complaint as its contract carries it (two officers credited, its clocks met).
        refresh(session, SourceSnapshot, writer, {office: [Reading(office, "complaints.satisfaction", 9, 10)]})
        writer.record(session, complaints_pb.ComplaintResolved(
            complaint_id="C-1", version=5, office_id=office, kind="COMPLAINT", state="RESOLVED", outcome="RESOLVED",
            handled_by=f"{office}-01", on_time=True, officer_ids=[f"{office}-01", f"{office}-02"],
            resolved_on=date_of(dt.date(2026, 10, 20)), clocks=[StatutoryClock(clock="acceptance", met=True)]),
            aggregate_type="complaint", aggregate_id="C-1", version=5, office_id=office)
    relay = OutboxRelay("complaints", store, SourceOutbox, NamekoTransport(amqp_uri))
    assert relay.relay_once() == 2
    wait_for(lambda: count(assessment_db, Evidence, Evidence.office_id == office) == 1)
    with assessment_db.read() as session:
        [item] = session.scalars(select(Evidence).where(Evidence.office_id == office))
        officers = evidence.officers_of(session, [item.id])[item.id]
    assert (item.reference, item.on_time, item.occurred_on, officers) == (
        "C-1", True, dt.date(2026, 10, 20), [f"{office}-01", f"{office}-02"])
    wait_for(lambda: count(assessment_db, IndicatorHistory, IndicatorHistory.office_id == office) == 1)
    with store.transaction() as session:  # the relay crashed before marking them sent: out again
        for row in session.scalars(select(SourceOutbox)):
            row.sent_at = None
    assert relay.relay_once() == 2
    time.sleep(1.0)
    assert count(assessment_db, Evidence, Evidence.office_id == office) == 1
    with assessment_db.read() as session:
        stored = session.scalar(select(IndicatorHistory).where(IndicatorHistory.office_id == office))
    assert (stored.version, stored.key, stored.numerator, stored.denominator) == (1, "complaints.satisfaction", 9, 10)
