"""The demo district in monolithic mode, started once for every demo test of the session: each
service's demo loads after the events of the services before it, as `make run` does it."""

from __future__ import annotations

import os
import socket
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services import monolith
from services.common import migrate
from services.common.db import Store
from services.common.hosting import HostedService
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class District:
    data_dir: Path
    services: dict[str, HostedService]
    channels: dict[str, grpc.Channel]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
    ports = {name: free_port() for name in monolith.SERVICES}
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
    yield district
    stop_district(district)
