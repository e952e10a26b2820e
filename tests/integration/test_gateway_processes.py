"""`python -m services.gateway serve` as deployed (microservices mode): PostgreSQL, RabbitMQ, a real
command_center publishing through the broker; a change reaches the gateway's HTTP API without any
reconcile; SIGTERM ends it with exit 0; a bad INDICATOR_SOURCES stops it naming the variable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from services.common.amqp import NamekoTransport
from services.common.relay import OutboxRelay
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from tests.api.gateway.support import GROUPS, NAMES, STREETS
from tests.conftest import make_settings
from tests.processes import start_service, stop, wait_for
from tests.support import Clock, free_port, host

ROOT = Path(__file__).resolve().parents[2]



def get(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return 0, {}


@pytest.fixture
def command_center(tmp_path, amqp_uri):
    """command_center in this process, its events relayed to RabbitMQ as its API process would."""
    running = host("command_center", f"sqlite:///{tmp_path / 'cc.db'}", make_settings(), Clock())
    running.hosted.relay.stop()  # the in-process bus's
    relay = OutboxRelay("command_center", running.store, running.runtime.outbox_model, NamekoTransport(amqp_uri),
                        poll_seconds=0.2)
    relay.start()
    yield running
    relay.stop()
    running.close()


@pytest.fixture
def gateway(command_center, postgres_database, amqp_uri):
    migrated = subprocess.run([sys.executable, "-m", "services.gateway", "migrate"], cwd=ROOT, timeout=60,
                              env={**os.environ, "DATABASE_URL": postgres_database}, capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    http_port, metrics_port = free_port(), free_port()
    process = start_service("gateway", "serve", DATABASE_URL=postgres_database, AMQP_URI=amqp_uri,
                            GRPC_PORT=str(free_port()), HTTP_PORT=str(http_port), METRICS_PORT=str(metrics_port),
                            INDICATOR_SOURCES=f"command_center=127.0.0.1:{command_center.hosted.server.port}")
    deadline = time.monotonic() + 30
    while get(http_port, "/readyz")[0] != 200:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"gateway serve did not get ready: {process.communicate()[0][-3000:]}")
        time.sleep(0.2)
    yield process, http_port, metrics_port
    if process.poll() is None:
        process.kill()
        process.wait()


def certificates(port: int, office_id: str) -> tuple[float, float] | None:
    status, body = get(port, f"/api/v1/offices/{office_id}")
    if status != 200:
        return None
    item = next(i for i in body["indicators"] if i["key"] == "command_center.certificates_valid")
    return item["numerator"], item["denominator"]


def test_serve_follows_a_service_through_the_broker_and_stops_cleanly(command_center, gateway):
    process, port, metrics_port = gateway
    offices = cc_grpc.OfficeServiceStub(command_center.channel)
    officers = cc_grpc.OfficerServiceStub(command_center.channel)
    offices.CreateOffice(cc_pb.CreateOfficeRequest(office=cc_pb.Office(
        id="MH01", name=NAMES["MH01"], district="闵行区", streets=[STREETS["MH01"]])))
    # Neither seeded nor reconciled (every 30 s): only the broker can have brought the office.
    wait_for(lambda: get(port, "/api/v1/offices")[1].get("offices"), timeout=10)
    assert get(port, "/api/v1/offices")[1]["offices"][0]["name"] == NAMES["MH01"]
    officers.RegisterOfficer(cc_pb.RegisterOfficerRequest(officer=cc_pb.Officer(
        id="MH01-01", name="王伟", office_id="MH01", group=GROUPS[0])))  # not certified yet
    wait_for(lambda: certificates(port, "MH01") == (0, 1), timeout=10)
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as reply:
        assert 'supervision_gateway_event_lag_seconds_count{source="command_center"}' in reply.read().decode()
    with pytest.raises(urllib.error.HTTPError) as public:  # the public HTTP port does not serve them
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert public.value.code == 404
    stop(process)


def test_a_bad_indicator_sources_value_stops_serve_naming_the_variable():
    finished = subprocess.run([sys.executable, "-m", "services.gateway", "serve"], cwd=ROOT, timeout=60,
                              env={**os.environ, "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/",
                                   "INDICATOR_SOURCES": "gateway=localhost:1"}, capture_output=True, text=True)
    assert finished.returncode == 2
    assert "INDICATOR_SOURCES" in finished.stderr and "expected" in finished.stderr
