"""The gateway's benchmarks, in one run on one machine, servers in their own processes:

- Propagation from a committed change (an officer's certificate in command_center) to an SSE
  client of /api/v1/stream: monolithic mode (in-process bus; goal p99 < 300 ms) and microservices
  mode (command_center's and the gateway's `serve` processes, RabbitMQ; goal p99 < 1 s).
- GET /api/v1/offices: 14 offices (goal p99 < 10 ms) and 2,000 synthetic offices (< 100 ms).
- One gateway process holding 1,000 concurrent stream clients, every client receiving every change.

Usage: python -m bench.gateway   (writes bench/results/<date>-gateway.md and .json)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import grpc
import yaml
from google.protobuf.field_mask_pb2 import FieldMask
from google.type import date_pb2

from bench.harness import free_port, machine, percentile, start_process, stop_process, summary, write_results
from supervision.command_center.v1 import command_center_pb2 as pb
from supervision.command_center.v1 import command_center_pb2_grpc as pb_grpc

ROOT = Path(__file__).resolve().parent.parent
AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
DISTRICT = yaml.safe_load((ROOT / "services/command_center/demo/district.yaml").read_text(encoding="utf-8"))
GROUPS = (pb.GROUP_KIND_GENERAL, pb.GROUP_KIND_SUPERVISION, pb.GROUP_KIND_CASE_HANDLING,
          pb.GROUP_KIND_COMPLAINT_HANDLING)
SYNTHETIC_OFFICES = 2000
STREAM_CLIENTS = 1000
# Callers of the office list at once: client and server share the machine's two cores.
LIST_CONCURRENCY = 4


# ---------------------------------------------------------------- servers (subprocesses)


def serve_district(data_dir: str, center_port: int, gateway_port: int, http_port: int) -> None:
    """command_center and the gateway in one process with the in-process bus: monolithic mode."""
    from services.command_center import service as center_service
    from services.common import logs, migrate
    from services.common.bus import InProcessBus
    from services.common.config import Settings
    from services.common.db import Store, sqlite_url
    from services.common.grpc_server import wait_for_termination_signal
    from services.common.hosting import HostedService
    from services.gateway import service as gateway_service

    settings = Settings.from_env({"DATA_DIR": data_dir, "LOG_LEVEL": "WARNING", "LOG_FORMAT": "text",
                                  "GRPC_WORKERS": "16"})
    logs.configure("WARNING", "text")
    bus = InProcessBus()
    hosts = []
    for module, port in ((center_service, center_port), (gateway_service, gateway_port)):
        store = Store(sqlite_url(data_dir, module.NAME))
        runtime = module.build(settings, store)
        migrate.upgrade(module.NAME, runtime.migrations_dir, store.url)
        bus.subscribe(runtime.consumer(), runtime.subscriptions)
        if module is gateway_service:
            hosts.append(module.hosted(runtime, settings, bus, port=port, host="127.0.0.1", http_port=http_port,
                                       peers=hosts))
        else:
            hosts.append(HostedService(runtime, settings, bus, port=port, host="127.0.0.1"))
    for hosted in hosts:
        hosted.start()
    wait_for_termination_signal()
    for hosted in reversed(hosts):
        hosted.stop(1)


def serve_synthetic(data_dir: str, http_port: int, offices: int) -> None:
    """The gateway alone, its live index filled with `offices` synthetic offices."""
    import random

    from services.common import logs, migrate
    from services.common.bus import InProcessBus
    from services.common.config import Settings
    from services.common.db import Store, sqlite_url
    from services.common.grpc_server import wait_for_termination_signal
    from services.gateway import service as gateway_service

    settings = Settings.from_env({"DATA_DIR": data_dir, "LOG_LEVEL": "WARNING", "LOG_FORMAT": "text"})
    logs.configure("WARNING", "text")
    store = Store(sqlite_url(data_dir, "gateway"))
    runtime = gateway_service.build(settings, store)
    migrate.upgrade("gateway", runtime.migrations_dir, store.url)
    live = runtime.parts.monitor.live
    rules = live.scheme.scheme.indicators
    chance = random.Random(8)
    live.name_offices({f"S{n:04d}": f"合成{n:04d}所" for n in range(offices)})
    for source in sorted({rule.source for rule in rules}):
        answer = {}
        for n in range(offices):
            readings = [(r.key, float(chance.randint(0, 20)), 20.0) for r in rules if r.source == source]
            answer[f"S{n:04d}"] = (1, readings, None)
        live.apply_answer(source, answer)
    # The first history of 2,000 offices is written before serving, so it does not weigh on the measurement.
    runtime.parts.recorder.flush()
    hosted = gateway_service.hosted(runtime, settings, InProcessBus(), port=0, host="127.0.0.1", http_port=http_port,
                                    run_timers=False, sources={})
    hosted.start()
    wait_for_termination_signal()
    hosted.stop(1)


def start_server(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return start_process(["-m", "bench.gateway", "serve", *args], env=env)


async def wait_ready(http_port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {process.stderr.read()[-3000:]}")
            try:
                async with session.get(f"http://127.0.0.1:{http_port}/readyz") as reply:
                    if reply.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError("the gateway did not get ready")


# ---------------------------------------------------------------- the district's changes


def date(value: dt.date) -> date_pb2.Date:
    return date_pb2.Date(year=value.year, month=value.month, day=value.day)


def populate(center_port: int) -> list[str]:
    """The 14 demo offices, one certified officer per group and one officer whose certificate the
    benchmark toggles (valid / expired): each toggle moves the office's index."""
    today = dt.date.today()
    with grpc.insecure_channel(f"127.0.0.1:{center_port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        offices, officers = pb_grpc.OfficeServiceStub(channel), pb_grpc.OfficerServiceStub(channel)
        for office in DISTRICT["offices"]:
            offices.CreateOffice(pb.CreateOfficeRequest(request_id=f"bench-{office['id']}", office=pb.Office(
                id=office["id"], name=office["name"], district=DISTRICT["district"], streets=office["streets"])))
            for seat, group in enumerate((*GROUPS, GROUPS[1]), start=1):
                officers.RegisterOfficer(pb.RegisterOfficerRequest(
                    request_id=f"bench-{office['id']}-{seat}", officer=pb.Officer(
                        id=f"{office['id']}-B{seat}", name="测试", office_id=office["id"], group=group,
                        certificate_no=f"B{office['id']}{seat}", certificate_expires=date(today + dt.timedelta(200)))))
    return [office["id"] for office in DISTRICT["offices"]]


class Toggler:
    """Moves one office's index per call, through command_center's gRPC API. `valid` remembers each
    toggled certificate's state across the phases that use one server."""

    def __init__(self, center_port: int, valid: dict[str, bool]):
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{center_port}")
        self.officers = pb_grpc.OfficerServiceStub(self.channel)
        self.valid = valid

    async def toggle(self, office_id: str) -> None:
        valid = not self.valid.get(office_id, True)
        self.valid[office_id] = valid
        expires = dt.date.today() + dt.timedelta(days=200 if valid else -30)
        await self.officers.UpdateOfficer(pb.UpdateOfficerRequest(
            officer=pb.Officer(id=f"{office_id}-B5", certificate_expires=date(expires)),
            update_mask=FieldMask(paths=["certificate_expires"])))

    async def close(self) -> None:
        await self.channel.close()


class StreamClient:
    """One SSE client: notes when each office event arrives."""

    def __init__(self, session: aiohttp.ClientSession, url: str):
        self.session, self.url = session, url
        self.ready = asyncio.Event()
        self.arrivals: dict[str, list[float]] = {}
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async with self.session.get(self.url, timeout=aiohttp.ClientTimeout(total=None)) as reply:
            event = b""
            async for line in reply.content:
                if line.startswith(b"event: "):
                    event = line[7:].strip()
                elif line.startswith(b"data: "):
                    if event == b"snapshot":
                        self.ready.set()
                    elif event == b"office":
                        start = line.find(b'"office_id":"') + 13
                        office = line[start:line.find(b'"', start)].decode()
                        self.arrivals.setdefault(office, []).append(time.perf_counter())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


async def propagation(center_port: int, http_port: int, offices: list[str], changes: int,
                      valid: dict[str, bool]) -> list[float]:
    """Time from the call that commits a change to its office event on an SSE client, in ms."""
    async with aiohttp.ClientSession() as session:
        client = StreamClient(session, f"http://127.0.0.1:{http_port}/api/v1/stream")
        client.start()
        await asyncio.wait_for(client.ready.wait(), 30)
        toggler = Toggler(center_port, valid)
        latencies = []
        try:
            for n in range(changes + 10):
                office = offices[n % len(offices)]
                seen = len(client.arrivals.get(office, []))
                started = time.perf_counter()
                await toggler.toggle(office)
                deadline = started + 10
                while len(client.arrivals.get(office, [])) <= seen:
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"no office event for {office}")
                    await asyncio.sleep(0.001)
                if n >= 10:  # the first changes warm connections and caches
                    latencies.append((client.arrivals[office][seen] - started) * 1000)
                await asyncio.sleep(0.02)
        finally:
            await toggler.close()
            await client.stop()
    return latencies


async def office_list(http_port: int, query: str, seconds: float, concurrency: int) -> dict:
    url = f"http://127.0.0.1:{http_port}/api/v1/offices{query}"
    latencies: list[float] = []
    sizes: list[int] = []
    stop_at = time.perf_counter() + 1 + seconds
    measuring = False
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        async def caller() -> None:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                async with session.get(url) as reply:
                    body = await reply.read()
                    if reply.status != 200:
                        raise RuntimeError(f"office list answered {reply.status}")
                sizes.append(len(body))
                if measuring:
                    latencies.append((time.perf_counter() - started) * 1000)

        tasks = [asyncio.create_task(caller()) for _ in range(concurrency)]
        await asyncio.sleep(1)
        measuring = True
        await asyncio.gather(*tasks)
    return {**summary(latencies), "throughput": len(latencies) / seconds, "bytes": sizes[-1]}


async def many_streams(center_port: int, http_port: int, offices: list[str], clients: int, changes: int,
                       valid: dict[str, bool]) -> dict:
    """`clients` streams at once; each change must reach every one of them."""
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        streams = [StreamClient(session, f"http://127.0.0.1:{http_port}/api/v1/stream") for _ in range(clients)]
        for stream in streams:
            stream.start()
        await asyncio.wait_for(asyncio.gather(*(s.ready.wait() for s in streams)), 120)
        toggler = Toggler(center_port, valid)
        latencies: list[float] = []
        received = 0
        try:
            for n in range(changes):
                office = offices[n % len(offices)]
                seen = [len(s.arrivals.get(office, [])) for s in streams]
                started = time.perf_counter()
                await toggler.toggle(office)
                deadline = started + 20
                while any(len(s.arrivals.get(office, [])) <= k for s, k in zip(streams, seen, strict=True)):
                    if time.perf_counter() > deadline:
                        break
                    await asyncio.sleep(0.005)
                for stream, k in zip(streams, seen, strict=True):
                    arrivals = stream.arrivals.get(office, [])
                    if len(arrivals) > k:
                        received += 1
                        latencies.append((arrivals[k] - started) * 1000)
                await asyncio.sleep(0.2)
        finally:
            await toggler.close()
            await asyncio.gather(*(s.stop() for s in streams))
    return {**summary(latencies), "clients": clients, "changes": changes, "deliveries": received,
            "expected": clients * changes}


# ---------------------------------------------------------------- the run


def monolithic(work: Path, changes: int, list_seconds: float) -> tuple[list[float], dict, dict]:
    center_port, gateway_port, http_port = free_port(), free_port(), free_port()
    server = start_server("district", str(work / "mono"), str(center_port), str(gateway_port), str(http_port))
    try:
        asyncio.run(wait_ready(http_port, server))
        offices, valid = populate(center_port), {}
        latencies = asyncio.run(propagation(center_port, http_port, offices, changes, valid))
        listing = asyncio.run(office_list(http_port, "", list_seconds, concurrency=LIST_CONCURRENCY))
        streams = asyncio.run(many_streams(center_port, http_port, offices, STREAM_CLIENTS, 20, valid))
        return latencies, listing, streams
    finally:
        stop_process(server)


def synthetic(work: Path, list_seconds: float) -> dict:
    http_port = free_port()
    server = start_server("synthetic", str(work / "synthetic"), str(http_port), str(SYNTHETIC_OFFICES))
    try:
        asyncio.run(wait_ready(http_port, server))
        return asyncio.run(office_list(http_port, f"?page_size={SYNTHETIC_OFFICES}", list_seconds,
                                       concurrency=LIST_CONCURRENCY))
    finally:
        stop_process(server)


def microservices(work: Path, changes: int) -> list[float]:
    """command_center `serve` and gateway `serve`, each in its own process, events through RabbitMQ."""
    center_port, gateway_port, http_port = free_port(), free_port(), free_port()
    (work / "micro").mkdir()
    common = {"AMQP_URI": AMQP_URI, "LOG_LEVEL": "WARNING", "LOG_FORMAT": "text", "DEMO_DATA": "false"}
    center_env = {**common, "DATABASE_URL": f"sqlite:///{work / 'micro/command_center.db'}",
                  "GRPC_PORT": str(center_port), "METRICS_PORT": str(free_port())}
    gateway_env = {**common, "DATABASE_URL": f"sqlite:///{work / 'micro/gateway.db'}", "GRPC_PORT": str(gateway_port),
                   "HTTP_PORT": str(http_port), "METRICS_PORT": str(free_port()),
                   "INDICATOR_SOURCES": f"command_center=127.0.0.1:{center_port}"}
    for service, env in (("command_center", center_env), ("gateway", gateway_env)):
        subprocess.run([sys.executable, "-m", f"services.{service}", "migrate"], cwd=ROOT, check=True,
                       env={**os.environ, **env}, capture_output=True)
    center = start_process(["-m", "services.command_center", "serve"], env=center_env)
    gateway = start_process(["-m", "services.gateway", "serve"], env=gateway_env)
    try:
        asyncio.run(wait_ready(http_port, gateway))
        return asyncio.run(propagation(center_port, http_port, populate(center_port), changes, {}))
    finally:
        stop_process(gateway)
        stop_process(center)


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    load = os.getloadavg()[0]  # the machine is shared: what else ran shows here
    changes = int(os.environ.get("BENCH_CHANGES", "200"))
    list_seconds = float(os.environ.get("BENCH_SECONDS", "6"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        mono, listing, streams = monolithic(work, changes, list_seconds)
        many = synthetic(work, list_seconds)
        micro = microservices(work, changes)
    mono_s, micro_s = summary(mono), summary(micro)
    lines = [
        "# Gateway benchmarks", "",
        f"Command: `python -m bench.gateway`; {time.strftime('%Y-%m-%d %H:%M UTC')}.",
        f"Machine: {machine()}; load average at start {load:.1f} (2 cores, shared with other work).", "",
        "Servers run in their own processes; clients (aiohttp, grpc.aio) in the benchmark's process.", "",
        "## Propagation: committed change -> SSE client", "",
        "A change is an officer's certificate toggled through command_center's UpdateOfficer; measured from the",
        "call to the `office` event of that office on an open /api/v1/stream (commit, indicator refresh,",
        f"outbox relay, transport, live index, stream). {changes} changes, one at a time, after 10 for warm-up.", "",
        "| mode | changes | p50 (ms) | p99 (ms) | max (ms) | goal p99 |", "|---|---|---|---|---|---|",
        f"| monolithic (in-process bus) | {mono_s['count']} | {mono_s['p50_ms']:.1f} | {mono_s['p99_ms']:.1f} | "
        f"{mono_s['max_ms']:.1f} | < 300 ms |",
        f"| microservices (RabbitMQ, two `serve` processes) | {micro_s['count']} | {micro_s['p50_ms']:.1f} | "
        f"{micro_s['p99_ms']:.1f} | {micro_s['max_ms']:.1f} | < 1000 ms |", "",
        "## Office list (GET /api/v1/offices)", "",
        "| offices | concurrency | req/s | p50 (ms) | p99 (ms) | body (bytes) | goal p99 |",
        "|---|---|---|---|---|---|---|",
        f"| 14 (demo district) | {LIST_CONCURRENCY} | {listing['throughput']:,.0f} | {listing['p50_ms']:.2f} | "
        f"{listing['p99_ms']:.2f} | {listing['bytes']:,} | < 10 ms |",
        f"| {SYNTHETIC_OFFICES:,} (synthetic) | {LIST_CONCURRENCY} | {many['throughput']:,.0f} | "
        f"{many['p50_ms']:.2f} | {many['p99_ms']:.2f} | {many['bytes']:,} | < 100 ms |", "",
        f"## {STREAM_CLIENTS:,} concurrent stream clients on one gateway process", "",
        f"{streams['changes']} changes, 0.2 s apart; every client must receive every change.", "",
        "| clients | changes | deliveries | expected | p50 (ms) | p99 (ms) | max (ms) |",
        "|---|---|---|---|---|---|---|",
        f"| {streams['clients']:,} | {streams['changes']} | {streams['deliveries']:,} | {streams['expected']:,} | "
        f"{streams['p50_ms']:.1f} | {streams['p99_ms']:.1f} | {streams['max_ms']:.1f} |", "",
        "The fan-out latency is measured from the change's call to each client's receipt, in one client process",
        "that parses all the streams: it includes that client's own queueing.", "",
    ]
    data = {"machine": machine(), "load_average": load, "propagation_monolithic": mono_s,
            "propagation_rabbitmq": micro_s,
            "office_list_14": listing, f"office_list_{SYNTHETIC_OFFICES}": many, "streams": streams,
            "p90_monolithic_ms": percentile(mono, 0.9), "p90_rabbitmq_ms": percentile(micro, 0.9)}
    path = write_results("gateway", "\n".join(lines), data)
    print("\n".join(lines))
    print(f"written to {path}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        mode, arguments = sys.argv[2], sys.argv[3:]
        if mode == "district":
            serve_district(arguments[0], int(arguments[1]), int(arguments[2]), int(arguments[3]))
        else:
            serve_synthetic(arguments[0], int(arguments[1]), int(arguments[2]))
    else:
        main()
