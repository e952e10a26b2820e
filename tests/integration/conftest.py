"""The demo district in monolithic mode, started once for every demo test of the session: each
service's demo loads after the events of the services before it, as `make run` does it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from services import monolith
from services.common.hosting import HostedService
from tests.conftest import make_settings


@dataclass
class District:
    data_dir: Path
    services: dict[str, HostedService]
    channels: dict[str, grpc.Channel]


def start_district(data_dir: Path) -> District:
    hosted = monolith.start(make_settings(DATA_DIR=str(data_dir), DEMO_DATA="true"), host="127.0.0.1",
                            ports=dict.fromkeys(monolith.SERVICES, 0))
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
