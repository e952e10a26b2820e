"""`make bench-soak`: the simulator's day mix for ten minutes at a rate the machine holds, against
the demo district on a monolith of its own; every request must succeed and the center's resident
memory must stay flat once warm (no growth beyond warm-up).

The simulator samples the center's RSS every 10 s (--sample-rss). The first half of the run is
the warm-up: a first soak showed the center's caches filling for some five minutes (SQLite page
caches, the gateway's replay buffer and history) before the memory levelled off. Flat means: over
the second half, the least-squares slope of RSS adds up to less than FLAT_FRACTION of the RSS.

Environment: BENCH_SOAK_MINUTES (default 10), BENCH_SOAK_RATE (default 25 requests/s),
BENCH_SOAK_WARMUP_MINUTES (default: half the run).
Writes bench/results/<date>-soak.md and .json; exits 1 on an error or growing memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import machine
from simulator.stats import error_report, table

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
FLAT_FRACTION = 0.05


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB) samples, in MiB per minute."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if not spread:
        return 0.0
    return sum((t - mean_t) * (m - mean_m) for t, m in samples) / spread * 60


def verdict(samples: list[tuple[float, float]], warmup_seconds: float) -> dict:
    after = [(t, m) for t, m in samples if t >= warmup_seconds]
    if len(after) < 3:
        return {"verdict": "too short to judge", "flat": False, "rss_after_warmup_mb": float("nan"),
                "rss_end_mb": samples[-1][1] if samples else float("nan"), "rss_slope_mb_per_min": 0.0}
    slope = slope_per_minute(after)
    span_minutes = (after[-1][0] - after[0][0]) / 60
    growth = slope * span_minutes
    flat = growth < FLAT_FRACTION * after[0][1]
    during = f"{samples[0][1]:.0f} to {after[0][1]:.0f} MiB during the warm-up"
    return {"flat": flat, "rss_start_mb": samples[0][1], "rss_after_warmup_mb": after[0][1],
            "rss_end_mb": after[-1][1], "rss_peak_mb": max(m for _, m in samples), "rss_slope_mb_per_min": slope,
            "verdict": (f"flat after warm-up ({during}; then a fitted {growth:+.1f} MiB over {span_minutes:.0f} min, "
                        f"under {FLAT_FRACTION:.0%} of RSS)") if flat else
                       f"GROWING after warm-up ({during}; then {growth:+.1f} MiB over {span_minutes:.0f} min)"}


def main() -> None:
    minutes = float(os.environ.get("BENCH_SOAK_MINUTES", "10"))
    rate = float(os.environ.get("BENCH_SOAK_RATE", "25"))
    warmup = float(os.environ.get("BENCH_SOAK_WARMUP_MINUTES", str(minutes / 2)))
    started_at = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        run = subprocess.run([sys.executable, "-m", "simulator", "--center", "temp", "--sample-rss", "--rate",
                              str(rate), "--duration", str(minutes * 60), "--mix", "day", "--seed", "1",
                              "--progress", "60", "--json", out.name], cwd=ROOT, timeout=minutes * 60 + 900)
        summary = json.loads(Path(out.name).read_text() or "{}")
    samples = [(float(t), float(m)) for t, m in summary.get("rss_mb", [])]
    judged = verdict(samples, warmup * 60)
    result = {"machine": machine(), "started": started_at, "minutes": minutes, "rate": rate, "warmup_minutes": warmup,
              "requests": summary.get("requests", 0), "errors": summary.get("errors", -1),
              "per_second": summary.get("per_second"), "p50_ms": summary.get("p50_ms"),
              "p99_ms": summary.get("p99_ms"), "exit_status": run.returncode, "rss_samples": samples, **judged,
              "summary": summary}
    lines = [f"# Sustained load, {started_at[:10]}", "",
             f"Command: `make bench-soak` (`python -m bench.soak`), started {started_at} UTC. Machine: {machine()}.",
             "",
             f"The simulator's day mix at {rate:g} requests/s for {minutes:g} min against the demo district on a "
             "monolith of its own (SQLite, in-process events); the center's resident memory sampled every 10 s.", "",
             f"- {result['requests']:,} requests, **{result['errors']} errors**, {result['per_second'] or 0:.1f}/s, "
             f"p50 {result['p50_ms'] or 0:.1f} ms, p99 {result['p99_ms'] or 0:.1f} ms, most behind schedule "
             f"{summary.get('max_lag_seconds', 0):.2f} s.",
             f"- Memory: {judged['verdict']}; {judged['rss_after_warmup_mb']:.0f} MiB after the "
             f"{warmup:g}-minute warm-up, {judged['rss_end_mb']:.0f} MiB at the end, slope after warm-up "
             f"{judged['rss_slope_mb_per_min']:+.2f} MiB/min.",
             "", "| minute | center RSS (MiB) |", "|---|---|"]
    for minute in range(int(minutes) + 1):
        near = min(samples, key=lambda s: abs(s[0] - minute * 60), default=None)
        if near is not None and abs(near[0] - minute * 60) <= 10:
            lines.append(f"| {minute} | {near[1]:.0f} |")
    if summary.get("actions"):
        lines += ["", "Per action:", "", table(summary)]
    if result["errors"]:
        lines += ["", "Errors:", "", "```", error_report(summary), "```"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = started_at[:10]
    (RESULTS / f"{stamp}-soak.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (RESULTS / f"{stamp}-soak.json").write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str),
                                                encoding="utf-8")
    print("\n".join(lines))
    sys.exit(0 if result["errors"] == 0 and judged["flat"] and run.returncode == 0 else 1)


if __name__ == "__main__":
    main()
