"""Shared fixtures: real stores (SQLite files, PostgreSQL databases), real gRPC servers, real broker.

Under CI=true a test that needs PostgreSQL or RabbitMQ fails when they are missing; on a
developer's machine it is skipped with the reason. Each test run (each pytest process) has a broker
namespace of its own (see `amqp_uri`).
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import quote, unquote, urlparse, urlunparse

import psycopg
import pytest

from services.common import registry
from services.common.config import Settings
from services.common.logs import JsonFormatter

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
def amqp_uri() -> Iterator[str]:
    """The broker, in a namespace of this test run's own: nothing another run (or `make run-micro`)
    left in a durable queue reaches this run's consumers, and nothing of this run reaches theirs.

    A virtual host made for the run when rabbitmqctl can (a local broker, run as root), deleted at the
    end; else a unique EVENT_NAMESPACE prefix for the whole process (its child processes inherit it),
    whose queues and exchanges are deleted at the end."""
    parsed = urlparse(AMQP_URI)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 5672), timeout=3):
            pass
    except OSError as exc:
        _unavailable("RabbitMQ", str(exc))
    namespace = f"test_{uuid.uuid4().hex[:10]}"
    with broker_vhost(AMQP_URI, namespace) as uri:
        if uri is not None:
            yield uri
            return
    previous = os.environ.get("EVENT_NAMESPACE")
    os.environ["EVENT_NAMESPACE"] = namespace
    try:
        yield AMQP_URI
    finally:
        delete_namespace(AMQP_URI, namespace)
        if previous is None:
            os.environ.pop("EVENT_NAMESPACE", None)
        else:
            os.environ["EVENT_NAMESPACE"] = previous


def broker_address(uri: str) -> tuple[str, int]:
    """(host, port) of an AMQP URI."""
    parsed = urlparse(uri)
    return parsed.hostname or "127.0.0.1", parsed.port or 5672


def amqp_through(uri: str, port: int) -> str:
    """`uri` (credentials, vhost) reaching the broker through 127.0.0.1:`port`, e.g. a test's proxy."""
    parsed = urlparse(uri)
    credentials = parsed.netloc.rpartition("@")[0]
    return urlunparse(parsed._replace(netloc=f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"))


def rabbitmqctl(uri: str, *args: str) -> bool:
    """Runs rabbitmqctl on a local broker; False when it is missing, not permitted or the broker is remote."""
    ctl = shutil.which("rabbitmqctl")
    if ctl is None or urlparse(uri).hostname not in ("127.0.0.1", "localhost"):
        return False
    try:
        done = subprocess.run([ctl, *args], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@contextlib.contextmanager
def broker_vhost(uri: str, name: str) -> Iterator[str | None]:
    """A new virtual host `name` the URI's user may use, deleted on exit; None when it cannot be made."""
    user = unquote(urlparse(uri).username or "guest")
    if not (rabbitmqctl(uri, "add_vhost", name)
            and rabbitmqctl(uri, "set_permissions", "-p", name, user, ".*", ".*", ".*")):
        rabbitmqctl(uri, "delete_vhost", name)
        yield None
        return
    try:
        yield urlunparse(urlparse(uri)._replace(path=f"/{quote(name, safe='')}"))
    finally:
        rabbitmqctl(uri, "delete_vhost", name)


def delete_namespace(uri: str, namespace: str) -> None:
    """Deletes what the center declares in `namespace`: every service's worker queues and event exchange
    (the listeners' and tests' own queues are exclusive or auto-delete and went with their connections)."""
    from kombu import Connection

    from services.common.amqp import event_exchange
    from tests.processes import worker_queues

    with Connection(uri, connect_timeout=5) as connection:
        for service in registry.names():
            doomed = [("queue_delete", queue) for queue in worker_queues(service, namespace)]
            doomed.append(("exchange_delete", event_exchange(service, namespace).name))
            for method, name in doomed:
                channel = connection.channel()  # a refusal closes the channel: one per name
                with contextlib.suppress(Exception):  # never declared in this run: nothing to delete
                    getattr(channel, method)(name)
                with contextlib.suppress(Exception):
                    channel.close()


@pytest.fixture
def spans():
    """Every span the process finishes during the test, kept by the OpenTelemetry SDK's own
    InMemorySpanExporter (its test exporter, in place of an OTLP collector we do not run)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from services.common import tracing

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    previous = tracing.install(provider)
    yield exporter
    tracing.install(previous)
    provider.shutdown()


@pytest.fixture
def access_lines() -> Iterator[Callable[[], list[dict]]]:
    """The access log's lines so far, as the JSON objects the process writes."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("access")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(level)


# --- How `make test` hands its files to the pytest-xdist workers (--dist loadfile) -------------------
# xdist's own loadfile hands out the files with the most tests first, which leaves the few-test files
# that load a whole demo district (a minute or more each) for the end, one worker running them while
# the other idles; and every worker that runs a test of the shared demo district loads one of its own.
# Here the modules taking `demo_district` are one unit (the district is loaded once in the run), and
# the units go out longest first, by the seconds each file took in the last run (pytest's cache), or,
# before any run has left them, by FIRST_RUN_SECONDS.
FILE_SECONDS_KEY = "supervision/file-seconds"
DEMO_DISTRICT_UNIT = "tests/integration (the shared demo district)"
# Seconds of the slow files on a 2-core machine (setup, call and teardown of all their tests), for a
# run without the cache (a fresh clone, CI); any other file counts a tenth of a second per test.
FIRST_RUN_SECONDS = {
    DEMO_DISTRICT_UNIT: 150,
    "tests/integration/test_cli.py": 75,
    "tests/integration/test_demo_resume.py": 55,
    "tests/integration/test_worker_health.py": 40,
    "tests/simulator/test_load.py": 35,
    "tests/integration/test_event_namespaces.py": 30,
    "tests/integration/test_gateway_access.py": 30,
    "tests/integration/test_dashboard_loading.py": 17,
    "tests/integration/test_golden_quarter.py": 10,
    # The field app's browser tests: about a minute together, by their authors' estimate.
    "tests/integration/test_field_app.py": 40,
    "tests/integration/test_field_app_oidc.py": 20,
}
TAKES_THE_DEMO_DISTRICT = re.compile(r"def \w+\([^)]*\bdemo_district\b")


def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile, its units longest first and the demo district's modules one unit; else xdist's own."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LongestFirst(LoadFileScheduling):
        def __init__(self, config, log=None):
            super().__init__(config, log)
            config.option.loadscopereorder = False  # the order is set below, not by the count of tests
            self.rootdir = config.rootpath
            cache = getattr(config, "cache", None)  # none under -p no:cacheprovider
            self.last_seconds = cache.get(FILE_SECONDS_KEY, {}) if cache else {}
            self.takes_the_district: dict[str, bool] = {}
            self.ordered = False

        def _split_scope(self, nodeid):
            module = nodeid.split("::", 1)[0]
            if module not in self.takes_the_district:
                path = self.rootdir / module
                self.takes_the_district[module] = path.is_file() and bool(
                    TAKES_THE_DEMO_DISTRICT.search(path.read_text(encoding="utf-8")))
            return DEMO_DISTRICT_UNIT if self.takes_the_district[module] else module

        def _assign_work_unit(self, node):
            if not self.ordered:  # the first assignment: the work queue is whole, in collection order
                self.ordered = True
                units = sorted(self.workqueue.items(), key=lambda unit: -self.expected_seconds(*unit))
                self.workqueue.clear()
                self.workqueue.update(units)
            super()._assign_work_unit(node)

        def expected_seconds(self, unit, nodeids):
            """A unit's seconds in the last run, or FIRST_RUN_SECONDS', or a tenth of a second a test."""
            modules = collections.Counter(nodeid.split("::", 1)[0] for nodeid in nodeids)
            if any(module in self.last_seconds for module in modules):
                return sum(self.last_seconds.get(module, 0.1 * tests) for module, tests in modules.items())
            return FIRST_RUN_SECONDS.get(unit, 0.1 * len(nodeids))

    return LongestFirst(config, log)


class FileSeconds:
    """Per test file, the seconds its tests took in this run (setup, call, teardown), kept in pytest's
    cache for the next run's order (the xdist controller sees every worker's reports)."""

    def __init__(self, config):
        self.config = config
        self.seconds: collections.Counter = collections.Counter()

    def pytest_runtest_logreport(self, report):
        """Adds a phase's seconds to its file."""
        self.seconds[report.nodeid.split("::", 1)[0]] += report.duration

    def pytest_sessionfinish(self, session):
        """Merges this run's figures into the cache's (a run of some files keeps the others')."""
        if getattr(self.config, "cache", None) is None or not self.seconds:
            return
        kept = self.config.cache.get(FILE_SECONDS_KEY, {})
        kept.update({module: round(seconds, 1) for module, seconds in self.seconds.items()})
        self.config.cache.set(FILE_SECONDS_KEY, kept)


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    """Records the files' seconds in the process that hands them out: an xdist controller."""
    if config.pluginmanager.hasplugin("dsession") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(FileSeconds(config), "supervision-file-seconds")
