"""Arrivals: Poisson counts with the day's shape, shared out by office size."""

from __future__ import annotations

import math
import random

import pytest

from simulator import arrivals
from simulator.arrivals import DAY, PROFILES


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_profiles_average_one_so_a_daily_volume_stays_the_daily_volume(profile):
    assert sum(PROFILES[profile]) / 24 == pytest.approx(1.0)


def test_a_month_of_arrivals_has_the_poisson_count():
    times = arrivals.arrivals(random.Random(7), 0, 30 * DAY, 100, "hotline")
    expected = 30 * 100
    # Within four standard deviations of a Poisson count: fails for a wrong rate, not by chance.
    assert abs(len(times) - expected) < 4 * math.sqrt(expected)
    assert times == sorted(times) and all(0 <= t < 30 * DAY for t in times)


def test_arrivals_follow_the_hour_of_the_day():
    times = arrivals.arrivals(random.Random(3), 0, 20 * DAY, 200, "room")
    hours = [int(t % DAY // 3600) for t in times]
    assert all(8 <= hour < 17 for hour in hours)  # the rapid-test rooms keep office hours
    morning = sum(1 for hour in hours if 9 <= hour < 12)
    lunch = sum(1 for hour in hours if hour == 12)
    assert morning / 3 > 1.5 * lunch  # the lunch hour is quieter than a morning hour


def test_inter_arrival_gaps_of_a_flat_load_are_exponential():
    rng = random.Random(11)
    gaps = [arrivals.gap(rng, 50.0) for _ in range(20_000)]
    mean = sum(gaps) / len(gaps)
    assert mean == pytest.approx(1 / 50, rel=0.03)
    # Exponential: the standard deviation equals the mean (a constant gap would have none).
    sd = math.sqrt(sum((g - mean) ** 2 for g in gaps) / len(gaps))
    assert sd == pytest.approx(mean, rel=0.05)
    assert arrivals.gap(rng, 50.0, poisson=False) == 1 / 50


def test_no_volume_means_no_arrival():
    assert arrivals.next_arrival(random.Random(1), 0, 0, "hotline") is None
    assert arrivals.arrivals(random.Random(1), 0, DAY, 0, "office") == []


def test_a_seed_replays_the_same_day():
    assert arrivals.arrivals(random.Random(5), 0, DAY, 300, "online") == \
        arrivals.arrivals(random.Random(5), 0, DAY, 300, "online")


def test_offices_share_by_size():
    assert arrivals.shares({"MH01": 30, "MH02": 10}) == {"MH01": 0.75, "MH02": 0.25}
    # Nothing supervised yet, or a nonsense size: no share.
    assert arrivals.shares({"MH01": 10, "MH02": 0, "MH03": float("nan"), "MH04": -5}) == \
        {"MH01": 1.0, "MH02": 0.0, "MH03": 0.0, "MH04": 0.0}
    assert arrivals.shares({"MH01": 0, "MH02": 0}) == {"MH01": 0.5, "MH02": 0.5}
    assert arrivals.shares({}) == {}


def test_arrivals_per_office_follow_their_share():
    rng = random.Random(2)
    shares = arrivals.shares({"big": 3, "small": 1})
    counts = {office: len(arrivals.arrivals(rng, 0, 10 * DAY, 400 * share, "hotline"))
              for office, share in shares.items()}
    assert counts["big"] / counts["small"] == pytest.approx(3, rel=0.15)
