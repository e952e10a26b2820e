"""`make bench`: every benchmark of the center in one run on one machine, each figure beside the two
peers measured in the same run, as ratios:

- the bare gRPC echo (bench/echo_server.py: no interceptors, no store), and
- a nameko RPC echo over RabbitMQ (bench/nameko_echo.py: eventlet-patched service and client
  processes), the way the services' workers talk.

Runs: the foundation (bench/foundation.py), then every other benchmark module present
(bench/complaints.py, bench/mobile_enforcement_draw.py, bench/gateway.py, bench/field_app.py,
bench/writes_postgres.py: each in its own process, their reports embedded), then the simulator
against the demo district: a day's mix at a rate the machine holds, and the highest rate it
sustains. The sustained ten-minute load is `make bench-soak` (bench/soak.py); its latest result is
quoted.

Writes bench/results/<date>.md and <date>.json. Environment: BENCH_SECONDS (default 8) per gRPC
load, BENCH_SIM_SECONDS (default 30) per simulator run, AMQP_URI.

`python -m bench.run --scaling` instead draws the scaling curves (bench/simulation.py, some half an
hour): districts of 14, 200 and 2,000 offices registered through the APIs by the simulator, each
loaded with the day's mix at the fixed rate and at more than the machine holds; throughput, latency
and the center's memory against the district's size, a table and a PNG per curve (matplotlib) in
bench/results/<date>-scaling.md. The latest scaling run is quoted in the report.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench import foundation
from bench.harness import RESULTS, ROOT, machine, number
from bench.nameko_echo import measure as nameko_echo
from bench.simulation import SIM_CAPACITY_CONCURRENCY, SIM_CAPACITY_RATE, SIM_RATE, run_scaling, run_simulator

AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
# The other benchmarks, run when present: module -> the results name it writes.
# The field app's Lighthouse audit (some two minutes) needs npm and Chromium: without them its section
# says why it did not run, and the rest of the report stands.
OTHERS = {"complaints": "complaints", "mobile_enforcement_draw": "mobile_enforcement", "gateway": "gateway",
          "event_contracts": "event-contracts", "field_app": "field-app", "writes_postgres": "writes-postgres"}


# ---------------------------------------------------------------- figures and ratios

def ratio(value: float | None, peer: float | None) -> str:
    if value is None or peer is None or not peer or math.isnan(value) or math.isnan(peer):
        return ""
    return f"{value / peer:.2f}"


def figures_in(data, path: str = "") -> list[dict]:
    """Every measured figure in another benchmark's JSON: a dict with a throughput or a latency
    percentile (LoadResult rows, summary() dicts), named by where it was found."""
    found: list[dict] = []
    if isinstance(data, dict):
        if "throughput" in data or "p50_ms" in data:
            found.append({"name": data.get("name") or path, "throughput": data.get("throughput"),
                          "p50_ms": data.get("p50_ms"), "p99_ms": data.get("p99_ms")})
        else:
            for key, value in data.items():
                if key != "machine":
                    found += figures_in(value, f"{path}.{key}" if path else key)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += figures_in(value, f"{path}[{index}]")
    return found


def row(source: str, name: str, throughput, p50, p99, peers: dict) -> str:
    grpc_echo, nameko = peers["grpc_echo"], peers["nameko_echo"]
    return (f"| {source} | {name} | {number(throughput, 0)} | {ratio(throughput, grpc_echo['throughput'])} | "
            f"{ratio(throughput, nameko['throughput'])} | {number(p50, 2)} | {ratio(p50, grpc_echo['p50_ms'])} | "
            f"{ratio(p50, nameko['p50_ms'])} | {number(p99, 2)} |")


# ---------------------------------------------------------------- the runs

def attempt(label: str, run, tries: int = 2) -> dict:
    """One benchmark section, each attempt in a directory of its own. A failed attempt is printed
    and kept for the report, and tried once more; a section failing every time is reported as not
    measured instead of costing the rest of the run."""
    failures: list[str] = []
    for _ in range(tries):
        with tempfile.TemporaryDirectory() as tmp:
            try:
                result = run(Path(tmp))
            except Exception as error:  # noqa: BLE001 - reported in the results, never hidden
                failures.append(f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}")
                print(f"{label} failed: {failures[-1]}", flush=True)
                continue
        return {**result, "failed_attempts": failures} if failures else result
    return {"error": "; ".join(failures)}


def run_foundation(seconds: float) -> dict:
    event_seconds = float(os.environ.get("BENCH_EVENT_SECONDS", "10"))
    with tempfile.TemporaryDirectory() as tmp:
        loads = foundation.grpc_section(Path(tmp), seconds)  # the peer's figure: no run without it
    return {"grpc": [asdict(r) for r in loads],
            "in_process": attempt("event delay, in-process", lambda work: foundation.in_process_latency(
                work, 200, event_seconds)),
            "rabbitmq": attempt("event delay, RabbitMQ", lambda work: foundation.rabbitmq_latency(
                work, 200, event_seconds))}


def run_other(module: str, name: str) -> dict:
    """Runs bench.<module> in its own process and takes its figures from the files it writes
    (bench/results/<date>-<name>.md/.json). Those files belong to that benchmark's own runs: what
    they held before is put back, and this run's figures live in this report."""
    kept = {path: path.read_bytes() for path in RESULTS.glob(f"*-{name}.*")}
    started = time.time()
    try:
        run = subprocess.run([sys.executable, "-m", f"bench.{module}"], cwd=ROOT, capture_output=True, text=True,
                             timeout=3600)
        if run.returncode != 0:
            return {"error": f"exit status {run.returncode}: {run.stderr[-1500:]}"}
        written = sorted((p for p in RESULTS.glob(f"*-{name}.json") if p.stat().st_mtime >= started - 1),
                         key=lambda p: p.stat().st_mtime)
        if not written:
            return {"error": "wrote no results"}
        data = json.loads(written[-1].read_text(encoding="utf-8"))
        markdown = written[-1].with_suffix(".md").read_text(encoding="utf-8")
        return {"data": data, "markdown": markdown, "file": written[-1].name}
    finally:
        for path in RESULTS.glob(f"*-{name}.*"):
            if path not in kept:
                path.unlink()
        for path, content in kept.items():
            path.write_bytes(content)


def latest(kind: str) -> dict | None:
    found = sorted(RESULTS.glob(f"*-{kind}.json"))
    return json.loads(found[-1].read_text(encoding="utf-8")) | {"file": found[-1].name} if found else None


# ---------------------------------------------------------------- the report

def goals(found: dict) -> list[str]:
    """Every goal set for the center's performance, met or the distance to it."""
    grpc = {r["name"]: r for r in found["foundation"]["grpc"]}
    echo = next(r for n, r in grpc.items() if n.startswith("bare echo"))
    get = next(r for n, r in grpc.items() if n.startswith("GetOffice"))
    create = next(r for n, r in grpc.items() if n.startswith("CreateOffice"))
    create_office = create["throughput"] / echo["throughput"]
    checks = [
        ("reads", "GetOffice ≥ 0.50 × echo throughput", get["throughput"] / echo["throughput"], 0.50, True),
        ("writes", "CreateOffice ≥ 0.15 × echo throughput, SQLite monolith", create_office, 0.15, True),
        ("writes", "CreateOffice ≥ 0.25 × echo throughput (the first, further goal)", create_office, 0.25, True),
        ("events", "event delay, in-process bus, p99 < 50 ms", found["foundation"]["in_process"].get("p99_ms"), 50,
         False),
        ("events", "event delay, RabbitMQ + nameko, p99 < 250 ms", found["foundation"]["rabbitmq"].get("p99_ms"), 250,
         False),
    ]
    complaints = found["others"].get("complaints", {}).get("data", {})
    if "create" in complaints and "echo" in complaints:
        create_complaint = complaints["create"]["throughput"] / complaints["echo"]["throughput"]
        checks += [("writes", "CreateComplaint ≥ 0.15 × echo throughput (its own run's echo)", create_complaint, 0.15,
                    True),
                   ("writes", "CreateComplaint ≥ 0.25 × echo throughput (the first, further goal)", create_complaint,
                    0.25, True)]
    if complaints.get("list"):
        checks.append(("reads", "ListComplaints over 100,000, one caller, p99 < 20 ms",
                       complaints["list"][0].get("p99_ms"), 20, False))
        if len(complaints["list"]) > 1 and "echo" in complaints:
            checks.append(("reads", "ListComplaints over 100,000, 8 callers ≥ 0.20 × echo throughput",
                           complaints["list"][1]["throughput"] / complaints["echo"]["throughput"], 0.20, True))
    mobile = found["others"].get("mobile_enforcement_draw", {}).get("data", {})
    record = {r["name"].split(" ")[0]: r for r in mobile.get("write_path", [])}
    if "RecordFindings" in record and "bare" in record:
        checks.append(("writes", "RecordFindings ≥ 0.15 × echo throughput (its own run's echo)",
                       record["RecordFindings"]["throughput"] / record["bare"]["throughput"], 0.15, True))
    if "draw" in mobile:
        population = f"{mobile['draw'].get('population', 0):,} entities"
        checks += [("draw", f"DrawPlan over {population} < 3 s", mobile["draw"].get("draw_plan_seconds"), 3, False),
                   ("draw", f"DrawPlan over {population}: peak RSS < 500 MB",
                    mobile["draw"].get("draw_plan_peak_rss_mb"), 500, False)]
    postgres = found["others"].get("writes_postgres", {}).get("data", {})
    for write, value in postgres.get("ratios", {}).items():
        # No goal of its own: the same writes in microservices mode on PostgreSQL, reported beside SQLite's.
        checks.append(("writes", f"{write} ÷ echo throughput, microservices on PostgreSQL", value, None, "measured"))
    gateway = found["others"].get("gateway", {}).get("data", {})
    for key, label, limit in (("propagation_monolithic", "change → SSE, monolithic, p99 < 300 ms", 300),
                              ("propagation_rabbitmq", "change → SSE, microservices, p99 < 1 s", 1000),
                              ("office_list_14", "GET /api/v1/offices, 14 offices, p99 < 10 ms", 10),
                              ("office_list_2000", "GET /api/v1/offices, 2,000 offices, p99 < 100 ms", 100)):
        if key in gateway:
            checks.append(("live index", label, gateway[key].get("p99_ms"), limit, False))
    checks += scaling_goals(found.get("scaling"))
    simulator = found["simulator"]
    checks.append(("simulator", f"day mix at {SIM_RATE:g}/s: zero errors", simulator["day_mix"].get("errors"),
                   0, None))
    lines = ["| area | goal | measured | met | distance |", "|---|---|---|---|---|"]
    for area, label, value, limit, at_least in checks:
        if value is None:
            lines.append(f"| {area} | {label} | not measured | | |")
            continue
        if at_least == "measured":  # reported, with no limit to meet
            lines.append(f"| {area} | {label} | {number(value, 2)} | measured | |")
            continue
        if at_least is None:  # a count that must be exactly the limit
            met, distance = value == limit, "" if value == limit else f"{value} errors"
            lines.append(f"| {area} | {label} | {value} | {'yes' if met else '**no**'} | {distance} |")
            continue
        elif at_least:
            met, distance = value >= limit, "" if value >= limit else f"{limit / value:.1f}x short"
        else:
            met, distance = value < limit, "" if value < limit else f"{value / limit:.1f}x over"
        lines.append(f"| {area} | {label} | {number(value, 2)} | {'yes' if met else '**no**'} | {distance} |")
    return lines


def scaling_goals(scaling: dict | None) -> list[tuple]:
    """The district-size goals, from the latest scaling run (`python -m bench.run --scaling`)."""
    points = {p["offices"]: p for p in (scaling or {}).get("points", [])}
    small, large = points.get(14), points.get(2000)
    if large is None:
        return [("scaling", "2,000 offices: registered in < 60 s", None, 60, False)]
    source = f" ({scaling['file']})"
    checks = [("scaling", "2,000 offices: registered in < 60 s" + source, large.get("bootstrap_seconds"), 60, False),
              ("scaling", "2,000 offices: the center's RSS loaded < 400 MiB" + source, large.get("rss_loaded_mb"), 400,
               False)]
    if small is not None and small["fixed"].get("p99_ms") and large["fixed"].get("p99_ms"):
        checks.append(("scaling", "p99 at 20/s, 2,000 offices ÷ 14 offices < 2" + source,
                       large["fixed"]["p99_ms"] / small["fixed"]["p99_ms"], 2, False))
    return checks


def report(found: dict, started: str) -> str:
    peers = found["peers"]
    grpc_echo, nameko = peers["grpc_echo"], peers["nameko_echo"]
    host = found["machine"]
    lines = [
        f"# Performance report, {started[:10]}", "",
        f"Command: `make bench` (`python -m bench.run`), started {started} UTC, took {found['seconds'] / 60:.1f} min.",
        "",
        f"Machine: {host['cpu_count']} × {host['cpu']}, {host['memory_gb']:.0f} GB, Python {host['python']}, "
        f"{host['platform']}. Load average {host['load_before']} before the run and {host['load_after']} after: "
        "the cores are shared with other work, so absolute figures move between runs; the ratios to the peers "
        "measured in the same run move less.", "",
        "## The peers", "",
        "| peer | req/s | p50 (ms) | p99 (ms) | requests | errors |", "|---|---|---|---|---|---|",
        f"| gRPC echo (Python grpc, no interceptors, 32 grpc.aio callers) | {number(grpc_echo['throughput'], 0)} | "
        f"{number(grpc_echo['p50_ms'], 2)} | {number(grpc_echo['p99_ms'], 2)} | {grpc_echo['requests']:,} | "
        f"{grpc_echo['errors']} |",
        f"| nameko RPC echo over RabbitMQ (16 greenthreads, ClusterRpcProxy) | {number(nameko['throughput'], 0)} | "
        f"{number(nameko['p50_ms'], 2)} | {number(nameko['p99_ms'], 2)} | {nameko['requests']:,} | "
        f"{nameko['errors']} |", "",
        "## Every figure beside the peers", "",
        "Throughput ÷ a peer's throughput (higher is better) and p50 latency ÷ a peer's p50 (lower is better).", "",
        "| benchmark | figure | req/s | ÷ gRPC echo | ÷ nameko echo | p50 (ms) | ÷ gRPC echo | ÷ nameko echo | "
        "p99 (ms) |", "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in found["foundation"]["grpc"]:
        lines.append(row("foundation", r["name"], r["throughput"], r["p50_ms"], r["p99_ms"], peers))
    for key, label in (("in_process", "event delay, in-process bus, 200 events/s"),
                       ("rabbitmq", "event delay, RabbitMQ + nameko worker, 200 events/s")):
        figure = found["foundation"][key]
        if "error" in figure:
            label += f" — not measured: {figure['error']}"
        elif figure.get("failed_attempts"):
            label += f" (second attempt; the first failed: {'; '.join(figure['failed_attempts'])})"
        lines.append(row("foundation", label, None, figure.get("p50_ms"), figure.get("p99_ms"), peers))
    for module, result in found["others"].items():
        for figure in figures_in(result.get("data", {})):
            lines.append(row(module, figure["name"], figure["throughput"], figure["p50_ms"], figure["p99_ms"], peers))
    day, capacity = found["simulator"]["day_mix"], found["simulator"]["capacity"]
    # At a fixed rate the throughput is the rate asked for: only the latency compares.
    lines.append(row("simulator", f"day mix, fixed {SIM_RATE:g}/s, all actions", None, day.get("p50_ms"),
                     day.get("p99_ms"), peers))
    lines.append(row("simulator", f"day mix, asked {SIM_CAPACITY_RATE:g}/s: sustained", capacity.get("per_second"),
                     capacity.get("p50_ms"), capacity.get("p99_ms"), peers))
    lines += ["", "## Goals", "", *goals(found), ""]
    lines += simulator_section(found["simulator"], peers)
    lines += soak_section(found.get("soak"))
    lines += scaling_section(found.get("scaling"))
    for module, result in found["others"].items():
        lines += ["", f"## bench.{module}", ""]
        if "error" in result:
            lines.append(f"Did not run: {result['error']}")
        else:
            lines.append(f"Its own report ({result['file']}), measured in this run:")
            lines.append("")
            lines += ["#" + line if line.startswith("#") else line for line in result["markdown"].splitlines()[1:]]
    return "\n".join(lines) + "\n"


def simulator_section(runs: dict, peers: dict) -> list[str]:
    day, capacity = runs["day_mix"], runs["capacity"]
    echo_p50 = peers["grpc_echo"]["p50_ms"]
    sustained = capacity.get("per_second")
    lines = ["## The simulator's load", "",
             "The demo district on a monolith of its own (`simulator.center`, SQLite, in-process events), the load "
             "generator in another process. Each action is one request (a few read a directory first).", "",
             *([f"Did not run: {day['error']}", ""] if "error" in day else []),
             f"- Day mix at {SIM_RATE:g} requests/s for {day.get('seconds', 0):.0f} s: {day.get('requests', 0):,} "
             f"requests, {day.get('errors')} errors, {number(day.get('per_second'))}/s, "
             f"p50 {number(day.get('p50_ms'))} ms, p99 {number(day.get('p99_ms'))} ms "
             f"(exit status {day.get('exit_status')}).",
             f"- Asked for {SIM_CAPACITY_RATE:g}/s with {SIM_CAPACITY_CONCURRENCY} in flight: sustained "
             f"{number(sustained)}/s, {capacity.get('errors')} errors, p50 {number(capacity.get('p50_ms'))} ms, "
             f"p99 {number(capacity.get('p99_ms'))} ms, most behind schedule "
             f"{number(capacity.get('max_lag_seconds'))} s: {ratio(sustained, peers['grpc_echo']['throughput'])} "
             f"of the gRPC echo and {ratio(sustained, peers['nameko_echo']['throughput'])} of the nameko echo "
             "(the load generator shares the two cores with the center).", "",
             f"Per action at {SIM_RATE:g}/s (gRPC echo p50 {number(echo_p50, 2)} ms):", "",
             "| action | requests | errors | p50 (ms) | p99 (ms) | p50 ÷ gRPC echo |", "|---|---|---|---|---|---|"]
    for action in day.get("actions", []):
        lines.append(f"| {action['action']} | {action['ok']} | {action['errors']} | {number(action['p50_ms'], 2)} | "
                     f"{number(action['p99_ms'], 2)} | {ratio(action['p50_ms'], echo_p50)} |")
    return [*lines, ""]


def soak_section(soak: dict | None) -> list[str]:
    if soak is None:
        return ["## Sustained load", "", "Not run yet: `make bench-soak` (ten minutes) writes it.", ""]
    return ["## Sustained load (latest `make bench-soak`)", "",
            f"From {soak['file']}: {soak['minutes']:.0f} min at {soak['rate']:g} requests/s, {soak['requests']:,} "
            f"requests, {soak['errors']} errors; the center's RSS {soak['rss_after_warmup_mb']:.0f} MiB after warm-up, "
            f"{soak['rss_end_mb']:.0f} MiB at the end ({soak['rss_slope_mb_per_min']:+.2f} MiB/min after warm-up): "
            f"{soak['verdict']}.", ""]


def scaling_section(scaling: dict | None) -> list[str]:
    if scaling is None:
        return ["## Scaling with the district", "",
                "Not run yet: `python -m bench.run --scaling` draws the curves.", ""]
    lines = ["## Scaling with the district (latest `python -m bench.run --scaling`)", "",
             f"From {scaling['file']} ({scaling['started']} UTC):", "",
             "| offices | sustained req/s | p50 / p99 at 20/s (ms) | center RSS loaded (MiB) |", "|---|---|---|---|"]
    for p in scaling["points"]:
        fixed, capacity = p["fixed"], p["capacity"]
        lines.append(f"| {p['offices']:,} | {number(capacity.get('per_second'))} | {number(fixed.get('p50_ms'))} / "
                     f"{number(fixed.get('p99_ms'))} | {number(p['rss_loaded_mb'], 0)} |")
    return [*lines, "", *[f"![{png}]({png})" for png in scaling.get("plots", [])], ""]


def host() -> dict:
    memory = 0.0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) / 1024 / 1024
    return {**machine(), "memory_gb": memory, "load_before": _load()}


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scaling", action="store_true", help="draw the scaling curves instead (some half an hour)")
    args = parser.parse_args()
    seconds = float(os.environ.get("BENCH_SECONDS", "8"))
    sim_seconds = float(os.environ.get("BENCH_SIM_SECONDS", "30"))
    if args.scaling:
        run_scaling(sim_seconds)
        return
    started_at = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    started = time.monotonic()
    found: dict = {"machine": host()}
    print("foundation (gRPC echo, GetOffice, CreateOffice, event delays)...", flush=True)
    found["foundation"] = run_foundation(seconds)
    print("nameko RPC echo...", flush=True)
    found["peers"] = {"grpc_echo": next(r for r in found["foundation"]["grpc"] if r["name"].startswith("bare echo")),
                      "nameko_echo": nameko_echo(AMQP_URI, seconds)}
    found["others"] = {}
    for module, name in OTHERS.items():
        if (ROOT / "bench" / f"{module}.py").exists():
            print(f"bench.{module}...", flush=True)
            found["others"][module] = run_other(module, name)
    print("simulator...", flush=True)
    try:
        found["simulator"] = run_simulator(sim_seconds)
    except Exception as error:  # noqa: BLE001 - reported in the results: the other figures still count
        failed = {"error": f"{type(error).__name__}: {error}"[:2000]}
        found["simulator"] = {"day_mix": failed, "capacity": failed}
    found["soak"] = latest("soak")
    found["scaling"] = latest("scaling")
    found["machine"]["load_after"] = _load()
    found["seconds"] = time.monotonic() - started
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = started_at[:10]
    text = report(found, started_at)
    (RESULTS / f"{stamp}.md").write_text(text, encoding="utf-8")
    (RESULTS / f"{stamp}.json").write_text(json.dumps(found, indent=2, ensure_ascii=False, default=str),
                                           encoding="utf-8")
    print(text)
    print(f"written to {RESULTS / f'{stamp}.md'}")


if __name__ == "__main__":
    main()

