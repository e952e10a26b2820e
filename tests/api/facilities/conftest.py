"""Fixtures of the facilities API tests: the service behind a real gRPC server, with its publishers
(command_center, and mobile_enforcement on first use) hosted beside it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.facilities.support import FacilitiesClient, InstantClock, host_facilities


@pytest.fixture
def client(store_url: str, tmp_path: Path) -> Iterator[FacilitiesClient]:
    """facilities with office MH01, registered by command_center."""
    running = host_facilities(store_url, InstantClock())
    try:
        client = FacilitiesClient(running, tmp_path)
    except BaseException:
        running.close()
        raise
    client.office()
    yield client
    client.close()
