"""Two centers on one broker, each in its namespace, never see each other's events.

Each center is command_center's real publishing path (its store, outbox and relay through the
transport) and a real assessment worker process consuming OfficeRegistered into its own store.
Kept apart by a virtual host each (AMQP_URI), or in one virtual host by EVENT_NAMESPACE: what A
publishes reaches A's worker and never B's, and the other way round. Without either, the two workers
consume the same durable queues and each takes a share of the other's events: the control shows the
check sees that.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kombu import Connection
from sqlalchemy import select

from services.assessment.models import Office as AssessmentOffice
from services.command_center.domain.offices import OfficeInput, Offices
from services.command_center.domain.workspace import Workspace as CenterWorkspace
from services.command_center.models import Outbox
from services.common import migrate
from services.common.amqp import NamekoTransport
from services.common.clock import shanghai_today
from services.common.context import SYSTEM_CALLER
from services.common.db import Store
from services.common.relay import OutboxRelay
from services.common.working_days import WorkingDayCalendar
from tests.conftest import AMQP_URI, broker_vhost, delete_namespace
from tests.processes import start_service, start_worker, stop, worker_queues

ROOT = Path(__file__).resolve().parents[2]
# Enough offices that two workers sharing a queue would each get some (the broker hands a shared
# queue's messages out in turn).
OFFICES_PER_CENTER = 4
# How long a center's events are given to reach the other center's worker, after its own has them all.
CROSSING_WAIT_SECONDS = 2.0


@dataclass
class Center:
    """command_center's publisher and assessment's worker of one environment."""

    name: str
    amqp_uri: str
    namespace: str  # EVENT_NAMESPACE of its processes ("": none)
    command_center: Store
    assessment: Store
    worker: subprocess.Popen | None = None

    def worker_env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.assessment.url, "AMQP_URI": self.amqp_uri, "EVENT_NAMESPACE": self.namespace}

    def register_offices(self, monkeypatch) -> list[str]:
        """Registers offices in command_center and relays their OfficeRegistered; their ids."""
        center = Offices(CenterWorkspace(self.command_center, shanghai_today, WorkingDayCalendar.load()))
        ids = [f"{self.name}{uuid.uuid4().hex[:6]}" for _ in range(OFFICES_PER_CENTER)]
        for office_id in ids:
            center.create_office(SYSTEM_CALLER, "", OfficeInput(id=office_id, name=f"{office_id}所", district="闵行区",
                                                                streets=[f"{office_id}街道"]))
        with monkeypatch.context() as patched:
            # The namespace as a deployed API process gets it: from its environment.
            patched.setenv("EVENT_NAMESPACE", self.namespace)
            relay = OutboxRelay("command_center", self.command_center, Outbox, NamekoTransport(self.amqp_uri))
            published = 0
            while published < len(ids):  # the seed's own rows (if any) come first
                sent = relay.relay_once()
                assert sent, "the relay published nothing"
                published += sent
        return ids

    def offices(self) -> set[str]:
        """The offices assessment's store knows: what its worker consumed."""
        with self.assessment.read() as session:
            return set(session.scalars(select(AssessmentOffice.id)))


def migrated_store(path: Path, service: str) -> Store:
    store = Store(f"sqlite:///{path}")
    migrate.upgrade(service, ROOT / f"services/{service}/migrations", store.url)
    return store


@contextlib.contextmanager
def centers(tmp_path: Path, uris: tuple[str, str], namespaces: tuple[str, str]) -> Iterator[list[Center]]:
    built = [Center(name, uri, namespace, migrated_store(tmp_path / f"{name}-command_center.db", "command_center"),
                    migrated_store(tmp_path / f"{name}-assessment.db", "assessment"))
             for name, uri, namespace in zip(("A", "B"), uris, namespaces, strict=True)]
    try:
        for center in built:
            queues = worker_queues("assessment", center.namespace)
            shares_queues = (center.amqp_uri == built[0].amqp_uri
                             and set(queues) & set(worker_queues("assessment", built[0].namespace)))
            if center is built[0] or not shares_queues:
                center.worker = start_worker("assessment", **center.worker_env())
            else:
                # The same queues as A's worker (the control): not deleted under it, joined.
                center.worker = start_service("assessment", "worker", **center.worker_env())
                wait_for_consumers(center.amqp_uri, queues, 2, center.worker)
        yield built
    finally:
        for center in built:
            if center.worker is not None:
                stop(center.worker)
            center.command_center.dispose()
            center.assessment.dispose()
        for uri, namespace in {(center.amqp_uri, center.namespace) for center in built if center.namespace}:
            delete_namespace(uri, namespace)  # durable: they would outlive the run's own namespace


def wait_for_consumers(amqp_uri: str, queues: list[str], consumers: int, process: subprocess.Popen) -> None:
    """Returns once each queue has `consumers` consumers (a second worker joined queues that existed)."""
    deadline = time.monotonic() + 30
    with Connection(amqp_uri) as connection:
        for queue in queues:
            while connection.default_channel.queue_declare(queue, passive=True).consumer_count < consumers:
                assert process.poll() is None and time.monotonic() < deadline, "the second worker did not consume"
                time.sleep(0.2)


def exchange_events(monkeypatch, a: Center, b: Center) -> dict[str, set[str]]:
    """Both centers publish; once each one's worker has its own offices, what each worker took of the other's."""
    published = {a.name: a.register_offices(monkeypatch), b.name: b.register_offices(monkeypatch)}
    own = {a.name: set(published[a.name]), b.name: set(published[b.name])}
    everything = own[a.name] | own[b.name]
    deadline = time.monotonic() + 30
    # Each worker's own offices, or (sharing queues) every office taken by one worker or the other.
    while not (own[a.name] <= a.offices() and own[b.name] <= b.offices()) \
            and not everything <= (a.offices() | b.offices()):
        assert time.monotonic() < deadline, "the workers did not consume the offices in time"
        time.sleep(0.2)
    time.sleep(CROSSING_WAIT_SECONDS)
    return {a.name: a.offices() & own[b.name], b.name: b.offices() & own[a.name],
            f"{a.name} own": a.offices() & own[a.name], f"{b.name} own": b.offices() & own[b.name],
            "published": everything}


@pytest.fixture
def two_vhosts(amqp_uri):
    suffix = uuid.uuid4().hex[:8]
    with broker_vhost(AMQP_URI, f"center_a_{suffix}") as first, broker_vhost(AMQP_URI, f"center_b_{suffix}") as second:
        if first is None or second is None:
            pytest.skip("rabbitmqctl cannot make virtual hosts here (the EVENT_NAMESPACE variant still runs)")
        yield first, second


def test_two_centers_in_two_virtual_hosts_never_take_each_others_events(tmp_path, two_vhosts, monkeypatch):
    with centers(tmp_path, two_vhosts, ("", "")) as (a, b):
        crossed = exchange_events(monkeypatch, a, b)
    assert crossed["A"] == set() and crossed["B"] == set(), crossed
    assert crossed["A own"] | crossed["B own"] == crossed["published"]


def test_two_centers_in_one_virtual_host_kept_apart_by_event_namespace(tmp_path, amqp_uri, monkeypatch):
    suffix = uuid.uuid4().hex[:6]
    with centers(tmp_path, (amqp_uri, amqp_uri), (f"staging-{suffix}", f"production-{suffix}")) as (a, b):
        crossed = exchange_events(monkeypatch, a, b)
    assert crossed["A"] == set() and crossed["B"] == set(), crossed
    assert crossed["A own"] | crossed["B own"] == crossed["published"]


def test_two_centers_in_one_namespace_take_each_others_events(tmp_path, amqp_uri, monkeypatch):
    """The control: the same queue names on one broker, as two centers without namespaces had them (in a
    namespace of the test's own, so that no other test's worker joins the shared queues)."""
    shared = f"shared-{uuid.uuid4().hex[:6]}"
    with centers(tmp_path, (amqp_uri, amqp_uri), (shared, shared)) as (a, b):
        crossed = exchange_events(monkeypatch, a, b)
    assert crossed["A"] | crossed["B"], crossed  # one worker took offices of the other center
