"""command_center's office events through the real broker into a real complaints worker.

Runs in the nameko pytest process (`-m nameko`): eventlet-patched, so no gRPC here. The offices
are registered by command_center's own domain code, relayed from its outbox through RabbitMQ;
complaints created afterwards are routed by the copy the worker built.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from services.command_center.domain.offices import OfficeInput, Offices
from services.command_center.domain.workspace import Workspace as CenterWorkspace
from services.command_center.models import Outbox as CenterOutbox
from services.common import migrate
from services.common.amqp import NamekoTransport
from services.common.clock import SHANGHAI
from services.common.context import SYSTEM_CALLER
from services.common.db import Store
from services.common.relay import OutboxRelay
from services.common.working_days import WorkingDayCalendar
from services.complaints.domain.complaints import Complaints
from services.complaints.domain.deadlines import Clocks
from services.complaints.domain.intake import ComplaintInput
from services.complaints.domain.rules import RuleBook
from services.complaints.domain.workspace import Workspace
from services.complaints.models import Office, OfficeStreet
from tests.processes import start_worker, stop, wait_for
from tests.support import Clock

pytestmark = pytest.mark.nameko

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def complaints_store(postgres_database):
    store = Store(postgres_database)
    migrate.upgrade("complaints", ROOT / "services/complaints/migrations", store.url)
    yield store
    store.dispose()


@pytest.fixture
def worker(complaints_store, amqp_uri):
    process = start_worker("complaints", DATABASE_URL=complaints_store.url, AMQP_URI=amqp_uri)
    yield process
    stop(process)


@pytest.fixture
def command_center(tmp_path, amqp_uri):
    """command_center's domain on its own store, and the relay of its outbox to the broker."""
    store = Store(f"sqlite:///{tmp_path / 'command_center.db'}")
    migrate.upgrade("command_center", ROOT / "services/command_center/migrations", store.url)
    yield Offices(CenterWorkspace(store, Clock(), WorkingDayCalendar.load())), OutboxRelay(
        "command_center", store, CenterOutbox, NamekoTransport(amqp_uri))
    store.dispose()


def street_owner(store: Store, street: str) -> str | None:
    with store.read() as session:
        return session.scalar(select(OfficeStreet.office_id).where(OfficeStreet.street == street))


def complaint_about(street: str) -> ComplaintInput:
    return ComplaintInput(kind="COMPLAINT", channel="ONLINE_12315",
                          received_at=dt.datetime.combine(Clock().today, dt.time(9), SHANGHAI),
                          complainant_name="赵敏", complainant_phone="13700002222", respondent_name="某眼镜店",
                          respondent_address="闵行区某路1号", respondent_street=street, category="商品质量",
                          description="镜片度数不符")


def test_offices_registered_in_command_center_route_the_complaints_created_afterwards(
        worker, complaints_store, command_center):
    center, relay = command_center
    # The broker is shared: other runs may publish office events too, so this run's offices and
    # streets carry a suffix of their own.
    run = uuid.uuid4().hex[:6].upper()
    wujing, pujiang = f"W{run}", f"P{run}"
    streets = {name: f"{name}{run}" for name in ("吴泾镇", "浦江镇", "紫竹", "马桥镇")}
    center.create_office(SYSTEM_CALLER, "", OfficeInput(id=wujing, name="吴泾市场监督管理所", district="闵行区",
                                                        streets=[streets["吴泾镇"]]))
    center.create_office(SYSTEM_CALLER, "", OfficeInput(id=pujiang, name="浦江市场监督管理所", district="闵行区",
                                                        streets=[streets["浦江镇"]]))
    assert relay.relay_once() == 2
    wait_for(lambda: street_owner(complaints_store, streets["浦江镇"]) == pujiang)
    center.update_office(SYSTEM_CALLER, OfficeInput(id=wujing, name="吴泾所", district="闵行区",
                                                    streets=[streets["吴泾镇"], streets["紫竹"]]),
                         ["name", "streets"], 1)
    with center.workspace.store.transaction() as session:  # the relay crashed before marking a row sent: it goes again
        session.get(CenterOutbox, 1).sent_at = None
    assert relay.relay_once() == 2
    wait_for(lambda: street_owner(complaints_store, streets["紫竹"]) == wujing)
    time.sleep(0.5)  # time for the repeated registration to be applied, had the inbox let it through
    with complaints_store.read() as session:
        # The repeated, older registration changed nothing: the inbox and the version check held.
        assert (session.get(Office, wujing).name, session.get(Office, wujing).version) == ("吴泾所", 2)

    desk = Complaints(Workspace(complaints_store, Clocks(RuleBook.load(), WorkingDayCalendar.load()), Clock()))
    routed = [desk.create_complaint(SYSTEM_CALLER, "", complaint_about(streets[name])).complaint.office_id
              for name in ("紫竹", "浦江镇", "吴泾镇", "马桥镇")]
    assert routed == [wujing, pujiang, wujing, "_district_queue"]

