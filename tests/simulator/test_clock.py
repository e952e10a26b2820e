"""The simulated clock, office hours and skipped nights."""

from __future__ import annotations

import pytest

from simulator.arrivals import DAY
from simulator.clock import (
    HOUR,
    SimClock,
    advance_awake,
    awake_point,
    awake_seconds,
    office_time,
    parse_start,
)


class FakeMonotonic:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_the_clock_runs_speed_times_real_time():
    real = FakeMonotonic()
    clock = SimClock(120, 7 * HOUR, real)
    real.now += 30
    assert clock.now() == 7 * HOUR + 3600
    assert clock.real_seconds_until(9 * HOUR) == pytest.approx(30)


@pytest.mark.parametrize("speed", [0, 0.5, 1001])
def test_speed_is_one_to_a_thousand(speed):
    with pytest.raises(ValueError, match="between 1 and 1000"):
        SimClock(speed, 0)


def test_skipped_nights_jump_from_nine_in_the_evening_to_seven_in_the_morning():
    real = FakeMonotonic()
    clock = SimClock(1000, 20 * HOUR, real, skip_nights=True)
    real.now += 3.6  # one simulated hour
    assert clock.now() == pytest.approx(DAY + 7 * HOUR)
    # Something due at 03:00 of day 2 is due at 07:00 of day 2: now.
    assert clock.real_seconds_until(DAY + 3 * HOUR) == pytest.approx(0)
    assert clock.real_seconds_until(DAY + 8 * HOUR) == pytest.approx(3.6)


def test_a_night_start_begins_in_the_morning():
    assert SimClock(60, 2 * HOUR, FakeMonotonic(), skip_nights=True).now() == 7 * HOUR


@pytest.mark.parametrize("start", [7 * HOUR, 12 * HOUR, 20.9 * HOUR, DAY + 7.5 * HOUR])
@pytest.mark.parametrize("awake", [0, 1, 3600, 14 * HOUR, 40 * HOUR])
def test_waking_seconds_and_advancing_agree(start, awake):
    assert awake_seconds(advance_awake(start, awake)) == pytest.approx(awake_seconds(start) + awake)
    assert awake_point(advance_awake(start, awake)) == pytest.approx(advance_awake(start, awake))


@pytest.mark.parametrize(("at", "expected"), [
    (6 * HOUR, 8.5 * HOUR),            # before opening: at opening
    (10 * HOUR, 10 * HOUR),            # open: at once
    (12 * HOUR, 13 * HOUR),            # lunch: after lunch
    (18 * HOUR, DAY + 8.5 * HOUR),     # evening: next morning
    (DAY + 9 * HOUR, DAY + 9 * HOUR),
])
def test_office_work_waits_for_office_hours(at, expected):
    assert office_time(at) == expected


def test_start_times():
    assert parse_start("07:00") == 7 * HOUR
    assert parse_start("23:59") == 23 * HOUR + 59 * 60
    for bad in ("7", "24:00", "07:60", "7:5", "ab:cd", ""):
        with pytest.raises(ValueError, match="HH:MM"):
            parse_start(bad)
