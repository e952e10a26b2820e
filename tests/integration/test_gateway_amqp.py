"""Microservices mode: each gateway API process consumes the live model's events through its own
broadcast queue on the real broker (kombu in a plain thread, never eventlet)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from services.common import migrate
from services.common.amqp import NamekoTransport
from services.common.db import Store
from services.common.events import EventWriter
from services.common.indicators import Reading, refresh
from services.gateway import service as gateway_service
from services.gateway.config import GatewayConfig
from services.gateway.listener import EventListener
from services.gateway.models import DeadLetter
from tests.api.gateway.support import wait_for
from tests.conftest import amqp_through, broker_address, make_settings
from tests.support import Clock, TcpProxy

ROOT = Path(__file__).resolve().parents[2]
CERTIFICATES = "command_center.certificates_valid"


class CommandCenterIndicators:
    """command_center's indicator snapshots and outbox: IndicatorsChanged exactly as the service
    writes it (services.common.indicators.refresh with its EventWriter)."""

    def __init__(self, tmp_path):
        from services.command_center.models import IndicatorSnapshot, Outbox

        self.snapshots, self.outbox = IndicatorSnapshot, Outbox
        self.store = Store(f"sqlite:///{tmp_path / 'command_center.db'}")
        migrate.upgrade("command_center", ROOT / "services/command_center/migrations", self.store.url)
        self.events = EventWriter("command_center", Outbox)

    def changed(self, office_id: str, numerator: float) -> dict:
        """The office's certificates moved to numerator/8: the event the service publishes for it."""
        with self.store.transaction() as session:
            assert refresh(session, self.snapshots, self.events,
                           {office_id: [Reading(office_id, CERTIFICATES, numerator, 8)]}) == [office_id]
        with self.store.read() as session:
            return dict(session.scalars(select(self.outbox.envelope).order_by(self.outbox.id.desc())).first())

    def close(self) -> None:
        self.store.dispose()


class Replica:
    """One gateway API process's live model and its listener."""

    def __init__(self, tmp_path, amqp_uri: str, name: str):
        self.store = Store(f"sqlite:///{tmp_path / name}.db")
        self.runtime = gateway_service.build(make_settings(), self.store, today=Clock(),
                                             config=GatewayConfig.from_env({}))
        migrate.upgrade("gateway", self.runtime.migrations_dir, self.store.url)
        self.reconnects = 0
        self.listener = EventListener(amqp_uri, self.runtime.subscriptions, self._reconnected,
                                      self.runtime.consumer())
        self.listener.start()
        assert self.listener.ready.wait(15), "the listener did not start consuming"

    def _reconnected(self) -> None:
        self.reconnects += 1

    def certificates(self, office_id: str) -> float | None:
        state = self.runtime.parts.monitor.view.offices.get(office_id)
        value = state.values.get(CERTIFICATES) if state else None
        return value.numerator if value else None

    def dead_letters(self) -> list[DeadLetter]:
        with self.store.read() as session:
            return list(session.scalars(select(DeadLetter).order_by(DeadLetter.id)))

    def close(self) -> None:
        self.listener.stop()
        self.store.dispose()


@pytest.fixture
def transport(amqp_uri):
    return NamekoTransport(amqp_uri)


@pytest.fixture
def center(tmp_path):
    publisher = CommandCenterIndicators(tmp_path)
    yield publisher
    publisher.close()


def test_every_replica_gets_every_event_and_ignores_repeats_and_older_states(tmp_path, amqp_uri, transport,
                                                                               center):
    office = f"T{uuid.uuid4().hex[:8]}"
    older, newer, newest = center.changed(office, 1), center.changed(office, 6), center.changed(office, 7)
    assert [e["aggregate_version"] for e in (older, newer, newest)] == [1, 2, 3]
    replicas = [Replica(tmp_path, amqp_uri, f"replica{n}") for n in (1, 2)]
    try:
        transport.publish(newer)
        for replica in replicas:
            wait_for(lambda replica=replica: replica.certificates(office) == 6)
        transport.publish(newer)  # redelivered
        transport.publish(older)  # an older state, late
        transport.publish(newest)
        for replica in replicas:
            wait_for(lambda replica=replica: replica.certificates(office) == 7)
        assert all(r.listener.queue_name != replicas[0].listener.queue_name for r in replicas[1:])
        assert all(replica.dead_letters() == [] for replica in replicas)
    finally:
        for replica in replicas:
            replica.close()


def dead_lettered(reason: str) -> float:
    return REGISTRY.get_sample_value("supervision_events_dead_lettered_total", {
        "service": "gateway", "source": "command_center", "event_type": "IndicatorsChanged",
        "reason": reason}) or 0.0


def test_an_event_the_listener_cannot_read_is_counted_parked_and_the_listener_keeps_going(
        tmp_path, amqp_uri, transport, center):
    office = f"T{uuid.uuid4().hex[:8]}"
    # A publisher one contract version ahead, and data that is not an IndicatorsChanged: both start
    # from the event command_center really writes.
    ahead = center.changed(office, 3)
    ahead["type"] = "supervision.common.v2.IndicatorsChanged"
    garbled = center.changed(office, 4)
    garbled["data"] = {**garbled["data"], "indicators": "all of them"}
    replica = Replica(tmp_path, amqp_uri, "replica")
    counted = {reason: dead_lettered(reason) for reason in ("unknown_type", "undecodable")}
    try:
        transport.publish(ahead)
        transport.publish(garbled)
        wait_for(lambda: len(replica.dead_letters()) == 2)
        parked = {row.event_id: row for row in replica.dead_letters()}
        assert (parked[ahead["id"]].reason, parked[garbled["id"]].reason) == ("unknown_type", "undecodable")
        assert all(row.subscription == "on_command_center_IndicatorsChanged" for row in parked.values())
        assert parked[garbled["id"]].envelope == garbled and parked[ahead["id"]].replayed_at is None
        assert {reason: dead_lettered(reason) - counted[reason] for reason in counted} == {
            "unknown_type": 1, "undecodable": 1}
        assert replica.certificates(office) is None
        transport.publish(center.changed(office, 5))  # still consuming
        wait_for(lambda: replica.certificates(office) == 5)
        assert len(replica.dead_letters()) == 2
    finally:
        replica.close()


def test_after_the_broker_connection_comes_back_the_listener_asks_for_a_reconcile(tmp_path, amqp_uri, transport,
                                                                                   center):
    proxy = TcpProxy(*broker_address(amqp_uri))
    replica = Replica(tmp_path, amqp_through(amqp_uri, proxy.port), "replica")
    office = f"T{uuid.uuid4().hex[:8]}"
    try:
        proxy.cut()
        replica.listener.ready.clear()
        proxy.restore()
        wait_for(lambda: replica.reconnects == 1 and replica.listener.ready.is_set(), timeout=20)
        transport.publish(center.changed(office, 5))
        wait_for(lambda: replica.certificates(office) == 5)
    finally:
        replica.close()
        proxy.close()
