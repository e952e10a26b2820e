"""facilities and the real broker: its worker consuming command_center's and mobile_enforcement's
events, written by their own domain code and relayed from their outboxes, and RapidTestPositive
relayed to the exchange mobile_enforcement will consume from.

This module runs in its own pytest process (`make test` runs it with -m nameko): nameko's pytest
plugin monkey-patches the standard library, which gRPC code must never see (building a service's
runtime imports gRPC but serves nothing).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from kombu import Connection, Queue
from sqlalchemy import func, select

from services.command_center.domain.groups import CASE_HANDLING
from services.command_center.domain.officers import OfficerInput, Officers
from services.command_center.domain.offices import OfficeInput, Offices
from services.command_center.domain.workspace import Workspace as CenterWorkspace
from services.command_center.models import Outbox as CenterOutbox
from services.common import contracts, migrate
from services.common.amqp import NamekoTransport, configured_namespace, event_exchange
from services.common.bus import InProcessBus
from services.common.clock import shanghai_today
from services.common.context import SYSTEM_CALLER
from services.common.db import Store, utcnow
from services.common.events import Envelope
from services.common.relay import OutboxRelay
from services.common.working_days import WorkingDayCalendar
from services.facilities import service as facilities_service
from services.facilities.domain.equipment import EquipmentInput, Inventory
from services.facilities.domain.rapid_tests import RapidTestInput, RapidTests, SampleInput
from services.facilities.domain.standards import Standards
from services.facilities.domain.workspace import Workspace
from services.facilities.models import Case, Officer, Outbox, Room
from services.mobile_enforcement import service as mobile_enforcement_service
from services.mobile_enforcement.domain.case_rules import InvestigationInput, LeadInput, PenaltyInput, SanctionInput
from services.mobile_enforcement.domain.cases import Cases
from services.mobile_enforcement.domain.checklists import Catalog
from services.mobile_enforcement.domain.rules import RuleBook
from services.mobile_enforcement.domain.workspace import Workspace as EnforcementWorkspace
from services.mobile_enforcement.models import Outbox as EnforcementOutbox
from supervision.facilities.v1 import events_pb2, facilities_pb2
from tests.conftest import make_settings
from tests.processes import start_worker, stop, wait_for

pytestmark = pytest.mark.nameko

NOW = dt.datetime(2026, 11, 10, 2, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parents[2]


def migrated(service: str, url: str) -> Store:
    store = Store(url)
    migrate.upgrade(service, ROOT / f"services/{service}/migrations", store.url)
    return store


def catch_up(store: Store, outbox_model, runtime) -> None:
    """Applies everything a publisher recorded to a service's own consumer, as its relay would."""
    bus = InProcessBus()
    bus.subscribe(runtime.consumer(), runtime.subscriptions)
    with store.read() as session:
        wires = [row.envelope for row in session.scalars(select(outbox_model).order_by(outbox_model.id))]
    for wire in wires:
        bus.publish(wire)


@dataclass
class Publishers:
    """command_center's and mobile_enforcement's domains on their own stores, today's clock."""

    offices: Offices
    officers: Officers
    center_store: Store
    cases: Cases
    cases_store: Store
    enforcement_runtime: object

    def register(self, office_id: str, officer_ids: list[str]) -> None:
        """command_center registers an office and certified officers; mobile_enforcement keeps them."""
        self.offices.create_office(SYSTEM_CALLER, "", OfficeInput(id=office_id, name="莘庄市场监督管理所",
                                                                  district="闵行区", streets=[f"{office_id}镇"]))
        for officer_id in officer_ids:
            self.officers.register_officer(SYSTEM_CALLER, "", OfficerInput(
                id=officer_id, name="王伟", office_id=office_id, group=CASE_HANDLING,
                certificate_no=f"SH{officer_id.replace('-', '')}",
                certificate_expires=shanghai_today() + dt.timedelta(days=365)))
        catch_up(self.center_store, CenterOutbox, self.enforcement_runtime)

    def file_and_close(self, office_id: str, officer_ids: list[str]) -> str:
        """mobile_enforcement files a case (CaseFiled), takes it through the procedure to a warning
        (the party waives its statement period) and closes it (CaseClosed)."""
        lead = self.cases.open_lead(SYSTEM_CALLER, "", LeadInput(
            office_id=office_id, entity_id="", party_name="莘庄烟酒商行", party_uscc="", party_address="",
            source="REFERRAL", source_ref="", description="涉嫌销售假冒注册商标白酒", received_at=None))
        self.cases.file(SYSTEM_CALLER, lead.id, officer_ids)
        warning = PenaltyInput("ORGANISATION", False, (SanctionInput("WARNING", None, "", 0),))
        self.cases.conclude_investigation(SYSTEM_CALLER, lead.id, InvestigationInput(
            "当事人销售假冒注册商标白酒二瓶", "《中华人民共和国商标法》第五十七条", warning))
        self.cases.issue_advance_notice(SYSTEM_CALLER, lead.id)
        self.cases.record_statement(SYSTEM_CALLER, lead.id, "", True)
        self.cases.decide(SYSTEM_CALLER, lead.id, warning, "")
        self.cases.record_delivery(SYSTEM_CALLER, lead.id, "DIRECT")
        self.cases.record_execution(SYSTEM_CALLER, lead.id, None, "")
        self.cases.close(SYSTEM_CALLER, lead.id, "")
        return lead.id


@pytest.fixture
def publishers(tmp_path):
    center_store = migrated("command_center", f"sqlite:///{tmp_path / 'command_center.db'}")
    cases_store = migrated("mobile_enforcement", f"sqlite:///{tmp_path / 'mobile_enforcement.db'}")
    calendar = WorkingDayCalendar.load(None)
    # The wall clock, like the worker's.
    workspace = EnforcementWorkspace(cases_store, RuleBook.load(), Catalog.load(), calendar, shanghai_today, utcnow)
    runtime = mobile_enforcement_service.build(make_settings(), cases_store, today=shanghai_today, now=utcnow)
    center = CenterWorkspace(center_store, shanghai_today, calendar)
    yield Publishers(Offices(center), Officers(center), center_store, Cases(workspace), cases_store, runtime)
    center_store.dispose()
    cases_store.dispose()


@pytest.fixture
def facilities_db(postgres_database):
    store = migrated("facilities", postgres_database)
    yield store
    store.dispose()


@pytest.fixture
def worker(facilities_db, amqp_uri):
    process = start_worker("facilities", DATABASE_URL=facilities_db.url, AMQP_URI=amqp_uri)
    yield process
    stop(process)


def test_the_worker_applies_offices_officers_and_cases_from_the_broker(worker, facilities_db, publishers,
                                                                         amqp_uri):
    office_id = f"T{uuid.uuid4().hex[:6]}"
    officer_ids = [f"{office_id}-01", f"{office_id}-02"]
    publishers.register(office_id, officer_ids)
    case_id = publishers.file_and_close(office_id, officer_ids)
    transport = NamekoTransport(amqp_uri)
    # The office and officers first, then the case's two events, in the order they were recorded.
    assert OutboxRelay("command_center", publishers.center_store, CenterOutbox, transport).relay_once() >= 3
    assert OutboxRelay("mobile_enforcement", publishers.cases_store, EnforcementOutbox,
                       transport).relay_once() >= 2

    def rooms() -> int:
        with facilities_db.read() as session:
            return session.scalar(select(func.count()).select_from(Room).where(Room.office_id == office_id))

    def officers() -> list[str]:
        with facilities_db.read() as session:
            return list(session.scalars(select(Officer.id).where(Officer.office_id == office_id)
                                        .order_by(Officer.id)))

    def case_closed() -> bool:
        with facilities_db.read() as session:
            case = session.get(Case, case_id)
            return case is not None and case.closed and case.office_id == office_id

    wait_for(lambda: rooms() == 10)
    wait_for(lambda: officers() == officer_ids)
    wait_for(case_closed)


class Clock:
    def now(self) -> dt.datetime:
        return NOW

    def __call__(self) -> dt.date:
        return dt.date(2026, 11, 10)


def test_a_confirmed_positive_reaches_the_facilities_exchange(tmp_path, amqp_uri, publishers):
    store = migrated("facilities", f"sqlite:///{tmp_path / 'facilities.db'}")
    clock = Clock()
    publishers.offices.create_office(SYSTEM_CALLER, "", OfficeInput(id="MH01", name="莘庄市场监督管理所",
                                                                   district="闵行区", streets=["莘庄镇"]))
    catch_up(publishers.center_store, CenterOutbox,
             facilities_service.build(make_settings(), store, today=clock, now=clock.now))
    workspace = Workspace(store, Standards.load(), clock, clock.now)
    reader = Inventory(workspace).register(SYSTEM_CALLER, "", EquipmentInput(
        office_id="MH01", category="pesticide_reader", model="NY-12", serial_no=f"PR-{uuid.uuid4().hex[:8]}",
        last_calibrated_on=dt.date(2026, 6, 1), calibration_due=None)).equipment
    testing = RapidTests(workspace)
    test = testing.record(SYSTEM_CALLER, "", RapidTestInput(
        office_id="MH01", origin="MARKET_SAMPLING",
        sample=SampleInput("豇豆", "王记蔬菜", "91350100M000100Y43", "莘庄农贸市场", "12号"),
        item="pesticide_residue", method="enzyme_inhibition", equipment_id=reader.id, reading=68.0, result=None,
        tested_at=NOW - dt.timedelta(hours=5))).test
    testing.confirm(SYSTEM_CALLER, test.id, None, False, 3.0)

    exchange = event_exchange("facilities", configured_namespace())
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
    envelope = Envelope.from_wire(message.payload)
    assert (envelope.source, envelope.type, envelope.office_id) == (
        "facilities", "supervision.facilities.v1.RapidTestPositive", "MH01")
    assert contracts.decode(events_pb2.RapidTestPositive, envelope.type, envelope.data) == \
        events_pb2.RapidTestPositive(
            test_id=test.id, version=2, office_id="MH01",
            sample=facilities_pb2.Sample(name="豇豆", vendor_name="王记蔬菜", vendor_uscc="91350100M000100Y43",
                                         market="莘庄农贸市场", stall="12号"),
            item="pesticide_residue", method="enzyme_inhibition", reading="68", unit="%",
            tested_at=contracts.timestamp_of(dt.datetime(2026, 11, 9, 21, tzinfo=dt.UTC)))
