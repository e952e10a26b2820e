"""The district live score with and without its cache of the sources' answers, in one run.

Five real IndicatorSource servers (the product's servicer and server, each on a SQLite store holding
every catalogue indicator of its source for OFFICES offices) and assessment's real gRPC API, built
by services.assessment.service.build. Variants, each against the same sources:
- no cache (LIVE_SCORE_CACHE_SECONDS=0, what every request did before): every request asks every
  source for every office;
- cache (the default 5 s): requests within the TTL reuse one round;
- cache with one office changed before every request (the worker applied an IndicatorsChanged of a
  new version, stored as assessment's worker stores it): each request asks that office again.
Measured: ListIndicators calls answered by the sources per district request, and the latency of
GetLiveScore (p50 / p99), the first request included. Usage: python -m bench.live_score_cache
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from pathlib import Path

import grpc
from prometheus_client import REGISTRY

from bench.harness import machine, write_results
from services.assessment.domain.catalogue import Catalogue
from services.assessment.domain.live_values import advance_mark
from services.common import migrate
from services.common.config import Settings
from services.common.db import Store
from services.common.grpc_server import RunningServer, start_server
from services.common.indicator_source import IndicatorSourceServicer
from supervision.assessment.v1 import assessment_pb2 as pb
from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc
from supervision.common.v1 import indicators_pb2_grpc

REQUESTS = int(os.environ.get("BENCH_LIVE_SCORE_REQUESTS", "300"))
OFFICES = int(os.environ.get("BENCH_LIVE_SCORE_OFFICES", "20"))
SOURCES = ("command_center", "mobile_enforcement", "complaints", "emergency", "facilities")
SETTINGS = {"LOG_FORMAT": "text", "DEMO_DATA": "false", "SWEEP_INTERVAL_SECONDS": "3600"}


def source_calls() -> float:
    """ListIndicators calls answered by every server of this process so far."""
    return REGISTRY.get_sample_value("grpc_server_started_total", {
        "grpc_type": "unary", "grpc_service": "supervision.common.v1.IndicatorSource",
        "grpc_method": "ListIndicators"}) or 0.0


def start_source(work: Path, source: str, keys: list[str]) -> tuple[RunningServer, Store, type]:
    """One service's IndicatorSource on a store holding every office's readings of `keys`."""
    import importlib

    models = importlib.import_module(f"services.{source}.models")
    store = Store(f"sqlite:///{work / (source + '.db')}")
    models.Base.metadata.create_all(store.engine)
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as session:
        for office in range(OFFICES):
            for index, key in enumerate(keys):
                session.add(models.IndicatorSnapshot(office_id=f"MH{office:02d}", key=key, numerator=index + office,
                                                     denominator=index + office + 3, version=1, as_of=now))
    server = start_server([(indicators_pb2_grpc.add_IndicatorSourceServicer_to_server,
                            IndicatorSourceServicer(store, models.IndicatorSnapshot))],
                          ["supervision.common.v1.IndicatorSource"], Settings.from_env(SETTINGS), 0, host="127.0.0.1")
    return server, store, models.IndicatorSnapshot


def start_assessment(work: Path, name: str, addresses: str, cache_seconds: str) -> tuple[RunningServer, Store]:
    """assessment's API as `serve` runs it, asking the given sources."""
    from services.assessment.service import build

    os.environ["INDICATOR_SOURCES"] = addresses
    settings = Settings.from_env({**SETTINGS, "LIVE_SCORE_CACHE_SECONDS": cache_seconds})
    store = Store(f"sqlite:///{work / (name + '.db')}")
    runtime = build(settings, store)
    migrate.upgrade("assessment", runtime.migrations_dir, store.url)
    return start_server(runtime.grpc_registrations(), runtime.grpc_service_names, settings, 0,
                        host="127.0.0.1"), store


def measure(port: int, before_each=None) -> dict[str, float]:
    """GetLiveScore of the district REQUESTS times: latency and source calls per request."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        scores = pb_grpc.ScoreServiceStub(channel)
        grpc.channel_ready_future(channel).result(timeout=10)
        calls_before = source_calls()
        began = time.perf_counter()
        latencies = []
        for n in range(REQUESTS):
            if before_each is not None:
                before_each(n)
            started = time.perf_counter()
            scores.GetLiveScore(pb.GetLiveScoreRequest(), timeout=10)
            latencies.append((time.perf_counter() - started) * 1000)
        calls = source_calls() - calls_before
        seconds = time.perf_counter() - began
    latencies.sort()
    return {"requests": REQUESTS, "seconds": seconds, "source_calls": calls, "calls_per_request": calls / REQUESTS,
            "p50_ms": statistics.median(latencies), "p99_ms": latencies[int(0.99 * (len(latencies) - 1))],
            "mean_ms": statistics.fmean(latencies)}


def run(work: Path) -> dict:
    catalogue = Catalogue.load()
    sources = {}
    for source in SOURCES:
        keys = sorted(key for key, info in catalogue.indicators.items() if info.source == source)
        sources[source] = start_source(work, source, keys)
    addresses = ",".join(f"{source}=127.0.0.1:{server.port}" for source, (server, _, _) in sources.items())
    results = {}
    try:
        plain, _ = start_assessment(work, "plain", addresses, "0")
        cached, cached_store = start_assessment(work, "cached", addresses, "5")
        results["no cache"] = measure(plain.port)
        results["cache"] = measure(cached.port)

        _, center_store, snapshot = sources["command_center"]

        def one_office_changed(n: int) -> None:
            # What a change does: the source's snapshot moves, and the worker applies its event.
            version = n + 2
            with center_store.transaction() as session:
                for row in session.query(snapshot).filter(snapshot.office_id == "MH00"):
                    row.numerator, row.version = row.numerator + 1, version
            with cached_store.transaction() as session:
                advance_mark(session, "command_center", "MH00", version)

        results["cache, one office changed before each request"] = measure(cached.port, one_office_changed)
        for server in (plain, cached):
            server.server.stop(0).wait()
    finally:
        for server, store, _ in sources.values():
            server.server.stop(0).wait()
            store.dispose()
    return results


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        found = run(Path(tmp))
    info = machine()
    lines = [f"# District live score: sources' answers cached or not ({time.strftime('%Y-%m-%d')})", "",
             f"Machine: {info['cpu']} ({info['cpu_count']} cores), Python {info['python']}. Five real "
             f"IndicatorSource servers ({OFFICES} offices, every catalogue indicator of each source) and "
             f"assessment's gRPC API on 127.0.0.1, SQLite stores; {REQUESTS} sequential district "
             "GetLiveScore calls per variant, one run, all variants in the same process.", "",
             "| variant | run (s) | source calls in all | per request | p50 ms | p99 ms | mean ms |",
             "|---|---|---|---|---|---|---|"]
    for variant, row in found.items():
        lines.append(f"| {variant} | {row['seconds']:.1f} | {row['source_calls']:.0f} | {row['calls_per_request']:.3f} "
                     f"| {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {row['mean_ms']:.2f} |")
    lines += ["", "The first request of each variant opens the channels to the sources. With the cache, a run "
              "longer than LIVE_SCORE_CACHE_SECONDS (5 s) takes one whole round per 5 s; an office changed "
              "since the last round is asked of every source alone (office_ids=[that office])."]
    path = write_results("live-score-cache", "\n".join(lines) + "\n", {"machine": info, "variants": found})
    print(path.read_text())


if __name__ == "__main__":
    main()
