"""Fixtures of the mobile_enforcement API tests: the service behind a real gRPC server, with
command_center's offices and officers delivered to it as events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.mobile_enforcement.support import Client, field_client, staffed_client


@pytest.fixture
def client(store_url: str, tmp_path: Path) -> Iterator[Client]:
    """The service with two offices and four certified officers at MH01 (one more at MH02)."""
    client = staffed_client(store_url, tmp_path)
    yield client
    client.close()


@pytest.fixture
def field_service(store_url: str, tmp_path: Path) -> Iterator[Client]:
    """The service as the field app reaches it (AUTH_MODE=jwt, the bureau leader's calls by default),
    with one entity registered at MH01."""
    client = field_client(store_url, tmp_path)
    try:
        client.entity(1)
        yield client
    finally:
        client.close()
