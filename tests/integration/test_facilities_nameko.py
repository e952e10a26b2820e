"""facilities and the real broker: its worker consuming other services' events, and
RapidTestPositive relayed to the exchange mobile_enforcement will consume from.

This module runs in its own pytest process (`make test` runs it with -m nameko): nameko's pytest
plugin monkey-patches the standard library, which gRPC code must never see.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import BigInteger, Integer, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common import migrate
from services.common.amqp import NamekoTransport
from services.common.context import SYSTEM_CALLER
from services.common.db import Store
from services.common.events import EventWriter, OutboxMixin
from services.common.relay import OutboxRelay
from services.facilities.domain.directory import Directory
from services.facilities.domain.equipment import EquipmentInput, Inventory
from services.facilities.domain.rapid_tests import RapidTesting, RapidTestInput, SampleInput
from services.facilities.domain.standards import Standards
from services.facilities.domain.workspace import Workspace
from services.facilities.models import Case, Outbox, Room
from tests.processes import start_worker, stop, wait_for

pytestmark = pytest.mark.nameko

NOW = dt.datetime(2026, 11, 10, 2, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "services/facilities/migrations"


class SourceBase(DeclarativeBase):
    pass


class SourceOutbox(OutboxMixin, SourceBase):
    """The outbox of the publishers facilities listens to (command_center, mobile_enforcement)."""

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)


@pytest.fixture
def facilities_db(postgres_database):
    store = Store(postgres_database)
    migrate.upgrade("facilities", MIGRATIONS, store.url)
    yield store
    store.dispose()


@pytest.fixture
def worker(facilities_db, amqp_uri):
    process = start_worker("facilities", DATABASE_URL=facilities_db.url, AMQP_URI=amqp_uri)
    yield process
    stop(process)


@pytest.fixture
def source(tmp_path, amqp_uri):
    store = Store(f"sqlite:///{tmp_path / 'sources.db'}")
    SourceBase.metadata.create_all(store.engine)
    yield store, OutboxRelay("sources", store, SourceOutbox, NamekoTransport(amqp_uri))
    store.dispose()


def test_the_worker_applies_offices_and_cases_from_the_broker(worker, facilities_db, source):
    store, relay = source
    office_id, case_id = f"T{uuid.uuid4().hex[:6]}", f"AJ-{uuid.uuid4().hex[:8]}"
    with store.transaction() as session:
        EventWriter("command_center", SourceOutbox).record(
            session, "OfficeRegistered", aggregate_type="office", aggregate_id=office_id, version=1,
            office_id=office_id, data={"id": office_id, "name": "莘庄市场监督管理所", "district": "闵行区",
                                       "streets": ["莘庄镇"]})
        cases = EventWriter("mobile_enforcement", SourceOutbox)
        for version, event_type in ((1, "CaseFiled"), (2, "CaseClosed")):
            cases.record(session, event_type, aggregate_type="case", aggregate_id=case_id, version=version,
                         office_id=office_id, data={"case_id": case_id, "office_id": office_id})
    assert relay.relay_once() == 3

    def rooms() -> int:
        with facilities_db.read() as session:
            return session.scalar(select(func.count()).select_from(Room).where(Room.office_id == office_id))

    def case_closed() -> bool:
        with facilities_db.read() as session:
            case = session.get(Case, case_id)
            return case is not None and case.closed

    wait_for(lambda: rooms() == 10)
    wait_for(case_closed)


class Clock:
    def now(self) -> dt.datetime:
        return NOW

    def __call__(self) -> dt.date:
        return dt.date(2026, 11, 10)


def test_a_confirmed_positive_reaches_the_facilities_exchange(tmp_path, amqp_uri):
    store = Store(f"sqlite:///{tmp_path / 'facilities.db'}")
    migrate.upgrade("facilities", MIGRATIONS, store.url)
    clock = Clock()
    workspace = Workspace(store, Standards.load(), clock, clock.now)
    with store.transaction() as session:
        Directory(workspace).apply_office(session, {"id": "MH01", "name": "莘庄市场监督管理所", "district": "闵行区"})
    reader = Inventory(workspace).register(SYSTEM_CALLER, "", EquipmentInput(
        office_id="MH01", category="pesticide_reader", model="NY-12", serial_no=f"PR-{uuid.uuid4().hex[:8]}",
        last_calibrated_on=dt.date(2026, 6, 1), calibration_due=None))
    testing = RapidTesting(workspace)
    test = testing.record(SYSTEM_CALLER, "", RapidTestInput(
        office_id="MH01", origin="MARKET_SAMPLING",
        sample=SampleInput("豇豆", "王记蔬菜", "91350100M000100Y43", "莘庄农贸市场", "12号"),
        item="pesticide_residue", method="enzyme_inhibition", equipment_id=reader.id, reading=68.0, result=None,
        tested_at=NOW - dt.timedelta(hours=5)))
    testing.confirm(SYSTEM_CALLER, test.id, None, False, 3.0)

    exchange = Exchange("facilities.events", type="topic", durable=True)
    queue = Queue(f"test-facilities-{uuid.uuid4().hex[:8]}", exchange, routing_key="RapidTestPositive",
                  auto_delete=True)
    try:
        with Connection(amqp_uri) as connection, connection.SimpleQueue(queue) as received:
            relay = OutboxRelay("facilities", store, Outbox, NamekoTransport(amqp_uri))
            assert relay.relay_once() == 1
            message = received.get(timeout=10)
            message.ack()
    finally:
        store.dispose()
    envelope = message.payload
    assert (envelope["source"], envelope["type"], envelope["office_id"]) == ("facilities", "RapidTestPositive", "MH01")
    assert envelope["data"] == {
        "test_id": test.id, "office_id": "MH01",
        "sample": {"name": "豇豆", "vendor_name": "王记蔬菜", "vendor_uscc": "91350100M000100Y43",
                   "market": "莘庄农贸市场", "stall": "12号"},
        "item": "pesticide_residue", "method": "enzyme_inhibition", "reading": 68.0, "unit": "%",
        "tested_at": "2026-11-09T21:00:00Z"}
