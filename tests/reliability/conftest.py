"""The reliability suite (`make chaos`): faults, bad input, access and evidence, in microservices mode.

It is collected only when named on the command line (`pytest tests/reliability`, as `make chaos`
does, or one of its files): `make test` stays as fast as it was. Servers missing: skipped with the
reason on a developer's machine, failed under CI=true (tests/conftest.py's fixtures).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reliability import stats
from tests.reliability.cluster import Broker, Databases
from tests.reliability.processes import Cluster

HERE = Path(__file__).resolve().parent


def _named_explicitly(config) -> bool:
    if os.environ.get("CHAOS") == "1":
        return True
    base = Path(config.invocation_params.dir)
    for arg in config.args:
        path = (base / str(arg).split("::", 1)[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    if collection_path.name.startswith("test_") and not _named_explicitly(config):
        return True
    return None


def pytest_collection_modifyitems(config, items):
    """Tests on the shared district run last: its idle API processes keep pooled PostgreSQL connections
    (the server allows 100) that the fault tests, starting a dozen processes each, need meanwhile."""
    items.sort(key=lambda item: "district" in getattr(item, "fixturenames", ()))


def pytest_terminal_summary(terminalreporter):
    lines = stats.summary()
    if lines:
        terminalreporter.section("reliability: cases tried per class")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def broker(amqp_uri) -> Broker:
    return Broker(amqp_uri)


@pytest.fixture
def vhost(broker):
    """A RabbitMQ virtual host of this test's own: workers of the same service in other tests (or in
    `make test`) never share its queues."""
    with broker.vhost() as uri:
        yield uri


@pytest.fixture
def databases(postgres_admin_url):
    created = Databases(postgres_admin_url)
    yield created
    created.drop_all()


@pytest.fixture
def cluster(tmp_path, vhost):
    running = Cluster(tmp_path, vhost)
    yield running
    running.close()


@pytest.fixture(scope="session")
def seeded(postgres_admin_url):
    """The demo district (every service's demo data, events applied in the monolith's order) in one
    PostgreSQL database per service, kept as templates (between runs too, see seed_templates): a
    test takes copies of them in a fraction of a second."""
    from tests.reliability.district import seed_templates

    return seed_templates(postgres_admin_url)


@pytest.fixture(scope="session")
def learned(seeded, postgres_admin_url, broker, tmp_path_factory):
    """What every service of the demo district answers (ids, offices, officers, whole records), learned
    once from short-lived API processes: fault tests that run only some services build requests from it."""
    from tests.reliability.topology import Topology

    copies = Databases(postgres_admin_url)
    with broker.vhost() as uri:
        cluster = Cluster(tmp_path_factory.mktemp("learn"), uri)
        try:
            topology = Topology.start(cluster, copies, seeded, amqp_uri=uri, workers=False)
            return topology.learn()
        finally:
            cluster.close()
            copies.drop_all()


@pytest.fixture(scope="session")
def district(seeded, postgres_admin_url, broker, tmp_path_factory):
    """Copies of the demo district behind real `serve` processes with AUTH_MODE=jwt (no workers, so
    a store changes only through the calls a test makes), shared by the bad-input and access tests."""
    from tests.reliability.district import District

    copies = Databases(postgres_admin_url)
    running = District.start(seeded, copies, Cluster(tmp_path_factory.mktemp("district"), broker.base_uri), broker)
    try:
        yield running
    finally:
        running.close()
        copies.drop_all()
