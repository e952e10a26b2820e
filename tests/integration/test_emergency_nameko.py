"""emergency in microservices mode: a real worker and a real API process on PostgreSQL and RabbitMQ.

The worker's timer marks late actions and writes ActionOverdue / NotificationOverdue to the outbox;
the API process's relay publishes them to the "emergency.events" exchange, where a queue of this
test receives them. The worker also consumes command_center's events from the broker: command_center's
own domain writes them to its outbox and its relay publishes them.

This module runs in its own pytest process (`make test` runs it with -m nameko).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
from kombu import Connection, Queue, binding
from sqlalchemy import select

from services.command_center.domain.offices import OfficeInput, Offices
from services.command_center.domain.workspace import Workspace as CommandCenterWorkspace
from services.command_center.models import Outbox as CommandCenterOutbox
from services.common import contracts, migrate
from services.common.amqp import NamekoTransport, configured_namespace, event_exchange
from services.common.context import SYSTEM_CALLER
from services.common.db import Store
from services.common.events import Envelope
from services.common.relay import OutboxRelay
from services.common.working_days import WorkingDayCalendar
from services.emergency.domain.directory import Directory
from services.emergency.domain.incidents import Incidents
from services.emergency.domain.intake import IncidentInput
from services.emergency.domain.rules import COUNT_FIELDS, RuleBook
from services.emergency.domain.workspace import Workspace
from services.emergency.models import IncidentAction, IndicatorSnapshot, Office
from supervision.emergency.v1 import events_pb2
from tests.processes import start_service, start_worker, stop

pytestmark = pytest.mark.nameko

SWEEP_SECONDS = 0.5
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def emergency_db(postgres_database):
    """A migrated store with an office and an incident whose report and on-site deadlines have passed."""
    store = Store(postgres_database)
    migrate.upgrade("emergency", ROOT / "services/emergency/migrations", store.url)
    workspace = Workspace(store, RuleBook.load(), lambda: dt.date.today(), lambda: dt.datetime.now(dt.UTC))
    with store.transaction() as session:
        Directory(workspace).apply_office(session, "MH01", name="莘庄所", district="闵行区", streets=["莘庄镇"])
    learned = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    view = Incidents(workspace).report_incident(SYSTEM_CALLER, "", IncidentInput(
        type="FOOD_SAFETY", office_id="MH01", title="某小学食堂学生腹泻", occurred_at=learned - dt.timedelta(hours=1),
        learned_at=learned, counts=dict.fromkeys(COUNT_FIELDS, 0) | {"ill_count": 12}))
    yield store, view.incident.id
    store.dispose()


@pytest.fixture
def overdue_queue(amqp_uri):
    """A queue of this test bound to emergency's exchange for the two overdue events."""
    exchange = event_exchange("emergency", configured_namespace())
    queue = Queue(f"test-emergency-overdue-{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True,
                  bindings=[binding(exchange, routing_key=key) for key in ("ActionOverdue", "NotificationOverdue")])
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        exchange(channel).declare()
        bound = queue(channel)
        bound.declare()
        yield bound


@pytest.fixture
def processes(emergency_db, overdue_queue, amqp_uri):
    store, _ = emergency_db
    env = {"DATABASE_URL": store.url, "AMQP_URI": amqp_uri, "GRPC_PORT": "0",
           "SWEEP_INTERVAL_SECONDS": str(SWEEP_SECONDS), "RELAY_POLL_SECONDS": "0.2"}
    worker = start_worker("emergency", **env)
    api = start_service("emergency", "serve", **env)
    yield
    stop(worker)
    stop(api)


def receive(queue, expected: int, timeout: float = 20.0) -> list[dict]:
    received: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(received) < expected and time.monotonic() < deadline:
        message = queue.get(no_ack=True)
        if message is None:
            time.sleep(0.1)
        else:
            received.append(message.payload)
    return received


def test_the_workers_sweep_publishes_each_overdue_action_once_through_the_broker(processes, emergency_db,
                                                                                 overdue_queue):
    store, incident_id = emergency_db
    received = receive(overdue_queue, 2)
    by_type = {wire["type"]: Envelope.from_wire(wire) for wire in received}
    assert set(by_type) == {contracts.type_name(m) for m in (events_pb2.ActionOverdue,
                                                             events_pb2.NotificationOverdue)}, received
    notice = by_type["supervision.emergency.v1.NotificationOverdue"]
    late = by_type["supervision.emergency.v1.ActionOverdue"]
    notification = contracts.decode(events_pb2.NotificationOverdue, notice.type, notice.data)
    action = contracts.decode(events_pb2.ActionOverdue, late.type, late.data)
    assert (notification.action_code, notification.action_kind) == ("REPORT", "NOTIFICATION")
    assert (action.action_code, action.action_kind) == ("ONSITE", "ONSITE")
    for envelope, message in ((notice, notification), (late, action)):
        assert envelope.source == "emergency" and envelope.aggregate_id == message.incident_id == incident_id
        assert (message.office_id, message.type, message.level) == ("MH01", "FOOD_SAFETY", "IV")
        assert message.HasField("learned_at") and message.HasField("due_at")
    time.sleep(4 * SWEEP_SECONDS)  # later sweeps find nothing new
    assert overdue_queue.get(no_ack=True) is None
    with store.read() as session:
        overdue = set(session.scalars(select(IncidentAction.code).where(IncidentAction.overdue.is_(True))))
    assert overdue == {"REPORT", "ONSITE"}


def test_the_worker_keeps_offices_from_command_centers_events(processes, emergency_db, amqp_uri, tmp_path):
    store, _ = emergency_db
    source = Store(f"sqlite:///{tmp_path / 'command_center.db'}")
    migrate.upgrade("command_center", ROOT / "services/command_center/migrations", source.url)
    center = Offices(CommandCenterWorkspace(source, dt.date.today, WorkingDayCalendar.load(None)))
    center.create_office(SYSTEM_CALLER, "", OfficeInput(id="MH02", name="七宝市场监督管理所", district="闵行区",
                                                        streets=["七宝镇"]))
    assert OutboxRelay("command_center", source, CommandCenterOutbox, NamekoTransport(amqp_uri)).relay_once() == 1
    deadline = time.monotonic() + 20
    while True:
        with store.read() as session:
            office = session.get(Office, "MH02")
            drills = session.get(IndicatorSnapshot, ("MH02", "emergency.drills_per_year"))
        if (office is not None and drills is not None) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert office is not None and (office.name, office.streets) == ("七宝市场监督管理所", ["七宝镇"])
    # The worker's own refresher gave the newly known office its indicators: no drills yet.
    assert drills is not None and (drills.numerator, drills.denominator) == (0, 2)
    source.dispose()
