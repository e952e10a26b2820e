"""The real processes: `serve` with health, reflection and /metrics; SIGTERM drain; bad configuration."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from services.command_center.domain.offices import OfficeInput, Offices
from services.command_center.domain.tasks import TaskInput, Tasks
from services.command_center.domain.workspace import Workspace
from services.common import migrate
from services.common.clock import shanghai_today
from services.common.context import SYSTEM_CALLER
from services.common.db import Store
from services.common.working_days import WorkingDayCalendar
from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]



@pytest.fixture
def migrated(postgres_database):
    store = Store(postgres_database)
    migrate.upgrade("command_center", ROOT / "services/command_center/migrations", store.url)
    workspace = Workspace(store, shanghai_today, WorkingDayCalendar.load())
    Offices(workspace).create_office(SYSTEM_CALLER, "", OfficeInput(id="MH01", name="莘庄所", district="闵行区",
                                                                    streets=["莘庄镇"]))
    # Due in a year of the service's real clock (serve runs on today's date): open, not overdue.
    Tasks(workspace).create_task(SYSTEM_CALLER, "", TaskInput(
        office_id="MH01", title="督办", description="", source="bureau", source_ref="",
        due_date=shanghai_today() + dt.timedelta(days=365)))
    store.dispose()
    return postgres_database


@pytest.fixture
def api_process(migrated, amqp_uri):
    grpc_port, metrics_port = free_port(), free_port()
    env = {**os.environ, "DATABASE_URL": migrated, "AMQP_URI": amqp_uri, "GRPC_PORT": str(grpc_port),
           "METRICS_PORT": str(metrics_port), "DRAIN_GRACE_SECONDS": "5", "LOG_FORMAT": "json"}
    process = subprocess.Popen([sys.executable, "-m", "services.command_center", "serve"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
    try:
        grpc.channel_ready_future(channel).result(timeout=30)
    except grpc.FutureTimeoutError:
        process.kill()
        pytest.fail(f"serve did not start: {process.communicate()[0][-3000:]}")
    yield process, channel, metrics_port
    channel.close()
    if process.poll() is None:
        process.kill()
        process.wait()


def test_serve_answers_health_reflection_and_metrics(api_process):
    _, channel, metrics_port = api_process
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "supervision.command_center.v1.OfficeService"):
        assert health.Check(health_pb2.HealthCheckRequest(service=service)).status \
            == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    answer = next(reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
    services = {s.name for s in answer.list_services_response.service}
    assert {"supervision.command_center.v1.OfficeService", "supervision.command_center.v1.TaskService",
            "supervision.common.v1.IndicatorSource", "grpc.health.v1.Health"} <= services
    offices = pb_grpc.OfficeServiceStub(channel)
    assert offices.GetOffice(pb.GetOfficeRequest(id="MH01")).name == "莘庄所"
    with pytest.raises(grpc.RpcError):
        offices.GetOffice(pb.GetOfficeRequest(id="nope"))
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    assert ('grpc_server_handled_total{grpc_code="OK",grpc_method="GetOffice",'
            'grpc_service="supervision.command_center.v1.OfficeService",grpc_type="unary"} 1.0') in metrics
    assert 'grpc_code="NOT_FOUND",grpc_method="GetOffice"' in metrics
    assert "grpc_server_handling_seconds_bucket" in metrics
    assert 'supervision_outbox_backlog{service="command_center"}' in metrics
    assert 'supervision_open_items{kind="task",office_id="MH01",service="command_center"} 1.0' in metrics
    assert 'supervision_overdue_items{kind="task",office_id="MH01",service="command_center"} 0.0' in metrics


def test_sigterm_drains_in_flight_calls_refuses_new_ones_and_exits_zero(api_process, migrated):
    process, channel, _ = api_process
    offices = pb_grpc.OfficeServiceStub(channel)
    admin_url = migrated.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url) as locker:
        # Hold a lock that GetOffice must wait for: a call that is genuinely in flight.
        locker.execute("LOCK TABLE offices IN ACCESS EXCLUSIVE MODE")
        result: dict[str, object] = {}

        def slow_call() -> None:
            try:
                result["office"] = offices.GetOffice(pb.GetOfficeRequest(id="MH01"), timeout=20)
            except grpc.RpcError as error:
                result["error"] = error

        caller = threading.Thread(target=slow_call)
        caller.start()
        time.sleep(0.5)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(grpc.RpcError) as refused:
            offices.ListOffices(pb.ListOfficesRequest(), timeout=2)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        time.sleep(0.5)
        locker.rollback()
    caller.join(10)
    assert "office" in result, result.get("error")
    assert process.wait(10) == 0
    assert time.monotonic() - started < 5 + 2


@pytest.mark.parametrize(("variable", "value"), [("GRPC_PORT", "abc"), ("AUTH_MODE", "maybe"),
                                                 ("DATABASE_URL", "mysql://x")])
def test_bad_configuration_stops_the_process_naming_the_variable(variable, value):
    env = {**os.environ, variable: value, "AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/"}
    finished = subprocess.run([sys.executable, "-m", "services.command_center", "serve"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
    assert finished.returncode == 2
    assert variable in finished.stderr and "expected" in finished.stderr
