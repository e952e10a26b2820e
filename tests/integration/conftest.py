"""The demo district in monolithic mode, started once for every demo test of the session: each
service's demo loads after the events of the services before it, as `make run` does it."""

from __future__ import annotations

import os
import sqlite3
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services import monolith
from services.common import migrate, registry
from services.common.db import Store
from services.common.hosting import HostedService
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


@pytest.fixture(scope="session")
def demo_district(tmp_path_factory):
    district = start_district(tmp_path_factory.mktemp("district"))
    for service in district.services.values():
        service.settle()
    district.loaded_row_counts = row_counts(district.data_dir)
    yield district
    stop_district(district)
