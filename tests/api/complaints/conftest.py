"""Fixtures of the complaints API tests: the service hosted behind a real gRPC server, with two
offices (MH01 莘庄镇, MH02 七宝镇) learned from command_center's events on the in-process bus."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.complaints.support import SECRET, ComplaintsClient
from tests.conftest import make_settings
from tests.support import host


@pytest.fixture
def client(store_url: str) -> Iterator[ComplaintsClient]:
    """complaints on each store (SQLite and PostgreSQL), authentication off."""
    running = host("complaints", store_url, make_settings())
    client = ComplaintsClient(running)
    client.announce_office("MH01", ["莘庄镇"])
    client.announce_office("MH02", ["七宝镇"])
    yield client
    client.close()


@pytest.fixture
def secured(tmp_path) -> Iterator[ComplaintsClient]:
    """complaints on SQLite with AUTH_MODE=jwt: calls carry a token of support.as_user."""
    running = host("complaints", f"sqlite:///{tmp_path / 'complaints.db'}",
                   make_settings(AUTH_MODE="jwt", JWT_SECRET=SECRET))
    client = ComplaintsClient(running)
    client.announce_office("MH01", ["莘庄镇"])
    client.announce_office("MH02", ["七宝镇"])
    yield client
    client.close()
