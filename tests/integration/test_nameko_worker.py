"""Events through the real broker into a real nameko worker process.

This module runs in its own pytest process (`make test` runs it with -m nameko): nameko's pytest
plugin monkey-patches the standard library, which gRPC code must never see.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.command_center.domain.offices import OfficeInput, Offices
from services.command_center.domain.workspace import Workspace as CenterWorkspace
from services.command_center.models import Inbox, Task
from services.common import contracts, migrate
from services.common.amqp import NamekoTransport
from services.common.clock import SHANGHAI
from services.common.context import SYSTEM_CALLER
from services.common.db import Store, utcnow
from services.common.relay import OutboxRelay
from services.common.working_days import WorkingDayCalendar
from services.complaints.domain.complaints import Complaints
from services.complaints.domain.deadlines import Clocks
from services.complaints.domain.directory import Directory
from services.complaints.domain.intake import ComplaintInput
from services.complaints.domain.routing import read_announcement
from services.complaints.domain.rules import RuleBook
from services.complaints.domain.sweep import DeadlineSweep
from services.complaints.domain.workspace import Workspace
from services.complaints.models import Outbox as ComplaintsOutbox
from supervision.command_center.v1.events_pb2 import OfficeRegistered
from supervision.complaints.v1.events_pb2 import ComplaintOverdue
from tests.conftest import amqp_through, broker_address
from tests.contracts import pre_contract
from tests.processes import start_worker, stop, wait_for
from tests.support import Clock, TcpProxy

pytestmark = pytest.mark.nameko

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def command_center_db(postgres_database):
    store = Store(postgres_database)
    migrate.upgrade("command_center", ROOT / "services/command_center/migrations", store.url)
    center = Offices(CenterWorkspace(store, Clock(), WorkingDayCalendar.load()))
    center.create_office(SYSTEM_CALLER, "", OfficeInput(id="MH01", name="莘庄所", district="闵行区",
                                                        streets=["莘庄镇"]))
    yield store
    store.dispose()


@pytest.fixture
def worker(command_center_db, amqp_uri):
    process = start_worker("command_center", DATABASE_URL=command_center_db.url, AMQP_URI=amqp_uri)
    yield process
    stop(process)


class ComplaintsDesk:
    """The publisher: complaints' own desk on a SQLite store, its day in the test's hand. It knows
    MH01 from command_center's OfficeRegistered, and its deadline sweep publishes ComplaintOverdue."""

    def __init__(self, store: Store):
        self.store = store
        self.today = dt.date(2026, 11, 2)
        workspace = Workspace(store, Clocks(RuleBook.load(), WorkingDayCalendar.load()), lambda: self.today,
                              now=lambda: dt.datetime.combine(self.today, dt.time(10), SHANGHAI))
        self.complaints, self.sweep = Complaints(workspace), DeadlineSweep(workspace)
        with store.transaction() as session:
            Directory(workspace).apply_office(session, read_announcement(OfficeRegistered(
                office_id="MH01", version=1, name="莘庄所", district="闵行区", streets=["莘庄镇"])))

    def overdue(self, count: int = 1) -> list[str]:
        """Receives `count` complaints and lets their acceptance limit pass: one ComplaintOverdue
        each in the outbox. Returns the complaint ids."""
        received = self.today
        ids = [self.complaints.create_complaint(SYSTEM_CALLER, "", ComplaintInput(
            kind="COMPLAINT", channel="HOTLINE_12315", received_at=dt.datetime.combine(received, dt.time(9), SHANGHAI),
            complainant_name="李娜", complainant_phone="13800001111", respondent_name="某超市",
            respondent_address="闵行区某路1号", respondent_street="莘庄镇", category="食品安全",
            description="过期食品")).complaint.id for _ in range(count)]
        self.today = received + dt.timedelta(days=30)
        assert self.sweep.run() >= count
        self.today = received
        return ids


@pytest.fixture
def source(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'complaints.db'}")
    migrate.upgrade("complaints", ROOT / "services/complaints/migrations", store.url)
    yield ComplaintsDesk(store)
    store.dispose()


def relay_of(desk: ComplaintsDesk, transport) -> OutboxRelay:
    return OutboxRelay("complaints", desk.store, ComplaintsOutbox, transport)


def overdue_rows(store: Store):
    return select(ComplaintsOutbox).where(ComplaintsOutbox.event_type == contracts.type_name(ComplaintOverdue))


def tasks_for(store: Store, complaint_ids: list[str]) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(Task).where(Task.source_ref.in_(complaint_ids)))


def test_relayed_event_is_consumed_once_even_when_redelivered(worker, command_center_db, source, amqp_uri):
    [complaint_id] = source.overdue()
    relay = relay_of(source, NamekoTransport(amqp_uri))
    while relay.relay_once():
        pass
    wait_for(lambda: tasks_for(command_center_db, [complaint_id]) == 1)
    with source.store.transaction() as session:  # the relay crashed before marking it sent: it goes out again
        for row in session.scalars(overdue_rows(source.store)):
            row.sent_at = None
    assert relay.relay_once() == 1
    event_id = relay_event_id(source.store)
    wait_for(lambda: inbox_has(command_center_db, event_id))
    time.sleep(0.5)
    assert tasks_for(command_center_db, [complaint_id]) == 1
    with command_center_db.read() as session:
        task = session.scalar(select(Task).where(Task.source_ref == complaint_id))
    assert task.office_id == "MH01" and task.source == "complaints.overdue"


def relay_event_id(store: Store) -> str:
    with store.read() as session:
        return session.scalar(overdue_rows(store).with_only_columns(ComplaintsOutbox.event_id))


def inbox_has(store: Store, event_id: str) -> bool:
    with store.read() as session:
        return session.get(Inbox, event_id) is not None


def test_outbox_keeps_events_while_the_broker_is_unreachable(worker, command_center_db, source, amqp_uri):
    store = source.store
    proxy = TcpProxy(*broker_address(amqp_uri))
    relay = OutboxRelay("complaints", store, ComplaintsOutbox,
                        NamekoTransport(amqp_through(amqp_uri, proxy.port)), poll_seconds=0.2,
                        max_backoff_seconds=0.5)
    try:
        proxy.cut()
        relay.start()
        ids = source.overdue(10)
        time.sleep(1.5)
        count, age = relay.backlog()
        assert count >= 10 and age > 1.0
        with store.read() as session:
            assert session.scalar(select(func.max(ComplaintsOutbox.attempts))) >= 1
        proxy.restore()
        wait_for(lambda: relay.backlog()[0] == 0)
        wait_for(lambda: tasks_for(command_center_db, ids) == 10)
        time.sleep(0.5)
        assert tasks_for(command_center_db, ids) == 10
    finally:
        relay.stop()
        proxy.close()
    assert utcnow()  # the source store stays usable after the outage


def test_an_old_form_event_on_the_broker_is_applied_by_the_upgraded_worker(worker, command_center_db, amqp_uri):
    """Published as the relay published before the contracts were typed: bare type as routing key
    and type, the publisher's own dictionary as data (captured data, a new complaint id)."""
    complaint_id = f"C-OLD-{time.time_ns() % 10**8}"
    captured = pre_contract.sample("complaints", "ComplaintOverdue")["data"]
    wire = pre_contract.envelope("complaints", "ComplaintOverdue",
                                 {**captured, "complaint_id": complaint_id, "office_id": "MH01"})
    assert wire["type"] == "ComplaintOverdue"

    NamekoTransport(amqp_uri).publish(wire)

    wait_for(lambda: tasks_for(command_center_db, [complaint_id]) == 1)
    wait_for(lambda: inbox_has(command_center_db, wire["id"]))
