"""Shared fixtures: real stores (SQLite files, PostgreSQL databases), real gRPC servers, real broker.

Under CI=true a test that needs PostgreSQL or RabbitMQ fails when they are missing; on a
developer's machine it is skipped with the reason.
"""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlparse

import psycopg
import pytest

from services.common.config import Settings

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_URI = os.environ.get("TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")


def _unavailable(what: str, reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI=true but unavailable: {reason}")
    pytest.skip(f"{what} unavailable: {reason}")


def make_settings(**overrides: str) -> Settings:
    env = {"LOG_FORMAT": "text", "RELAY_POLL_SECONDS": "0.2", "SWEEP_INTERVAL_SECONDS": "3600",
           "DRAIN_GRACE_SECONDS": "2", "DEMO_DATA": "false"}
    env.update(overrides)
    return Settings.from_env(env)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        _unavailable("PostgreSQL", str(exc))
    return POSTGRES_ADMIN_URL


@pytest.fixture
def postgres_database(postgres_admin_url):
    """A fresh, empty database, dropped afterwards: migrations really run up from empty."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parsed = urlparse(postgres_admin_url)
    url = parsed._replace(scheme="postgresql+psycopg", path=f"/{name}").geturl()
    yield url
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def amqp_uri() -> str:
    parsed = urlparse(AMQP_URI)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 5672), timeout=3):
            pass
    except OSError as exc:
        _unavailable("RabbitMQ", str(exc))
    return AMQP_URI
