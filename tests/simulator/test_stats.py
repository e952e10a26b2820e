"""Latency percentiles from the bounded histogram, and the per-action report."""

from __future__ import annotations

import math
import random

import pytest

from simulator.stats import Histogram, Recorder, error_report, table


def test_percentiles_are_within_two_percent_of_the_exact_ones():
    rng = random.Random(9)
    values = [rng.lognormvariate(1.5, 1.0) for _ in range(50_000)]
    histogram = Histogram()
    for value in values:
        histogram.add(value)
    ordered = sorted(values)
    for fraction in (0.5, 0.9, 0.99):
        exact = ordered[math.ceil(fraction * len(ordered)) - 1]
        assert histogram.percentile(fraction) == pytest.approx(exact, rel=0.021)
    assert histogram.max == max(values)
    assert histogram.count == len(values)


def test_an_empty_histogram_has_no_percentiles_and_tiny_or_huge_values_are_kept():
    histogram = Histogram()
    assert math.isnan(histogram.percentile(0.5))
    histogram.add(0.0)
    histogram.add(10 ** 9)
    assert histogram.percentile(1.0) == 10 ** 9 and histogram.count == 2


def test_the_report_counts_successes_and_failures_per_action():
    clock = iter([0.0, 10.0]).__next__
    recorder = Recorder(clock=clock)
    for ms in (5, 6, 7):
        recorder.success("complaint.create", ms)
    recorder.failure("complaint.accept", "FAILED_PRECONDITION", "c1: is ACCEPTED")
    summary = recorder.summary()
    assert summary["requests"] == 4 and summary["errors"] == 1
    create = next(row for row in summary["actions"] if row["action"] == "complaint.create")
    assert create["ok"] == 3 and create["per_second"] == pytest.approx(0.3)
    assert "| complaint.create | 3 | 0 |" in table(summary)
    assert "complaint.accept: 1 x FAILED_PRECONDITION" in error_report(summary)
    assert "c1: is ACCEPTED" in error_report(summary)
