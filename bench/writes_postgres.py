"""The three hot writes in microservices mode on PostgreSQL, beside the bare echo server of the same run:
command_center CreateOffice, complaints CreateComplaint and mobile_enforcement RecordFindings, each
served by its own `python -m services.<service> serve` process (the production entry point: full
bootstrap, its relay publishing to RabbitMQ) on a fresh PostgreSQL database made for the run and
migrated with `python -m services.<service> migrate`; events go to a RabbitMQ virtual host of the
run's own, where nobody consumes them. The calls and the load are those of the SQLite benchmarks
(bench.foundation, bench.complaints, bench.mobile_enforcement_draw: 32 concurrent grpc.aio callers,
BENCH_SECONDS each after a warm-up), so the figures compare with theirs; those loaders measure the
echo before each write, so the echo is measured three times and the table gives the median run.
RecordFindings works on 64 inspections put in progress beforehand, as in the SQLite benchmark.
Every database and the virtual host are removed at the end, whatever happens.

Usage: python -m bench.writes_postgres   (writes bench/results/<date>-writes-postgres.md and .json;
POSTGRES_ADMIN_URL, default postgresql://postgres@127.0.0.1:5432/postgres, names the server)
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlparse

import grpc
import psycopg
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench import complaints, foundation, mobile_enforcement_draw
from bench.harness import (
    ROOT,
    LoadResult,
    free_port,
    machine,
    start_process,
    stop_process,
    wait_for_port,
    write_results,
)
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_pb_grpc

ADMIN_URL = os.environ.get("POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BROKER = "amqp://guest:guest@127.0.0.1:5672"
SERVICES = ("command_center", "complaints", "mobile_enforcement")
INSPECTIONS = 64
START_TIMEOUT_SECONDS = 90
TAIL_LINES = 40


# ---------------------------------------------------------------- PostgreSQL and RabbitMQ


def create_database(name: str) -> str:
    """A new, empty database; its URL as the services take it (DATABASE_URL)."""
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlparse(ADMIN_URL)._replace(scheme="postgresql+psycopg", path=f"/{name}").geturl()


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rabbitmqctl(*args: str) -> None:
    ctl = shutil.which("rabbitmqctl")
    if ctl is None:
        raise RuntimeError("rabbitmqctl not found: the benchmark needs a local RabbitMQ to make its virtual host")
    done = subprocess.run([ctl, *args], capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {(done.stderr or done.stdout).strip()}")


# ---------------------------------------------------------------- the services' processes


@dataclasses.dataclass
class Served:
    """A `serve` process, its gRPC port and the last lines it wrote to stderr (read as they come, so a
    chatty process never blocks on a full pipe)."""

    service: str
    port: int
    process: subprocess.Popen
    tail: collections.deque = dataclasses.field(default_factory=lambda: collections.deque(maxlen=TAIL_LINES))

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.tail.append(line)

    def failure(self, what: str) -> RuntimeError:
        return RuntimeError(f"{self.service} serve {what} (exit status {self.process.poll()}); "
                            f"its stderr ended with:\n{''.join(self.tail)}")


def service_env(url: str, amqp_uri: str, data_dir: str, **ports: int) -> dict[str, str]:
    return {"DATABASE_URL": url, "AMQP_URI": amqp_uri, "DATA_DIR": data_dir, "AUTH_MODE": "off",
            "LOG_LEVEL": "WARNING", "LOG_FORMAT": "text", "DRAIN_GRACE_SECONDS": "2", "PYTHONUNBUFFERED": "1",
            **{name: str(port) for name, port in ports.items()}}


def migrate(service: str, env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", f"services.{service}", "migrate"], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        tail = "".join((done.stdout + done.stderr).splitlines(keepends=True)[-TAIL_LINES:])
        raise RuntimeError(f"{service} migrate failed (exit status {done.returncode}):\n{tail}")


def wait_serving(served: Served, deadline: float) -> None:
    """Until the process's health service says SERVING; its stderr in the error if it exits or never does."""
    with grpc.insecure_channel(f"127.0.0.1:{served.port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if served.process.poll() is not None:
                time.sleep(0.2)  # the reader thread takes the last lines
                raise served.failure("exited while starting")
            try:
                answer = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise served.failure(f"is not SERVING after {START_TIMEOUT_SECONDS} s")
            time.sleep(0.2)


# ---------------------------------------------------------------- the run


def relabel(result: LoadResult, name: str) -> LoadResult:
    return dataclasses.replace(result, name=name)


def measure(stack: contextlib.ExitStack, work: str, seconds: float) -> dict:
    tag = f"{os.getpid()}_{time.time_ns() % 10**6}"
    vhost = f"bench_writes_{tag}"
    rabbitmqctl("add_vhost", vhost)
    stack.callback(rabbitmqctl, "delete_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    amqp_uri = f"{BROKER}/{vhost}"

    urls = {}
    for service in SERVICES:
        name = f"bench_{service}_{tag}"
        urls[service] = create_database(name)
        stack.callback(drop_database, name)
    for service in SERVICES:
        migrate(service, service_env(urls[service], amqp_uri, work))
    inspection_ids = mobile_enforcement_draw.prepare_inspections(None, INSPECTIONS, url=urls["mobile_enforcement"])

    echo_port = free_port()
    echo = start_process(["-m", "bench.echo_server", str(echo_port)])
    stack.callback(stop_process, echo)
    served: dict[str, Served] = {}
    for service in SERVICES:
        port = free_port()
        env = service_env(urls[service], amqp_uri, work, GRPC_PORT=port, METRICS_PORT=free_port())
        served[service] = Served(service, port, start_process(["-m", f"services.{service}", "serve"], env))
        stack.callback(stop_process, served[service].process)
    wait_for_port(echo_port, echo)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    for one in served.values():
        wait_serving(one, deadline)

    # The office bench.foundation's GetOffice reads, made as bench.foundation makes it.
    with grpc.insecure_channel(f"127.0.0.1:{served['command_center'].port}") as channel:
        cc_pb_grpc.OfficeServiceStub(channel).CreateOffice(cc_pb.CreateOfficeRequest(
            request_id="bench-MH01", office=cc_pb.Office(id="MH01", name="莘庄市场监督管理所", district="闵行区",
                                                         streets=["莘庄镇"])), timeout=30)

    echo_1, get_office, create_office = asyncio.run(
        foundation.grpc_loads(echo_port, served["command_center"].port, seconds))
    echo_2, create_complaint = asyncio.run(complaints.loads(echo_port, served["complaints"].port, seconds))
    echo_3, record_findings = asyncio.run(
        mobile_enforcement_draw.write_loads(echo_port, served["mobile_enforcement"].port, inspection_ids, seconds))
    for one in served.values():
        if one.process.poll() is not None:
            raise one.failure("exited during the load")
    echo_runs = [echo_1, echo_2, echo_3]
    median = sorted(echo_runs, key=lambda r: r.throughput)[1]
    return {
        "echo": relabel(median, "bare echo (no interceptors), median of 3 runs"),
        "echo_runs": echo_runs,
        "writes": [relabel(create_office, "CreateOffice (commit + outbox, PostgreSQL, serve process)"),
                   relabel(create_complaint, "CreateComplaint (full bootstrap, PostgreSQL, serve process)"),
                   relabel(record_findings,
                           "RecordFindings (commit + hash-chained trail, PostgreSQL, serve process)")],
        "get_office": relabel(get_office, "GetOffice (full bootstrap, PostgreSQL, serve process)"),
    }


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "8"))
    with tempfile.TemporaryDirectory() as work, contextlib.ExitStack() as stack:
        # Callbacks run last in, first out: the processes stop before their databases are dropped,
        # and the virtual host goes last.
        measured = measure(stack, work, seconds)
    echo, writes, get_office = measured["echo"], measured["writes"], measured["get_office"]
    ratios = {write.name.split(" ")[0]: write.throughput / echo.throughput for write in writes}
    server = urlparse(ADMIN_URL)
    lines = [
        "# Hot writes in microservices mode on PostgreSQL", "",
        f"Command: `python -m bench.writes_postgres`; {time.strftime('%Y-%m-%d %H:%M UTC')}.",
        f"Machine: {machine()}", "",
        f"Each service: `python -m services.<service> serve` on its own fresh database (PostgreSQL at "
        f"{server.hostname}:{server.port or 5432}), events relayed to RabbitMQ; concurrent grpc.aio client "
        f"(32 callers), {seconds:.0f} s per call after a warm-up. RecordFindings over {INSPECTIONS} inspections "
        "in progress.", "",
        "| call | throughput (req/s) | p50 (ms) | p99 (ms) | requests | errors |", "|---|---|---|---|---|---|",
        echo.row(), *[write.row() for write in writes], "",
        *[f"- {name} / echo = {ratio:.2f}" for name, ratio in ratios.items()],
        "- echo throughput in its three runs (one before each write): "
        + ", ".join(f"{run.throughput:,.0f}" for run in measured["echo_runs"]) + " req/s",
        f"- also measured: GetOffice {get_office.throughput:,.0f} req/s, p50 {get_office.p50_ms:.2f} ms, "
        f"p99 {get_office.p99_ms:.2f} ms, {get_office.errors} errors", "",
    ]
    path = write_results("writes-postgres", "\n".join(lines), {"machine": machine(), **measured, "ratios": ratios,
                                                               "seconds": seconds})
    print("\n".join(lines))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
