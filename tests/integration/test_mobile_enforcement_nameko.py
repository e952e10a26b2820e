"""mobile_enforcement in microservices mode: a real worker and a real API process on PostgreSQL and
RabbitMQ. The worker consumes command_center's and complaints' events from the broker, each made by
its publisher's own API (a report becomes one lead however often it is delivered); its timer finds a
lead past its filing limit, and the API process's relay publishes CaseOverdue to the
"mobile_enforcement.events" exchange, where a queue of this test receives it.

This module runs in its own pytest process (`make test` runs it with -m nameko).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
from google.protobuf.message import Message
from kombu import Connection, Queue, binding
from sqlalchemy import func, select

from services.common import contracts, migrate
from services.common.amqp import NamekoTransport, configured_namespace, event_exchange
from services.common.clock import shanghai_today
from services.common.context import SYSTEM_CALLER
from services.common.db import Store
from services.common.working_days import WorkingDayCalendar
from services.mobile_enforcement.domain.case_rules import LeadInput
from services.mobile_enforcement.domain.cases import Cases
from services.mobile_enforcement.domain.checklists import Catalog
from services.mobile_enforcement.domain.directory import Directory
from services.mobile_enforcement.domain.rules import RuleBook
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.models import Case, Inbox
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.command_center.v1 import events_pb2 as cc_events
from supervision.complaints.v1 import complaints_pb2 as complaints_pb
from supervision.complaints.v1 import complaints_pb2_grpc as complaints_grpc
from supervision.complaints.v1 import events_pb2 as complaints_events
from supervision.mobile_enforcement.v1 import events_pb2 as events
from tests.conftest import make_settings
from tests.processes import start_service, start_worker, stop, wait_for
from tests.support import Clock, RunningService, host

pytestmark = pytest.mark.nameko

ROOT = Path(__file__).resolve().parents[2]
SWEEP_SECONDS = 0.5


@pytest.fixture
def enforcement_db(postgres_database):
    """A migrated store that knows office MH01 and holds a lead received 40 days ago."""
    store = Store(postgres_database)
    migrate.upgrade("mobile_enforcement", ROOT / "services/mobile_enforcement/migrations", store.url)
    today = dt.date.today()
    workspace = Workspace(store, RuleBook.load(), Catalog.load(), WorkingDayCalendar.load(), lambda: today,
                          lambda: dt.datetime.now(dt.UTC))
    with store.transaction() as session:
        Directory(workspace).apply_office(session, "MH01", name="莘庄所", district="闵行区", streets=["莘庄镇"])
    lead = Cases(workspace).open_lead(SYSTEM_CALLER, "", LeadInput(
        office_id="MH01", entity_id="", party_name="某餐馆", party_uscc="", party_address="莘庄镇",
        source="REFERRAL", source_ref="函-1", description="涉嫌使用过期原料",
        received_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=40)))
    yield store, lead.id
    store.dispose()


@pytest.fixture
def overdue_queue(amqp_uri):
    exchange = event_exchange("mobile_enforcement", configured_namespace())
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
    assert [(w["type"], w["aggregate_id"]) for w in received] == [(contracts.type_name(events.CaseOverdue), lead_id)]
    overdue = contracts.decode(events.CaseOverdue, received[0]["type"], received[0]["data"])
    assert (overdue.case_id, overdue.deadline, overdue.office_id, overdue.state) == (lead_id, "filing", "MH01", "LEAD")
    time.sleep(4 * SWEEP_SECONDS)  # later sweeps find nothing new
    assert overdue_queue.get(no_ack=True) is None
    with store.read() as session:
        assert session.get(Case, lead_id).filing_overdue


@pytest.fixture
def publishers(tmp_path):
    """command_center and complaints, hosted on SQLite: their APIs make the events this test then
    puts on the broker (their own in-process buses deliver them to nobody else)."""
    clock = Clock(today=shanghai_today())
    center = host("command_center", f"sqlite:///{tmp_path / 'command_center.db'}", make_settings(), clock)
    complaints = host("complaints", f"sqlite:///{tmp_path / 'complaints.db'}", make_settings(), clock)
    center.bus.subscribe(complaints.runtime.consumer(), complaints.runtime.subscriptions)  # routing by street
    yield center, complaints
    complaints.close()
    center.close()


def published(running: RunningService, message_class: type[Message]) -> list[dict]:
    """The publisher's outbox rows of this event type, as they go on the wire."""
    running.settle()
    outbox = running.runtime.outbox_model
    with running.store.read() as session:
        return list(session.scalars(select(outbox.envelope).where(
            outbox.event_type == contracts.type_name(message_class)).order_by(outbox.id)))


def test_a_report_relayed_twice_becomes_one_lead_at_an_office_learned_from_the_broker(
        processes, enforcement_db, publishers, amqp_uri):
    store, _ = enforcement_db
    center, complaints = publishers
    cc_grpc.OfficeServiceStub(center.channel).CreateOffice(cc_pb.CreateOfficeRequest(office=cc_pb.Office(
        id="MH02", name="七宝市场监督管理所", district="闵行区", streets=["七宝镇"])))
    broker = NamekoTransport(amqp_uri)
    [office] = published(center, cc_events.OfficeRegistered)
    broker.publish(office)
    # The office arrives first only if the worker applied it before the lead: wait for it.
    wait_for(lambda: _count(store, Inbox) >= 1)
    desk = complaints_grpc.ComplaintServiceStub(complaints.channel)
    report = complaints_pb.Complaint(
        kind=complaints_pb.COMPLAINT_KIND_REPORT, channel=complaints_pb.CHANNEL_HOTLINE_12315,
        complainant=complaints_pb.Complainant(name="欧阳娜娜", phone="13912345678"),
        respondent=complaints_pb.Respondent(name="七宝某面馆", address="七宝老街9号", street="七宝镇"),
        category="食品安全", description="使用过期面粉")
    report.received_at.FromDatetime(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    report = desk.CreateComplaint(complaints_pb.CreateComplaintRequest(complaint=report))
    desk.VerifyReport(complaints_pb.VerifyReportRequest(id=report.id, note="核查属实"))
    desk.DecideReport(complaints_pb.DecideReportRequest(id=report.id, file_case=True))
    [lead_raised] = published(complaints, complaints_events.CaseLeadRaised)
    broker.publish(lead_raised)
    broker.publish(lead_raised)  # the relay crashed before marking it sent: it goes out again
    wait_for(lambda: _count(store, Inbox) >= 2)
    time.sleep(0.5)
    with store.read() as session:
        leads = list(session.scalars(select(Case).where(Case.source == "REPORT")))
    assert [(c.source_ref, c.office_id, c.party_name) for c in leads] == [(report.id, "MH02", "七宝某面馆")]


def _count(store: Store, model) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(model))
