"""The demo district in monolithic mode, started once for every demo test of the session: each
service's demo loads after the events of the services before it, as `make run` does it. It is loaded
from nothing, as a first start: what the gateway said and kept while it loaded is kept with it for
the first start's tests (tests/integration/test_first_start.py)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services import monolith
from services.common import migrate, registry
from services.common.db import Store
from services.common.hosting import HostedService
from services.gateway.hosting import GatewayHost
from services.gateway.models import HistoryPoint
from tests.conftest import make_settings
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class District:
    data_dir: Path
    services: dict[str, HostedService]
    channels: dict[str, grpc.Channel]
    # Every store's rows as the demo loaded them (row_counts), before any test adds to them.
    loaded_row_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    # What the gateway answered and kept at the third loading step and once loaded (watch_the_gateway).
    seen_while_loading: dict = field(default_factory=dict)


# Rows whose number depends on timing, not on what was loaded: leases; and the indicators' snapshots
# as events (a refresher publishes an office's figures once per batch of changes, and batches follow
# the timing) with what assessment keeps of them.
TIMING_TABLES = {"leases", "indicator_history"}
EVENT_TABLES = {"outbox", "inbox"}
INDICATOR_EVENTS = "%IndicatorsChanged"
DEMO_SERVICES = [name for name in registry.names() if name != "gateway"]


def row_counts(data_dir: Path) -> dict[str, dict[str, int]]:
    """Per service with demo data, the rows of each SQLite table under `data_dir`; of the event tables,
    per event type but the indicators'."""
    counts = {}
    for name in DEMO_SERVICES:
        with sqlite3.connect(data_dir / f"{name}.db") as db:
            tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            counts[name] = {table: db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                            for table in tables if table not in TIMING_TABLES | EVENT_TABLES}
            for table in EVENT_TABLES:
                counts[name].update({f"{table} {kind}": number for kind, number in db.execute(
                    f"SELECT event_type, count(*) FROM {table} WHERE event_type NOT LIKE ? GROUP BY event_type",
                    (INDICATOR_EVENTS,))})
    return counts


def scrape(metrics_port: int) -> list:
    """Every sample a process's metrics server exports now."""
    body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    return [sample for family in text_string_to_metric_families(body) for sample in family.samples]


@pytest.fixture
def command_center_postgres(postgres_database):
    """command_center's store on a fresh PostgreSQL database, migrated to head."""
    store = Store(postgres_database)
    migrate.upgrade("command_center", ROOT / "services/command_center/migrations", store.url)
    yield store
    store.dispose()


def start_district(data_dir: Path) -> District:
    """Every service on a free port; services that call others (assessment's live scores) are
    told where, as INDICATOR_SOURCES tells them in a deployment."""
    ports = {name: free_port() for name in registry.names()}
    previous = os.environ.get("INDICATOR_SOURCES")
    os.environ["INDICATOR_SOURCES"] = ",".join(f"{name}=127.0.0.1:{port}" for name, port in ports.items()
                                               if name != "gateway")
    try:
        hosted = monolith.start(make_settings(DATA_DIR=str(data_dir), DEMO_DATA="true"), host="127.0.0.1",
                                ports=ports)
    finally:
        if previous is None:
            del os.environ["INDICATOR_SOURCES"]
        else:
            os.environ["INDICATOR_SOURCES"] = previous
    services = {service.runtime.name: service for service in hosted}
    channels = {name: grpc.insecure_channel(f"127.0.0.1:{service.server.port}") for name, service in services.items()}
    return District(data_dir, services, channels)


def stop_district(district: District) -> None:
    for channel in district.channels.values():
        channel.close()
    for service in district.services.values():
        service.stop(0.5)
        service.runtime.store.dispose()


def http_get(port: int, path: str) -> tuple[int, dict]:
    """(status, JSON body) of a GET on the gateway's HTTP port, an error status included."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def history_rows(gateway: GatewayHost) -> int:
    with gateway.runtime.store.read() as session:
        return session.query(HistoryPoint).count()


@contextlib.contextmanager
def watch_the_gateway() -> Iterator[dict]:
    """While a district starts in this process: at the third loading step (complaints', after
    command_center and mobile_enforcement), what the gateway answers on /readyz, how many offices it
    knows and what it has written of history and alerts, in the dict yielded; and the gateway as
    "gateway"."""
    seen: dict = {}
    original_start = GatewayHost.start
    from services.complaints import demo as complaints_demo
    original_load = complaints_demo.load_demo

    def start_and_keep(self):
        seen["gateway"] = self
        return original_start(self)

    def look_then_load(*args, **kwargs):
        gateway = seen["gateway"]
        time.sleep(1.5)  # more than a recorder's pass and a probe's delay
        seen["readyz"] = http_get(gateway.http_port, "/readyz")
        seen["offices"] = len(gateway.parts.monitor.view.offices)
        seen["written"] = gateway.parts.recorder.flush()
        seen["history"] = history_rows(gateway)
        seen["alerts"] = dict(gateway.parts.monitor.view.alerts)
        return original_load(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(GatewayHost, "start", start_and_keep)
        patch.setattr(complaints_demo, "load_demo", look_then_load)
        yield seen


# Whichever test of the demo district runs first loads it in its setup (a minute or two on a busy
# machine): its timeout covers that, unless the test sets its own.
DEMO_DISTRICT_TIMEOUT = 240


def pytest_collection_modifyitems(config, items):
    """Gives the tests taking the demo district time to load it (an explicit timeout marker wins)."""
    for item in items:
        if "demo_district" in getattr(item, "fixturenames", ()) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEMO_DISTRICT_TIMEOUT))


@pytest.fixture(scope="session")
def demo_district(tmp_path_factory):
    """The demo district, loaded from nothing in this process (a first start, watched: see
    watch_the_gateway); then, once loaded, the gateway's alerts (its probes run once the district is
    loaded) and history, before any test adds to the district."""
    with watch_the_gateway() as seen:
        district = start_district(tmp_path_factory.mktemp("district"))
    district.seen_while_loading = seen
    try:
        gateway = seen["gateway"]
        deadline = time.monotonic() + 30
        while not gateway.parts.monitor.view.alerts and time.monotonic() < deadline:
            time.sleep(0.2)
        seen["alerts once loaded"] = dict(gateway.parts.monitor.view.alerts)
        gateway.parts.recorder.flush()
        seen["history once loaded"] = history_rows(gateway)
        for service in district.services.values():
            service.settle()
        district.loaded_row_counts = row_counts(district.data_dir)
    except BaseException:
        stop_district(district)
        raise
    yield district
    stop_district(district)
