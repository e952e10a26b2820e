"""Shared pieces of the benchmarks: a concurrent grpc.aio load loop, percentiles, servers in
subprocesses (so a server gets its own interpreter and GIL, as in production), result files."""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


@dataclass
class LoadResult:
    name: str
    requests: int
    errors: int
    seconds: float
    throughput: float
    p50_ms: float
    p99_ms: float

    def row(self) -> str:
        return (f"| {self.name} | {self.throughput:,.0f} | {self.p50_ms:.2f} | {self.p99_ms:.2f} | "
                f"{self.requests:,} | {self.errors} |")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def run_load(name: str, target: str, make_call: Callable[[grpc.aio.Channel, int], Awaitable[object]], *,
                   concurrency: int = 32, seconds: float = 8.0, warmup: float = 1.5) -> LoadResult:
    """`concurrency` callers in a loop for `seconds` after a warm-up; latency of each call in ms."""
    async with grpc.aio.insecure_channel(target) as channel:
        await channel.channel_ready()
        latencies: list[float] = []
        errors = 0
        counter = 0
        measuring = False
        stop_at = time.perf_counter() + warmup + seconds

        async def caller() -> None:
            nonlocal errors, counter
            while time.perf_counter() < stop_at:
                counter += 1
                started = time.perf_counter()
                try:
                    await make_call(channel, counter)
                except grpc.aio.AioRpcError:
                    if measuring:
                        errors += 1
                    continue
                if measuring:
                    latencies.append((time.perf_counter() - started) * 1000)

        tasks = [asyncio.create_task(caller()) for _ in range(concurrency)]
        await asyncio.sleep(warmup)
        measuring = True
        began = time.perf_counter()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    return LoadResult(name, len(latencies), errors, elapsed, len(latencies) / elapsed,
                      percentile(latencies, 0.5), percentile(latencies, 0.99))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_process(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def stop_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


def machine() -> dict[str, str]:
    return {"python": platform.python_version(), "cpu_count": str(os.cpu_count()),
            "cpu": _cpu_model(), "platform": platform.platform()}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def write_results(name: str, markdown: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d")
    path = RESULTS / f"{stamp}-{name}.md"
    path.write_text(markdown, encoding="utf-8")
    (RESULTS / f"{stamp}-{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False, default=asdict),
                                                  encoding="utf-8")
    return path


def summary(values: list[float]) -> dict[str, float]:
    return {"count": len(values), "p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99),
            "max_ms": max(values) if values else float("nan"),
            "mean_ms": statistics.fmean(values) if values else float("nan")}


def number(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:,.{digits}f}"
