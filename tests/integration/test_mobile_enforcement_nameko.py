"""mobile_enforcement in microservices mode: a real worker and a real API process on PostgreSQL and
RabbitMQ. The worker consumes command_center's and complaints' events from the broker (a report
becomes one lead however often it is delivered); its timer finds a lead past its filing limit, and
the API process's relay publishes CaseOverdue to the "mobile_enforcement.events" exchange, where a
queue of this test receives it.

This module runs in its own pytest process (`make test` runs it with -m nameko).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
from kombu import Connection, Queue, binding
from nameko.standalone.events import get_event_exchange
from sqlalchemy import BigInteger, Integer, String, func, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common import migrate
from services.common.amqp import NamekoTransport
from services.common.context import SYSTEM_CALLER
from services.common.db import Store
from services.common.events import EventWriter, OutboxMixin
from services.common.relay import OutboxRelay
from services.common.working_days import WorkingDayCalendar
from services.mobile_enforcement.domain.case_rules import LeadInput
from services.mobile_enforcement.domain.cases import Cases
from services.mobile_enforcement.domain.checklists import Catalog
from services.mobile_enforcement.domain.directory import Directory
from services.mobile_enforcement.domain.rules import RuleBook
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.models import Case, Inbox
from tests.processes import start_service, start_worker, stop, wait_for

pytestmark = pytest.mark.nameko

ROOT = Path(__file__).resolve().parents[2]
SWEEP_SECONDS = 0.5


class SourceBase(DeclarativeBase):
    pass


class SourceOutbox(OutboxMixin, SourceBase):
    """The outbox of another service (command_center, complaints) publishing to the broker."""

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)


@pytest.fixture
def enforcement_db(postgres_database):
    """A migrated store that knows office MH01 and holds a lead received 40 days ago."""
    store = Store(postgres_database)
    migrate.upgrade("mobile_enforcement", ROOT / "services/mobile_enforcement/migrations", store.url)
    today = dt.date.today()
    workspace = Workspace(store, RuleBook.load(), Catalog.load(), WorkingDayCalendar.load(), lambda: today,
                          lambda: dt.datetime.now(dt.UTC))
    with store.transaction() as session:
        Directory(workspace).apply_office(session, {"id": "MH01", "name": "莘庄所", "district": "闵行区",
                                                    "streets": ["莘庄镇"]})
    lead = Cases(workspace).open_lead(SYSTEM_CALLER, "", LeadInput(
        office_id="MH01", entity_id="", party_name="某餐馆", party_uscc="", party_address="莘庄镇",
        source="REFERRAL", source_ref="函-1", description="涉嫌使用过期原料",
        received_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=40)))
    yield store, lead.id
    store.dispose()


@pytest.fixture
def overdue_queue(amqp_uri):
    exchange = get_event_exchange("mobile_enforcement", {})
    queue = Queue(f"test-enforcement-overdue-{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True,
                  bindings=[binding(exchange, routing_key="CaseOverdue")])
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        exchange(channel).declare()
        bound = queue(channel)
        bound.declare()
        yield bound


@pytest.fixture
def processes(enforcement_db, overdue_queue, amqp_uri):
    store, _ = enforcement_db
    env = {"DATABASE_URL": store.url, "AMQP_URI": amqp_uri, "GRPC_PORT": "0",
           "SWEEP_INTERVAL_SECONDS": str(SWEEP_SECONDS), "RELAY_POLL_SECONDS": "0.2"}
    worker = start_worker("mobile_enforcement", **env)
    api = start_service("mobile_enforcement", "serve", **env)
    yield
    stop(worker)
    stop(api)


def test_the_sweep_publishes_an_overdue_lead_once_through_the_broker(processes, enforcement_db, overdue_queue):
    store, lead_id = enforcement_db
    received: list[dict] = []
    deadline = time.monotonic() + 20
    while not received and time.monotonic() < deadline:
        message = overdue_queue.get(no_ack=True)
        if message is None:
            time.sleep(0.1)
        else:
            received.append(message.payload)
    assert [(w["aggregate_id"], w["data"]["deadline"], w["data"]["office_id"]) for w in received] == [
        (lead_id, "filing_decision", "MH01")]
    time.sleep(4 * SWEEP_SECONDS)  # later sweeps find nothing new
    assert overdue_queue.get(no_ack=True) is None
    with store.read() as session:
        assert session.get(Case, lead_id).filing_overdue


def test_a_report_relayed_twice_becomes_one_lead_at_an_office_learned_from_the_broker(
        processes, enforcement_db, amqp_uri, tmp_path):
    store, _ = enforcement_db
    source = Store(f"sqlite:///{tmp_path / 'others.db'}")
    SourceBase.metadata.create_all(source.engine)
    with source.transaction() as session:
        EventWriter("command_center", SourceOutbox).record(
            session, "OfficeRegistered", aggregate_type="office", aggregate_id="MH02", version=1, office_id="MH02",
            data={"id": "MH02", "name": "七宝市场监督管理所", "district": "闵行区", "streets": ["七宝镇"]})
    assert OutboxRelay("command_center", source, SourceOutbox, NamekoTransport(amqp_uri)).relay_once() == 1
    with source.transaction() as session:
        session.execute(update(SourceOutbox).values(sent_at=dt.datetime.now(dt.UTC)))
        EventWriter("complaints", SourceOutbox).record(
            session, "CaseLeadRaised", aggregate_type="complaint", aggregate_id="C-1", version=4, office_id="MH02",
            data={"complaint_id": "C-1", "office_id": "MH02", "category": "食品安全",
                  "respondent": {"name": "七宝某面馆", "uscc": "", "address": "七宝老街9号", "street": "七宝镇"},
                  "description": "使用过期面粉", "received_at": dt.datetime.now(dt.UTC).isoformat()})
    relay = OutboxRelay("complaints", source, SourceOutbox, NamekoTransport(amqp_uri))
    # The office arrives first only if the worker applied it before the lead: wait for it.
    wait_for(lambda: _count(store, Inbox) >= 1)
    assert relay.relay_once() == 1
    with source.transaction() as session:  # the relay crashed before marking it sent: it goes out again
        session.execute(update(SourceOutbox).where(SourceOutbox.event_type == "CaseLeadRaised").values(sent_at=None))
    assert relay.relay_once() == 1
    wait_for(lambda: _count(store, Inbox) >= 2)
    time.sleep(0.5)
    with store.read() as session:
        leads = list(session.scalars(select(Case).where(Case.source == "REPORT")))
    assert [(c.source_ref, c.office_id, c.party_name) for c in leads] == [("C-1", "MH02", "七宝某面馆")]
    source.dispose()


def _count(store: Store, model) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model))
