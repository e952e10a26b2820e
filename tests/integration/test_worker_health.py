"""Workers' /livez and /readyz on the metrics port, through real worker processes and a real broker
(and the gateway API process's, whose event listener is a consumer too).

/readyz: 200 once the worker consumes, 503 while its broker connection is lost (its virtual host
deleted under it), 200 again after it reconnects. /livez: 503 when the worker's hub is blocked (a
test-only handler blocks it: tests/stalling_worker.py), while /metrics still answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from services.common import migrate
from services.common.amqp import NamekoTransport
from services.common.db import Store
from tests.conftest import AMQP_URI, broker_vhost, rabbitmqctl
from tests.processes import http_get, start_service, stop
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
STALL_SECONDS = 2.0


def wait_for_status(port: int, path: str, status: int, process: subprocess.Popen, timeout: float) -> str:
    """Polls `path` until it answers `status`; its body."""
    deadline = time.monotonic() + timeout
    seen = http_get(port, path)
    while seen[0] != status:
        if process.poll() is not None:
            pytest.fail(f"the worker exited: {process.communicate()[0][-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"{path} answered {seen} for {timeout:.0f} s, not {status}")
        time.sleep(0.2)
        seen = http_get(port, path)
    return seen[1]


@pytest.fixture
def private_vhost(amqp_uri):
    """A virtual host of this test's own, which the test may delete and make again."""
    name = f"health_{uuid.uuid4().hex[:10]}"
    with broker_vhost(AMQP_URI, name) as uri:
        if uri is None:
            pytest.skip("rabbitmqctl cannot make virtual hosts here")
        yield name, uri


def migrated(tmp_path: Path, service: str) -> str:
    store = Store(f"sqlite:///{tmp_path / f'{service}.db'}")
    migrate.upgrade(service, ROOT / f"services/{service}/migrations", store.url)
    store.dispose()
    return store.url


@pytest.fixture
def command_center_db(tmp_path):
    return migrated(tmp_path, "command_center")


def start_worker_process(module: list[str], port: int, **env: str) -> subprocess.Popen:
    variables = {**os.environ, "METRICS_PORT": str(port), "LOG_FORMAT": "text", "SWEEP_INTERVAL_SECONDS": "3600",
                 **env}
    return subprocess.Popen([sys.executable, "-m", *module], cwd=ROOT, env=variables, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


# A service's nameko worker, and the gateway's API process, whose event listener is its consumer.
CONSUMERS = {"worker": ("command_center", "worker", {}),
             "gateway serve": ("gateway", "serve", {"GRPC_PORT": "0", "HTTP_PORT": "0", "DRAIN_GRACE_SECONDS": "2"})}


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_a_consumer_is_ready_while_it_consumes_and_not_while_its_broker_connection_is_lost(
        private_vhost, tmp_path, consumer):
    vhost, uri = private_vhost
    service, command, env = CONSUMERS[consumer]
    port = free_port()
    worker = start_service(service, command, DATABASE_URL=migrated(tmp_path, service), AMQP_URI=uri,
                           METRICS_PORT=str(port), WORKER_STALL_SECONDS="5", **env)
    try:
        assert wait_for_status(port, "/readyz", 200, worker, 30) == "ok\n"
        assert http_get(port, "/livez") == (200, "ok\n")
        assert rabbitmqctl(uri, "delete_vhost", vhost)  # every connection to it is closed
        reason = wait_for_status(port, "/readyz", 503, worker, 15)
        assert "broker connection" in reason, reason
        time.sleep(5 + 2)  # longer than WORKER_STALL_SECONDS: reconnecting is not stalling
        assert http_get(port, "/livez") == (200, "ok\n")
        assert http_get(port, "/readyz")[0] == 503
        assert rabbitmqctl(uri, "add_vhost", vhost)
        assert rabbitmqctl(uri, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        assert wait_for_status(port, "/readyz", 200, worker, 60) == "ok\n"  # reconnects back off up to 30 s
        assert http_get(port, "/livez") == (200, "ok\n")
    finally:
        if worker.poll() is None:
            stop(worker)


def test_a_worker_whose_hub_is_blocked_is_not_alive_within_the_stall_limit(amqp_uri, command_center_db):
    port = free_port()
    worker = start_worker_process(["tests.stalling_worker", "command_center"], port, DATABASE_URL=command_center_db,
                                  AMQP_URI=amqp_uri, WORKER_STALL_SECONDS=str(STALL_SECONDS))
    try:
        assert wait_for_status(port, "/readyz", 200, worker, 30) == "ok\n"
        time.sleep(STALL_SECONDS + 1)  # a healthy idle worker goes on beating past the limit
        assert http_get(port, "/livez") == (200, "ok\n")
        NamekoTransport(amqp_uri).publish({"id": str(uuid.uuid4()), "source": "stall_test", "type": "BlockHub",
                                           "data": {}})
        blocked_at = time.monotonic()
        reason = wait_for_status(port, "/livez", 503, worker, STALL_SECONDS + 10)
        # The limit, plus at most one heartbeat interval and the poll's own step.
        assert time.monotonic() - blocked_at < STALL_SECONDS + 3
        assert "silent for" in reason, reason
        assert http_get(port, "/readyz")[0] == 503  # not alive: not ready either
        assert http_get(port, "/metrics")[0] == 200  # the server itself still answers
    finally:
        worker.kill()  # its hub is blocked: SIGTERM would wait for the handler
        worker.communicate()

