"""Fixtures of emergency's API tests: the service behind a real gRPC server, with command_center hosted
beside it to register the offices and officers."""

from __future__ import annotations

import pytest

from tests.api.emergency.support import CommandCenter, EmergencyClient
from tests.conftest import make_settings
from tests.support import host


@pytest.fixture
def emergency(store_url, tmp_path):
    """emergency with offices MH01 and MH02 and one officer each, registered by command_center."""
    client = EmergencyClient(host("emergency", store_url, make_settings()))
    center = host("command_center", f"sqlite:///{tmp_path / 'command_center.db'}", make_settings(),
                  client.running.clock)
    client.directory = CommandCenter(center, client.running)
    for office_id in ("MH01", "MH02"):
        client.directory.office(office_id)
    client.directory.officer("MH01-01", "MH01")
    client.directory.officer("MH02-01", "MH02", "李芳")
    client.running.settle()
    yield client
    center.close()
    client.running.close()
