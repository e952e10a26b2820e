"""The simulator as a benchmark: the day's mix against the demo district at a fixed rate
and at more than the machine holds (`make bench`), and the scaling curves (`python -m bench.run
--scaling`): districts of 14, 200 and 2,000 offices registered through the APIs, each loaded the
same way; throughput, latency and the center's memory against the district's size."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import RESULTS, ROOT, machine, number
from simulator.center import Center

SIM_RATE = 20.0            # the smoke test's rate: comfortably held on two shared cores
SIM_CAPACITY_RATE = 400.0  # more than the machine holds: what it sustains is the figure
SIM_CAPACITY_CONCURRENCY = 64


SCALES = (14, 200, 2000)
# How long a registered district's events may take to reach every service before the point is
# given up (the registration itself is not bounded).
SETTLE_SECONDS = 1200


def simulate(addresses, *arguments: str, timeout: float) -> dict:
    """One run of the simulator against a started center; its JSON summary."""
    ports = [f"--port={name}={address.rpartition(':')[2]}" for name, address in addresses.grpc.items()]
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        # --metrics: the registration waits on this center's event counters until every officer is
        # delivered; without it the simulator read the default port and waited a fixed 5 s instead.
        run = subprocess.run([sys.executable, "-m", "simulator", *ports, f"--http={addresses.http}",
                              f"--metrics={addresses.metrics}", "--seed", "1",
                              "--quiet", "--json", out.name, *arguments], cwd=ROOT, capture_output=True, text=True,
                             timeout=timeout)
        summary = json.loads(Path(out.name).read_text() or "{}")
    summary["exit_status"] = run.returncode
    if run.returncode:  # what went wrong, for the report: the error samples or the end of the log
        summary["failure"] = run.stdout[-3000:] + run.stderr[-3000:]
    return summary


def run_simulator(seconds: float) -> dict:
    """The simulator against the demo district on a center of its own: the day's mix at SIM_RATE,
    then at SIM_CAPACITY_RATE to find what the machine sustains."""
    center = Center("temp", demo=True)
    addresses = center.start()
    try:
        return {label: simulate(addresses, "--rate", str(rate), "--duration", str(seconds), "--concurrency",
                                str(concurrency), timeout=seconds + 600)
                for label, rate, concurrency in (("day_mix", SIM_RATE, 16),
                                                 ("capacity", SIM_CAPACITY_RATE, SIM_CAPACITY_CONCURRENCY))}
    finally:
        center.stop()


def scaling_point(offices: int, seconds: float) -> dict:
    """A fresh center without the demo, `offices` offices registered through the APIs (officers,
    readers, businesses), then the day mix at SIM_RATE and at SIM_CAPACITY_RATE."""
    center = Center("temp", demo=False)
    addresses = center.start()
    try:
        idle_mb = center.rss_mb()
        started = time.monotonic()
        fixed = simulate(addresses, "--bootstrap-offices", str(offices), "--settle-timeout", str(SETTLE_SECONDS),
                         "--rate", str(SIM_RATE), "--duration", str(seconds),
                         timeout=seconds + 3 * SETTLE_SECONDS + 3600)
        after_bootstrap_mb = center.rss_mb()
        if fixed["exit_status"] and "requests" not in fixed:
            # The district never reached every service: a load now would only measure that.
            return {"offices": offices, "district": None, "bootstrap_seconds": None,
                    "gave_up_after_seconds": time.monotonic() - started, "failures": [fixed.get("failure", "")],
                    "rss_idle_mb": idle_mb, "rss_loaded_mb": after_bootstrap_mb, "rss_end_mb": center.rss_mb(),
                    "fixed": {}, "capacity": {}}
        capacity = simulate(addresses, "--rate", str(SIM_CAPACITY_RATE), "--duration", str(seconds),
                            "--concurrency", str(SIM_CAPACITY_CONCURRENCY), timeout=seconds + 600)
        return {"offices": offices, "district": fixed.get("district"),
                "bootstrap_seconds": fixed.get("bootstrap_seconds"),
                "failures": [run["failure"] for run in (fixed, capacity) if "failure" in run],
                "rss_idle_mb": idle_mb, "rss_loaded_mb": after_bootstrap_mb, "rss_end_mb": center.rss_mb(),
                "fixed": {k: fixed.get(k) for k in ("per_second", "p50_ms", "p99_ms", "errors", "requests")},
                "capacity": {k: capacity.get(k) for k in ("per_second", "p50_ms", "p99_ms", "errors", "requests")}}
    finally:
        center.stop()


def plot(points: list[dict], name: str, ylabel: str, series: dict[str, list[float]], stamp: str) -> str:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(6, 4))
    offices = [p["offices"] for p in points]
    for label, values in series.items():
        axes.plot(offices, [math.nan if v is None else v for v in values], marker="o", label=label)
    for index, point in enumerate(points):
        missing = any(values[index] is None for values in series.values())
        if missing and point.get("gave_up_after_seconds") is not None:  # no figure: say why on the plot
            axes.annotate(f"not measured:\nthe district's events\ndid not reach every\nservice in "
                          f"{SETTLE_SECONDS / 60:.0f} min", (point["offices"], 0), textcoords="offset points",
                          xytext=(-50, 20), fontsize=8)
    axes.set_xscale("log")
    axes.set_xticks(offices, [f"{n:,}" for n in offices])
    axes.set_xlabel("offices in the district")
    axes.set_ylabel(ylabel)
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    axes.legend()
    axes.set_title(name)
    path = RESULTS / f"{stamp}-scaling-{name.split(':')[0].replace(' ', '-')}.png"
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return path.name


def run_scaling(seconds: float) -> None:
    started_at = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    stamp = started_at[:10]
    points = []
    for offices in SCALES:
        print(f"scaling: {offices} offices...", flush=True)
        points.append(scaling_point(offices, seconds))
    pngs = [
        plot(points, "throughput: sustained requests per second", "requests/s",
             {f"asked {SIM_CAPACITY_RATE:g}/s, sustained": [p["capacity"].get("per_second") for p in points]}, stamp),
        plot(points, "latency: the day mix at a fixed rate", "ms",
             {f"p50 at {SIM_RATE:g}/s": [p["fixed"].get("p50_ms") for p in points],
              f"p99 at {SIM_RATE:g}/s": [p["fixed"].get("p99_ms") for p in points]}, stamp),
        plot(points, "memory: the center's resident set", "MiB",
             {"idle, empty": [p["rss_idle_mb"] for p in points],
              "district registered and loaded": [p["rss_loaded_mb"] for p in points],
              "after the capacity run": [p["rss_end_mb"] for p in points]}, stamp),
    ]
    lines = [f"# Scaling with the district, {stamp}", "",
             f"Command: `python -m bench.run --scaling`, started {started_at} UTC. Machine: {machine()}.", "",
             "Each district registered through the public APIs by the simulator (`--bootstrap-offices`: offices, "
             "eight certified officers each, two rapid-test readers, businesses where mobile_enforcement runs) on a "
             f"fresh monolith (SQLite), then the day's mix for {seconds:g} s at {SIM_RATE:g}/s and at "
             f"{SIM_CAPACITY_RATE:g}/s ({SIM_CAPACITY_CONCURRENCY} in flight).", "",
             "| offices | district | registering, until every service knows it (s) | sustained req/s | errors "
             "| p50 at 20/s (ms) | p99 at 20/s (ms) "
             "| p99 at capacity (ms) | RSS idle / loaded / end (MiB) |", "|---|---|---|---|---|---|---|---|---|"]
    for p in points:
        errors = (p["fixed"].get("errors") or 0) + (p["capacity"].get("errors") or 0)
        registering = (number(p["bootstrap_seconds"]) if p.get("bootstrap_seconds") is not None
                       else f"gave up after {number(p.get('gave_up_after_seconds'), 0)}")
        lines.append(f"| {p['offices']:,} | {p['district']} | {registering} | "
                     f"{number(p['capacity'].get('per_second'))} | {errors} | {number(p['fixed'].get('p50_ms'))} | "
                     f"{number(p['fixed'].get('p99_ms'))} | {number(p['capacity'].get('p99_ms'))} | "
                     f"{number(p['rss_idle_mb'], 0)} / {number(p['rss_loaded_mb'], 0)} / "
                     f"{number(p['rss_end_mb'], 0)} |")
    lines += ["", *[f"![{png}]({png})" for png in pngs], ""]
    for p in points:
        for failure in p.get("failures", []):
            lines += [f"A run with {p['offices']:,} offices failed:", "", "```", failure.strip(), "```", ""]
    (RESULTS / f"{stamp}-scaling.md").write_text("\n".join(lines), encoding="utf-8")
    (RESULTS / f"{stamp}-scaling.json").write_text(json.dumps({"machine": machine(), "started": started_at,
                                                              "points": points, "plots": pngs}, indent=2),
                                                  encoding="utf-8")
    print("\n".join(lines))
