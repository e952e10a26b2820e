"""The foundation's benchmarks (gRPC per-call cost, event delays), in one run on one machine:

- gRPC: a bare echo server (no interceptors) against GetOffice and CreateOffice through the full
  bootstrap on SQLite; throughput and p50/p99 with a concurrent grpc.aio client.
  Goals: GetOffice >= 1/2 of echo throughput, CreateOffice >= 1/4.
- Events: delay from the publishing commit to a consumer's handler at 200 events/s, in-process
  (goal p99 < 50 ms) and through RabbitMQ with a real nameko worker (goal p99 < 250 ms).

Usage: python -m bench.foundation   (writes bench/results/<date>-foundation.md)
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

import grpc
from kombu import Connection
from sqlalchemy import delete, func, select

from bench.harness import (
    LoadResult,
    free_port,
    machine,
    run_load,
    start_process,
    stop_process,
    summary,
    wait_for_port,
    write_results,
)
from bench.latency_models import AppliedVersion, Base, DeadLetter, Delay, Inbox, record_delay
from services.command_center.domain.workspace import Workspace
from services.command_center.models import Outbox
from services.common import migrate
from services.common.amqp import NamekoTransport
from services.common.bus import InProcessBus
from services.common.clock import shanghai_today
from services.common.consumer import Consumer, Subscription
from services.common.db import Store
from services.common.relay import OutboxRelay
from services.common.working_days import WorkingDayCalendar
from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc
from supervision.command_center.v1.events_pb2 import OfficeRegistered

AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
ROOT = Path(__file__).resolve().parent.parent
CONSUMER_QUEUE = "evt-command_center-OfficeRegistered--bench_consumer.on_command_center_OfficeRegistered"


async def grpc_loads(echo_port: int, service_port: int, seconds: float) -> list[LoadResult]:
    echo_payload = b"\x0a\x04MH01"

    async def echo(channel, _n):
        await channel.unary_unary("/bench.Echo/Echo")(echo_payload)

    async def get_office(channel, _n):
        await pb_grpc.OfficeServiceStub(channel).GetOffice(pb.GetOfficeRequest(id="MH01"))

    run_id = time.time_ns() % 10**8

    async def create_office(channel, n):
        office_id = f"B{run_id}-{n}"
        await pb_grpc.OfficeServiceStub(channel).CreateOffice(pb.CreateOfficeRequest(
            request_id=office_id, office=pb.Office(id=office_id, name=f"基准所{n}", district="闵行区",
                                                   streets=[f"基准街道{run_id}-{n}"])))

    results = []
    for name, port, call in [("bare echo (no interceptors)", echo_port, echo),
                             ("GetOffice (full bootstrap, SQLite)", service_port, get_office),
                             ("CreateOffice (commit + outbox, SQLite)", service_port, create_office)]:
        results.append(await run_load(name, f"127.0.0.1:{port}", call, seconds=seconds))
    return results


def grpc_section(work: Path, seconds: float) -> list[LoadResult]:
    echo_port, service_port = free_port(), free_port()
    echo = start_process(["-m", "bench.echo_server", str(echo_port)])
    service = start_process(["-m", "bench.service_server", "command_center", str(service_port), str(work)])
    try:
        wait_for_port(echo_port, echo)
        wait_for_port(service_port, service)
        with grpc.insecure_channel(f"127.0.0.1:{service_port}") as channel:
            pb_grpc.OfficeServiceStub(channel).CreateOffice(pb.CreateOfficeRequest(
                request_id="bench-MH01", office=pb.Office(id="MH01", name="莘庄市场监督管理所", district="闵行区",
                                                          streets=["莘庄镇"])))
        return asyncio.run(grpc_loads(echo_port, service_port, seconds))
    finally:
        stop_process(echo)
        stop_process(service)


def produce(center: Workspace, rate: int, seconds: float, prefix: str) -> int:
    """Commits `rate` transactions per second into command_center's outbox, each with one
    OfficeRegistered: this measures the event path (outbox, relay, transport, consumer), not the
    cost of creating an office, which the gRPC section measures."""
    count = int(rate * seconds)
    started = time.perf_counter()
    for n in range(count):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        with center.store.transaction() as session:
            center.events.record(session, OfficeRegistered(office_id=f"{prefix}{n}", version=1, name=f"所{n}",
                                                           district="区", streets=[f"{prefix}街{n}"]),
                                 aggregate_type="office", aggregate_id=f"{prefix}{n}", version=1,
                                 office_id=f"{prefix}{n}")
    return count


def warm_up(center: Workspace, consumer_store: Store, rate: int, prefix: str) -> None:
    """One second of events first: connections, caches and the worker's pools are warm when the
    measured run starts, as they are in a process that has been serving for a while."""
    count = produce(center, rate, 1.0, prefix)
    wait_for_count(consumer_store, count)
    with consumer_store.transaction() as session:
        session.execute(delete(Delay))


def delays(store: Store) -> list[float]:
    with store.read() as session:
        return list(session.scalars(select(Delay.delay_ms)))


def wait_for_count(store: Store, expected: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.read() as session:
            if session.scalar(select(func.count()).select_from(Delay)) >= expected:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the consumer received fewer than {expected} events")


def source(work: Path, name: str) -> tuple[Store, Workspace]:
    store = Store(f"sqlite:///{work / name}")
    migrate.upgrade("command_center", ROOT / "services/command_center/migrations", store.url)
    return store, Workspace(store, shanghai_today, WorkingDayCalendar.load())


def in_process_latency(work: Path, rate: int, seconds: float) -> dict[str, float]:
    store, center = source(work, "inproc_source.db")
    consumer_store = Store(f"sqlite:///{work / 'inproc_consumer.db'}")
    Base.metadata.create_all(consumer_store.engine)
    bus = InProcessBus()
    bus.subscribe(Consumer("bench_consumer", consumer_store, Inbox, AppliedVersion, DeadLetter),
                  [Subscription("command_center", OfficeRegistered, record_delay)])
    relay = OutboxRelay("command_center", store, Outbox, bus)
    relay.start()
    try:
        warm_up(center, consumer_store, rate, "WP")
        count = produce(center, rate, seconds, "P")
        wait_for_count(consumer_store, count)
    finally:
        relay.stop()
    return summary(delays(consumer_store))


def rabbitmq_latency(work: Path, rate: int, seconds: float) -> dict[str, float]:
    store, center = source(work, "amqp_source.db")
    consumer_path = work / "amqp_consumer.db"
    worker = start_process(["-m", "bench.event_consumer", AMQP_URI, str(consumer_path)])
    try:
        deadline = time.monotonic() + 30
        with Connection(AMQP_URI) as connection:
            while True:
                try:
                    connection.default_channel.queue_declare(CONSUMER_QUEUE, passive=True)
                    connection.default_channel.queue_purge(CONSUMER_QUEUE)
                    break
                except Exception:  # noqa: BLE001 - the worker has not declared its queue yet
                    connection.close()
                    if time.monotonic() > deadline or worker.poll() is not None:
                        raise RuntimeError("bench consumer did not start") from None
                    time.sleep(0.2)
        relay = OutboxRelay("command_center", store, Outbox, NamekoTransport(AMQP_URI))
        relay.start()
        consumer_store = Store(f"sqlite:///{consumer_path}")
        try:
            warm_up(center, consumer_store, rate, "WR")
            count = produce(center, rate, seconds, "R")
            wait_for_count(consumer_store, count)
        finally:
            relay.stop()
        return summary(delays(consumer_store))
    finally:
        stop_process(worker)


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "8"))
    rate, event_seconds = 200, float(os.environ.get("BENCH_EVENT_SECONDS", "10"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        loads = grpc_section(work, seconds)
        inproc = in_process_latency(work, rate, event_seconds)
        amqp = rabbitmq_latency(work, rate, event_seconds)
    echo, get, create = loads
    lines = [
        "# Foundation benchmarks", "",
        f"Command: `make bench` (runs `python -m bench.foundation`); {time.strftime('%Y-%m-%d %H:%M UTC')}.",
        f"Machine: {machine()}", "",
        "## gRPC, concurrent grpc.aio client (32 callers), servers in their own processes", "",
        "| call | throughput (req/s) | p50 (ms) | p99 (ms) | requests | errors |", "|---|---|---|---|---|---|",
        *[r.row() for r in loads], "",
        f"- GetOffice / echo = {get.throughput / echo.throughput:.2f} (goal >= 0.50)",
        f"- CreateOffice / echo = {create.throughput / echo.throughput:.2f} (goal >= 0.25)", "",
        f"## Event delay, commit to consumer handler, {rate} events/s for {event_seconds:.0f} s", "",
        "| path | events | p50 (ms) | p99 (ms) | max (ms) | goal p99 |", "|---|---|---|---|---|---|",
        f"| in-process bus | {inproc['count']} | {inproc['p50_ms']:.1f} | {inproc['p99_ms']:.1f} | "
        f"{inproc['max_ms']:.1f} | < 50 ms |",
        f"| RabbitMQ + nameko worker | {amqp['count']} | {amqp['p50_ms']:.1f} | {amqp['p99_ms']:.1f} | "
        f"{amqp['max_ms']:.1f} | < 250 ms |", "",
    ]
    path = write_results("foundation", "\n".join(lines), {"machine": machine(), "grpc": loads,
                                                         "in_process": inproc, "rabbitmq": amqp})
    print("\n".join(lines))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
