"""The metrics port of a process, served for real on a free port: the worker probes beside /metrics,
and a Server header that names no versions. (The probes' logic: tests/unit/common/test_worker_health.py.)"""

from __future__ import annotations

import urllib.request

import pytest

from services.common import runner, worker_health
from services.common.worker_health import WorkerHealth
from tests.processes import http_get


@pytest.fixture
def installed():
    previous = worker_health.current()
    yield worker_health.install
    worker_health.install(previous)


def test_the_metrics_port_serves_the_probes_beside_metrics(installed):
    port = runner.start_metrics_server(0)
    installed(None)
    # A process with no event consumer: the probes are not there, rather than a 200 meaning nothing.
    assert http_get(port, "/livez") == (404, "no event consumer in this process\n")
    assert http_get(port, "/readyz")[0] == 404
    assert http_get(port, "/metrics")[0] == 200
    health = installed(WorkerHealth(60, ["consumer"]))
    assert http_get(port, "/livez") == (200, "ok\n")
    assert http_get(port, "/readyz") == (503, "not connected to the broker yet\n")
    health.connected()
    assert http_get(port, "/readyz") == (200, "ok\n")
    status, body = http_get(port, "/metrics")
    assert status == 200 and "# TYPE" in body


def test_the_metrics_server_names_no_versions():
    port = runner.start_metrics_server(0)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        assert reply.headers["Server"] == "supervision-metrics"
