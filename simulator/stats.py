"""What the run measured: per action, how many, how fast, which failed and why.

Latencies go into a logarithmic histogram (buckets 2% wide from 10 µs to 10 min), so a run of a
day at 1000x keeps the same small memory as a run of a minute; percentiles are within 2%.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

_MIN_MS = 0.01
_RATIO = 1.02
_BUCKETS = int(math.log(600_000 / _MIN_MS, _RATIO)) + 2
ERROR_SAMPLES = 3


class Histogram:
    def __init__(self) -> None:
        self.counts = [0] * _BUCKETS
        self.count = 0
        self.total = 0.0
        self.max = 0.0

    def add(self, ms: float) -> None:
        index = 0 if ms <= _MIN_MS else min(_BUCKETS - 1, int(math.log(ms / _MIN_MS, _RATIO)) + 1)
        self.counts[index] += 1
        self.count += 1
        self.total += ms
        self.max = max(self.max, ms)

    def percentile(self, fraction: float) -> float:
        """The upper edge of the bucket holding the fraction-th value (nan when empty)."""
        if not self.count:
            return math.nan
        rank = max(1, math.ceil(fraction * self.count))
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                # The last bucket holds everything beyond 10 minutes: its edge says nothing.
                return self.max if index == _BUCKETS - 1 else min(self.max, _MIN_MS * _RATIO ** index)
        return self.max

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else math.nan


@dataclass
class ActionStats:
    name: str
    latency: Histogram = field(default_factory=Histogram)
    errors: int = 0
    # (code, first messages) per error code: enough to report a bug precisely, bounded.
    error_samples: dict[str, list[str]] = field(default_factory=dict)
    error_codes: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> int:
        return self.latency.count

    def fail(self, code: str, message: str) -> None:
        self.errors += 1
        self.error_codes[code] = self.error_codes.get(code, 0) + 1
        samples = self.error_samples.setdefault(code, [])
        if len(samples) < ERROR_SAMPLES:
            samples.append(message[:500])


class Recorder:
    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self.started = clock()
        self.ended: float | None = None
        self.actions: dict[str, ActionStats] = {}
        # What the simulator checked by hand in the answers (e.g. a plan's count against its ratio):
        # check name -> passed / failed counts and the first failures' details.
        self.checks: dict[str, dict] = {}

    def stats(self, name: str) -> ActionStats:
        found = self.actions.get(name)
        if found is None:
            found = self.actions[name] = ActionStats(name)
        return found

    def success(self, name: str, ms: float) -> None:
        self.stats(name).latency.add(ms)

    def failure(self, name: str, code: str, message: str) -> None:
        self.stats(name).fail(code, message)

    def check(self, action: str, check: str, passed: bool, detail: str = "") -> None:
        """A hand check of an answer, counted (the action that found it failing reports the error)."""
        found = self.checks.setdefault(check, {"passed": 0, "failed": 0, "samples": []})
        found["passed" if passed else "failed"] += 1
        if not passed and len(found["samples"]) < ERROR_SAMPLES:
            found["samples"].append(f"{action}: {detail[:500]}")

    @property
    def requests(self) -> int:
        return sum(s.ok + s.errors for s in self.actions.values())

    @property
    def errors(self) -> int:
        return sum(s.errors for s in self.actions.values())

    def finish(self) -> None:
        """The run is over: its rate is counted over the time until now."""
        self.ended = self.clock()

    def elapsed(self) -> float:
        return max(1e-9, (self.ended if self.ended is not None else self.clock()) - self.started)

    def summary(self, seconds: float | None = None) -> dict:
        seconds = seconds or self.elapsed()
        rows = []
        for name in sorted(self.actions):
            s = self.actions[name]
            rows.append({"action": name, "ok": s.ok, "errors": s.errors, "per_second": s.ok / seconds,
                         "p50_ms": s.latency.percentile(0.5), "p90_ms": s.latency.percentile(0.9),
                         "p99_ms": s.latency.percentile(0.99), "max_ms": s.latency.max,
                         "error_codes": dict(s.error_codes), "error_samples": dict(s.error_samples)})
        total = Histogram()
        for s in self.actions.values():
            for index, count in enumerate(s.latency.counts):
                total.counts[index] += count
            total.count += s.latency.count
            total.max = max(total.max, s.latency.max)
        return {"seconds": seconds, "requests": self.requests, "errors": self.errors,
                "per_second": total.count / seconds, "p50_ms": total.percentile(0.5),
                "p99_ms": total.percentile(0.99), "actions": rows,
                "checks": {name: dict(found) for name, found in sorted(self.checks.items())}}


def table(summary: dict) -> str:
    """The summary as a fixed-width table for a terminal (and a Markdown-compatible one)."""
    lines = ["| action | ok | errors | per s | p50 ms | p90 ms | p99 ms | max ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in summary["actions"]:
        lines.append(f"| {row['action']} | {row['ok']} | {row['errors']} | {row['per_second']:.2f} | "
                     f"{_ms(row['p50_ms'])} | {_ms(row['p90_ms'])} | {_ms(row['p99_ms'])} | {_ms(row['max_ms'])} |")
    lines.append(f"| **all** | {summary['requests'] - summary['errors']} | {summary['errors']} | "
                 f"{summary['per_second']:.2f} | {_ms(summary['p50_ms'])} | | {_ms(summary['p99_ms'])} | |")
    return "\n".join(lines)


def check_report(summary: dict) -> str:
    """The hand checks: how many passed and failed, with the first failures."""
    lines = []
    for name, found in summary.get("checks", {}).items():
        lines.append(f"{name}: {found['passed']} passed, {found['failed']} failed")
        lines += [f"    {sample}" for sample in found["samples"]]
    return "\n".join(lines)


def error_report(summary: dict) -> str:
    lines = []
    for row in summary["actions"]:
        for code, samples in row["error_samples"].items():
            lines.append(f"{row['action']}: {row['error_codes'][code]} x {code}")
            lines += [f"    {sample}" for sample in samples]
    return "\n".join(lines)


def _ms(value: float) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.1f}"
