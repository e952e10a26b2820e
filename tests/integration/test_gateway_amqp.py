"""Microservices mode: each gateway API process consumes the live model's events through its own
broadcast queue on the real broker (kombu in a plain thread, never eventlet)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.common.amqp import NamekoTransport
from services.common.events import Envelope
from services.gateway import service as gateway_service
from services.gateway.config import GatewayConfig
from services.gateway.listener import EventListener
from tests.api.gateway_fixtures import wait_for
from tests.conftest import make_settings
from tests.support import Clock, TcpProxy


def indicators_changed(office_id: str, version: int, numerator: float) -> dict:
    return Envelope(id=str(uuid.uuid4()), source="command_center", type="IndicatorsChanged",
                    subject=f"indicators/{office_id}", time=dt.datetime.now(dt.UTC), office_id=office_id,
                    aggregate_id=office_id, aggregate_version=version,
                    data={"office_id": office_id, "as_of": dt.datetime.now(dt.UTC).isoformat(), "indicators": [
                        {"key": "command_center.certificates_valid", "numerator": numerator, "denominator": 8,
                         "value": numerator / 8, "has_data": True}]}).to_wire()


class Replica:
    """One gateway API process's live model and its listener."""

    def __init__(self, tmp_path, amqp_uri: str, name: str):
        from services.common.db import Store

        self.store = Store(f"sqlite:///{tmp_path / name}.db")
        self.runtime = gateway_service.build(make_settings(), self.store, today=Clock(),
                                             config=GatewayConfig.from_env({}))
        self.reconnects = 0
        self.listener = EventListener(amqp_uri, self.runtime.subscriptions, self._reconnected)
        self.listener.start()
        assert self.listener.ready.wait(15), "the listener did not start consuming"

    def _reconnected(self) -> None:
        self.reconnects += 1

    def certificates(self, office_id: str) -> float | None:
        state = self.runtime.parts.monitor.view.offices.get(office_id)
        value = state.values.get("command_center.certificates_valid") if state else None
        return value.numerator if value else None

    def close(self) -> None:
        self.listener.stop()
        self.store.dispose()


@pytest.fixture
def transport(amqp_uri):
    return NamekoTransport(amqp_uri)


def test_every_replica_gets_every_event_and_ignores_repeats_and_older_states(tmp_path, amqp_uri, transport):
    office = f"T{uuid.uuid4().hex[:8]}"
    replicas = [Replica(tmp_path, amqp_uri, f"replica{n}") for n in (1, 2)]
    try:
        event = indicators_changed(office, 2, 6)
        transport.publish(event)
        for replica in replicas:
            wait_for(lambda replica=replica: replica.certificates(office) == 6)
        transport.publish(event)  # redelivered
        transport.publish(indicators_changed(office, 1, 1))  # an older state, late
        transport.publish(indicators_changed(office, 3, 7))
        for replica in replicas:
            wait_for(lambda replica=replica: replica.certificates(office) == 7)
        assert all(r.listener.queue_name != replicas[0].listener.queue_name for r in replicas[1:])
    finally:
        for replica in replicas:
            replica.close()


def test_after_the_broker_connection_comes_back_the_listener_asks_for_a_reconcile(tmp_path, amqp_uri, transport):
    host, port = amqp_uri.rsplit("@", 1)[1].rstrip("/").split(":")
    proxy = TcpProxy(host, int(port))
    replica = Replica(tmp_path, f"amqp://guest:guest@127.0.0.1:{proxy.port}/", "replica")
    office = f"T{uuid.uuid4().hex[:8]}"
    try:
        proxy.cut()
        replica.listener.ready.clear()
        proxy.restore()
        wait_for(lambda: replica.reconnects == 1 and replica.listener.ready.is_set(), timeout=20)
        transport.publish(indicators_changed(office, 1, 5))
        wait_for(lambda: replica.certificates(office) == 5)
    finally:
        replica.close()
        proxy.close()
