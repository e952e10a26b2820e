"""Events through the real broker into a real nameko worker process.

This module runs in its own pytest process (`make test` runs it with -m nameko): nameko's pytest
plugin monkey-patches the standard library, which gRPC code must never see.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import BigInteger, Integer, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.command_center.domain.center import CommandCenter
from services.command_center.domain.offices import OfficeInput
from services.command_center.models import Inbox, Task
from services.common import migrate
from services.common.amqp import NamekoTransport
from services.common.context import SYSTEM_CALLER
from services.common.db import Store, utcnow
from services.common.events import EventWriter, OutboxMixin
from services.common.relay import OutboxRelay
from services.common.working_days import WorkingDayCalendar
from tests.processes import start_worker, stop, wait_for
from tests.support import Clock, TcpProxy

pytestmark = pytest.mark.nameko

ROOT = Path(__file__).resolve().parents[2]


class SourceBase(DeclarativeBase):
    pass


class SourceOutbox(OutboxMixin, SourceBase):
    """The outbox of a publisher of ComplaintOverdue (the complaints service's contract)."""

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)


@pytest.fixture
def command_center_db(postgres_database):
    store = Store(postgres_database)
    migrate.upgrade("command_center", ROOT / "services/command_center/migrations", store.url)
    center = CommandCenter(store, Clock(), WorkingDayCalendar.load())
    center.create_office(SYSTEM_CALLER, "", OfficeInput(id="MH01", name="莘庄所", district="闵行区",
                                                        streets=["莘庄镇"]))
    yield store
    store.dispose()


@pytest.fixture
def worker(command_center_db, amqp_uri):
    process = start_worker("command_center", DATABASE_URL=command_center_db.url, AMQP_URI=amqp_uri)
    yield process
    stop(process)


@pytest.fixture
def source(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'complaints.db'}")
    SourceBase.metadata.create_all(store.engine)
    yield store, EventWriter("complaints", SourceOutbox)
    store.dispose()


def overdue(store: Store, writer: EventWriter, complaint_id: str) -> None:
    with store.transaction() as session:
        writer.record(session, "ComplaintOverdue", aggregate_type="complaint", aggregate_id=complaint_id, version=3,
                      office_id="MH01", data={"complaint_id": complaint_id, "office_id": "MH01",
                                              "deadline": "acceptance"})


def tasks_for(store: Store, complaint_ids: list[str]) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(Task).where(Task.source_ref.in_(complaint_ids)))


def test_relayed_event_is_consumed_once_even_when_redelivered(worker, command_center_db, source, amqp_uri):
    store, writer = source
    complaint_id = f"C-{uuid.uuid4().hex[:8]}"
    overdue(store, writer, complaint_id)
    relay = OutboxRelay("complaints", store, SourceOutbox, NamekoTransport(amqp_uri))
    assert relay.relay_once() == 1
    wait_for(lambda: tasks_for(command_center_db, [complaint_id]) == 1)
    with store.transaction() as session:  # the relay crashed before marking it sent: it goes out again
        for row in session.scalars(select(SourceOutbox)):
            row.sent_at = None
    assert relay.relay_once() == 1
    event_id = relay_event_id(store)
    wait_for(lambda: inbox_has(command_center_db, event_id))
    time.sleep(0.5)
    assert tasks_for(command_center_db, [complaint_id]) == 1
    with command_center_db.read() as session:
        task = session.scalar(select(Task).where(Task.source_ref == complaint_id))
    assert task.office_id == "MH01" and task.source == "complaints.overdue"


def relay_event_id(store: Store) -> str:
    with store.read() as session:
        return session.scalar(select(SourceOutbox.event_id))


def inbox_has(store: Store, event_id: str) -> bool:
    with store.read() as session:
        return session.get(Inbox, event_id) is not None


def test_outbox_keeps_events_while_the_broker_is_unreachable(worker, command_center_db, source, amqp_uri):
    store, writer = source
    host, port = amqp_uri.rsplit("@", 1)[1].rstrip("/").split(":")
    proxy = TcpProxy(host, int(port))
    relay = OutboxRelay("complaints", store, SourceOutbox,
                        NamekoTransport(f"amqp://guest:guest@127.0.0.1:{proxy.port}/"), poll_seconds=0.2,
                        max_backoff_seconds=0.5)
    try:
        proxy.cut()
        ids = [f"C-{uuid.uuid4().hex[:8]}" for _ in range(10)]
        relay.start()
        for complaint_id in ids:
            overdue(store, writer, complaint_id)
        time.sleep(1.5)
        count, age = relay.backlog()
        assert count == 10 and age > 1.0
        with store.read() as session:
            assert session.scalar(select(func.max(SourceOutbox.attempts))) >= 1
        proxy.restore()
        wait_for(lambda: relay.backlog()[0] == 0)
        wait_for(lambda: tasks_for(command_center_db, ids) == 10)
        time.sleep(0.5)
        assert tasks_for(command_center_db, ids) == 10
    finally:
        relay.stop()
        proxy.close()
    assert utcnow()  # the source store stays usable after the outage
