"""Several gateway replicas on one PostgreSQL database: one writes the index history, and the
sources' load from reconciles does not grow with the number of replicas."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.common import migrate
from services.common.db import Store
from services.gateway import service as gateway_service
from services.gateway.config import GatewayConfig
from services.gateway.domain.alerts import AlertRules
from services.gateway.domain.history import History
from services.gateway.domain.live import LiveIndex
from services.gateway.domain.schemes import load_starting_scheme
from services.gateway.models import HistoryPoint
from services.gateway.recorder import Recorder
from tests.conftest import make_settings
from tests.support import host
from tests.unit.gateway.conftest import Now

CERTS = "command_center.certificates_valid"
LEASE_SECONDS = 2.0
RECONCILE_SECONDS = 0.5
WINDOW_SECONDS = 4.0


@pytest.fixture
def gateway_database(postgres_database):
    store = Store(postgres_database)
    try:
        migrate.upgrade("gateway", Path(gateway_service.__file__).with_name("migrations"), store.url)
    finally:
        store.dispose()
    return postgres_database


class Replica:
    """One gateway process's history path: its own store (engine), live index and recorder."""

    def __init__(self, url: str, now: Now):
        self.store = Store(url)
        self.live = LiveIndex(load_starting_scheme(), AlertRules.load(), ("command_center",), now)
        self.recorder = Recorder(self.live, History(self.store), now, lease_seconds=LEASE_SECONDS)

    def certificates(self, office: str, version: int, valid: int) -> None:
        self.live.apply("command_center", office, version, [(CERTS, valid, 4)])


def _points(url: str) -> int:
    store = Store(url)
    try:
        with store.read() as session:
            return session.scalar(select(func.count()).select_from(HistoryPoint))
    finally:
        store.dispose()


def test_one_replica_writes_the_history_and_another_takes_over(gateway_database):
    now = Now()
    first, second = Replica(gateway_database, now), Replica(gateway_database, now)
    try:
        for version in (1, 2, 3):
            # Both consume the same events; only the lease holder writes, each second.
            for replica in (first, second):
                replica.certificates("MH01", version, version)
            written = [first.recorder.flush(), second.recorder.flush()]
            assert written[0] > 0 and written[1] == 0
            now.advance(minutes=1)
        assert (first.recorder.writing, second.recorder.writing) == (True, False)
        # The writer stops renewing (hung, cut off): the other one writes once its lease expires.
        for replica in (first, second):
            replica.certificates("MH01", 4, 4)
        assert second.recorder.flush() == 0
        time.sleep(LEASE_SECONDS + 0.5)
        before = _points(gateway_database)
        taken_over = second.recorder.flush()
        assert taken_over > 0 and second.recorder.writing
        # Taking over, it writes every series once: it did not see what the first one wrote.
        assert _points(gateway_database) > before
        assert first.recorder.flush() == 0 and not first.recorder.writing
    finally:
        first.store.dispose()
        second.store.dispose()


def test_a_stopping_writer_hands_the_history_on_at_once(gateway_database):
    now = Now()
    first, second = Replica(gateway_database, now), Replica(gateway_database, now)
    try:
        for replica in (first, second):
            replica.certificates("MH01", 1, 3)
        assert first.recorder.flush() > 0 and second.recorder.flush() == 0
        first.recorder.stop()  # a clean shutdown: writes what is left and releases the lease
        for replica in (first, second):
            replica.certificates("MH01", 2, 4)
        assert second.recorder.flush() > 0
    finally:
        first.store.dispose()
        second.store.dispose()


class CountingCalls:
    """Counts the calls one replica makes to its sources (indicators, offices, probes' lists)."""

    def __init__(self, upstream, counts: Counter):
        lock = threading.Lock()  # the feeder asks its sources from a pool of threads
        for name in ("list_indicators", "list_offices", "call"):
            method = getattr(upstream, name)

            def counted(*args, _method=method, _name=name, **kwargs):
                with lock:
                    counts[_name] += 1
                return _method(*args, **kwargs)

            setattr(upstream, name, counted)


def _reconcile_load(tmp_path, url: str, replicas: int) -> Counter:
    """The calls `replicas` gateway feeders make to command_center over WINDOW_SECONDS, after each seeded."""
    settings = make_settings()
    source = host("command_center", f"sqlite:///{tmp_path / f'center-{replicas}.db'}", settings)
    address = f"127.0.0.1:{source.hosted.server.port}"
    config = GatewayConfig.from_env({"RECONCILE_INTERVAL_SECONDS": str(RECONCILE_SECONDS),
                                     "INDICATOR_SOURCES": f"command_center={address}"})
    runtimes = [gateway_service.build(settings, Store(url), config=config) for _ in range(replicas)]
    counts: Counter = Counter()
    try:
        for runtime in runtimes:
            runtime.parts.monitor.live.expect_sources(runtime.parts.upstream.addresses)
            runtime.parts.feeder.start()
        for runtime in runtimes:
            assert runtime.parts.feeder.ready.wait(15)
        time.sleep(RECONCILE_SECONDS)  # the seeds' turn passes
        for runtime in runtimes:
            CountingCalls(runtime.parts.upstream, counts)
        time.sleep(WINDOW_SECONDS)
    finally:
        for runtime in runtimes:
            runtime.parts.feeder.stop()
            runtime.parts.upstream.close()
            runtime.store.dispose()
        source.close()
    return counts


def test_the_sources_load_does_not_grow_with_gateway_replicas(tmp_path, gateway_database):
    one = _reconcile_load(tmp_path, gateway_database, 1)
    three = _reconcile_load(tmp_path, gateway_database, 3)
    most = WINDOW_SECONDS / RECONCILE_SECONDS + 1
    # Every reconcile asks for the indicators once (and for the offices and the officers' pages).
    assert 1 <= one["list_indicators"] <= most
    assert 1 <= three["list_indicators"] <= most
    # Three replicas each reconciling on their own would ask three times as often.
    assert three["list_indicators"] < 2 * one["list_indicators"] + 2
