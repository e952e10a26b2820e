"""OutboxRelay with a recording transport: order, wake-up, failures, exactly-once after recovery."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import select

from services.common.events import EventWriter
from services.common.relay import OutboxRelay
from supervision.command_center.v1.events_pb2 import OfficeUpdated


class RecordingTransport:
    """Records published wire dicts; raises while `failing` is set."""

    def __init__(self) -> None:
        self.wires: list[dict[str, Any]] = []
        self.failing = threading.Event()
        self.failures = 0
        self.fail_after: int | None = None  # succeed this many more times, then start failing
        self._changed = threading.Condition()

    def publish(self, wire: dict[str, Any]) -> None:
        with self._changed:
            if self.fail_after is not None:
                if self.fail_after == 0:
                    self.failing.set()
                    self.fail_after = None
                else:
                    self.fail_after -= 1
            if self.failing.is_set():
                self.failures += 1
                self._changed.notify_all()
                raise ConnectionError("broker unreachable")
            self.wires.append(wire)
            self._changed.notify_all()

    def wait_for(self, predicate, timeout: float = 2.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    @property
    def ids(self) -> list[str]:
        return [w["id"] for w in self.wires]


@pytest.fixture
def transport() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
def writer(models) -> EventWriter:
    return EventWriter("registry", models.Outbox)


@pytest.fixture
def relays():
    started: list[OutboxRelay] = []
    yield started
    for relay in started:
        relay.stop(timeout=2)


def _record(store, writer, count: int, start_version: int = 1) -> list[str]:
    with store.transaction() as session:
        return [writer.record(session, OfficeUpdated(office_id="s-1", version=start_version + i),
                              aggregate_type="shop", aggregate_id="s-1", version=start_version + i).id
                for i in range(count)]


def _rows(store, models) -> list[tuple[str, bool, int, str | None]]:
    with store.read() as session:
        return [(r.event_id, r.sent_at is not None, r.attempts, r.last_error)
                for r in session.scalars(select(models.Outbox).order_by(models.Outbox.id))]


def test_rows_are_published_in_id_order_and_marked_sent(store, models, writer, transport):
    relay = OutboxRelay("relay_order", store, models.Outbox, transport)
    ids = _record(store, writer, 3) + _record(store, writer, 2, start_version=4)

    assert relay.relay_once() == 5

    assert transport.ids == ids
    assert [w["aggregate_version"] for w in transport.wires] == [1, 2, 3, 4, 5]
    assert all(sent and attempts == 0 and error is None for _, sent, attempts, error in _rows(store, models))
    with store.read() as session:
        sent_at = session.scalars(select(models.Outbox.sent_at)).all()
    assert all(t is not None and t.utcoffset().total_seconds() == 0 for t in sent_at)
    # Nothing is left, so a second pass publishes nothing again.
    assert relay.relay_once() == 0
    assert transport.ids == ids


def test_batches_are_limited_and_continue_where_they_stopped(store, models, writer, transport):
    relay = OutboxRelay("relay_batch", store, models.Outbox, transport, batch_size=2)
    ids = _record(store, writer, 5)

    assert [relay.relay_once() for _ in range(4)] == [2, 2, 1, 0]
    assert transport.ids == ids


def test_wake_after_commit_publishes_without_waiting_for_the_poll(store, models, writer, transport, relays):
    relay = OutboxRelay("relay_wake", store, models.Outbox, transport, poll_seconds=30)
    warmup = _record(store, writer, 1)
    relay.start()
    relays.append(relay)
    # The first pass has run; from here only a wake (or the 30 s poll) makes the relay look again.
    assert transport.wait_for(lambda t: len(t.wires) == 1, timeout=2)

    started = time.monotonic()
    ids = _record(store, writer, 2, start_version=2)

    assert transport.wait_for(lambda t: len(t.wires) == 3, timeout=2)
    assert time.monotonic() - started < 1.0
    assert transport.ids == warmup + ids


def test_failing_transport_keeps_rows_unsent_and_counts_attempts(store, models, writer, transport):
    relay = OutboxRelay("relay_fail", store, models.Outbox, transport)
    ids = _record(store, writer, 3)
    transport.failing.set()

    for _ in range(2):
        with pytest.raises(ConnectionError):
            relay.relay_once()

    rows = _rows(store, models)
    assert [sent for _, sent, _, _ in rows] == [False, False, False]
    # The relay stops at the first failure, so only the head row collects attempts.
    assert [attempts for _, _, attempts, _ in rows] == [2, 0, 0]
    assert rows[0][3] == "ConnectionError('broker unreachable')"
    assert relay.backlog()[0] == 3

    transport.failing.clear()
    assert relay.relay_once() == 3
    assert transport.ids == ids
    assert [sent for _, sent, _, _ in _rows(store, models)] == [True, True, True]


def test_failure_mid_batch_keeps_what_was_published_and_never_duplicates(store, models, writer, transport):
    relay = OutboxRelay("relay_mid", store, models.Outbox, transport)
    ids = _record(store, writer, 4)
    transport.fail_after = 2  # the broker goes down after two events

    with pytest.raises(ConnectionError):
        relay.relay_once()

    assert transport.ids == ids[:2]
    assert [(sent, attempts) for _, sent, attempts, _ in _rows(store, models)] == [
        (True, 0), (True, 0), (False, 1), (False, 0)]

    transport.failing.clear()
    assert relay.relay_once() == 2
    assert transport.ids == ids


def test_relay_thread_retries_until_the_broker_recovers_exactly_once(store, models, writer, transport, relays):
    relay = OutboxRelay("relay_recover", store, models.Outbox, transport, poll_seconds=0.02,
                        max_backoff_seconds=0.05)
    transport.fail_after = 3
    first = _record(store, writer, 5)
    relay.start()
    relays.append(relay)

    assert transport.wait_for(lambda t: t.failures >= 3, timeout=2)  # backing off, retrying
    second = _record(store, writer, 3, start_version=6)               # more arrive while it is down
    assert _rows(store, models)[3][2] >= 1                             # attempts counted on the stuck row
    transport.failing.clear()

    assert transport.wait_for(lambda t: len(t.wires) == 8, timeout=2)
    relay.stop(timeout=2)
    assert transport.ids == first + second                             # none lost, none twice, in order
    assert all(sent for _, sent, _, _ in _rows(store, models))


def test_backlog_reports_count_and_age_while_rows_wait(store, models, writer, transport):
    relay = OutboxRelay("relay_backlog", store, models.Outbox, transport)
    assert relay.backlog() == (0, 0.0)

    _record(store, writer, 3)
    count, age = relay.backlog()

    assert count == 3
    assert 0 < age < 5

    relay.relay_once()
    assert relay.backlog() == (0, 0.0)


def test_stop_returns_promptly_after_publishing_what_was_committed(store, models, writer, transport):
    relay = OutboxRelay("relay_stop", store, models.Outbox, transport, poll_seconds=30)
    ids = _record(store, writer, 2)
    relay.start()

    started = time.monotonic()
    relay.stop(timeout=2)

    assert time.monotonic() - started < 1.0
    assert not [t for t in threading.enumerate() if t.name == "relay-relay_stop" and t.is_alive()]
    assert transport.ids == ids
    assert all(sent for _, sent, _, _ in _rows(store, models))


def test_stop_returns_while_the_broker_is_down(store, models, writer, transport):
    relay = OutboxRelay("relay_stop_down", store, models.Outbox, transport, poll_seconds=5, max_backoff_seconds=30)
    transport.failing.set()
    _record(store, writer, 1)
    relay.start()
    assert transport.wait_for(lambda t: t.failures >= 1, timeout=2)

    started = time.monotonic()
    relay.stop(timeout=2)

    assert time.monotonic() - started < 1.0
    assert not [t for t in threading.enumerate() if t.name == "relay-relay_stop_down" and t.is_alive()]
    assert [sent for _, sent, _, _ in _rows(store, models)] == [False]  # kept for the next start


def test_stop_of_a_relay_never_started_returns(store, models, transport):
    OutboxRelay("relay_unstarted", store, models.Outbox, transport).stop(timeout=0.1)


def holding(count: int):
    """A wait_for predicate: the transport holds `count` events."""
    return lambda transport: len(transport.wires) == count


def test_the_backlog_is_counted_once_per_poll_interval_not_after_every_pass(store, models, writer, transport,
                                                                             relays, monkeypatch):
    relay = OutboxRelay("relay_backlog", store, models.Outbox, transport, poll_seconds=30)
    counted = []
    real_backlog = relay.backlog
    monkeypatch.setattr(relay, "backlog", lambda: counted.append(1) or real_backlog())
    relay.start()
    relays.append(relay)
    ids: list[str] = []
    for version in range(1, 21):  # twenty commits, each waking the relay for a pass of its own
        ids += _record(store, writer, 1, start_version=version)
        assert transport.wait_for(holding(len(ids)), timeout=2)

    assert transport.ids == ids
    # The first pass reports; the next report is due 30 s later, whatever the passes in between.
    assert len(counted) == 1
