"""Fixtures of the gateway API tests: a district of three offices (tests.api.gateway.support.District)
whose sources feed a gateway hosted as in production. A test file that needs the gateway configured
otherwise (authentication, connection ages, the form's limits) defines its own `district`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.gateway.support import District
from tests.conftest import make_settings

# Offices with all four groups certified, two and three: their indices differ.
CERTIFIED = {"MH01": 4, "MH02": 2, "MH03": 3}


@pytest.fixture
def district(tmp_path) -> Iterator[District]:
    """command_center feeding the gateway, both on SQLite, authentication off."""
    running = District(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", make_settings())
    running.add_offices(certified=CERTIFIED)
    yield running
    running.close()


@pytest.fixture
def district_on_each_store(tmp_path, store_url: str) -> Iterator[District]:
    """The same district with the gateway's store on SQLite and on PostgreSQL."""
    running = District(tmp_path, store_url, make_settings())
    running.add_offices(certified=CERTIFIED)
    yield running
    running.close()


@pytest.fixture
def district_with_assessment(tmp_path, store_url: str) -> Iterator[District]:
    """assessment hosted too: the scheme comes from its API and its SchemeUpdated."""
    running = District(tmp_path, store_url, make_settings(), services=("command_center", "assessment"))
    running.add_offices(certified=CERTIFIED)
    yield running
    running.close()
