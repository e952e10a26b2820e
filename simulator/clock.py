"""The simulated clock: simulated seconds since midnight of the simulated first day, running
`speed` times faster than real time.

Requests never carry simulated times: the services judge every limit by their own clock, so a
complaint received at simulated 10:00 is sent with a real received_at a little before now. The
simulated clock decides what happens when (hour of the day, how long an office takes to act).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from simulator.arrivals import DAY

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")  # no daylight saving since 1991
HOUR = 3600.0
OFFICE_OPENS = 8.5 * HOUR
OFFICE_CLOSES = 17.5 * HOUR
LUNCH = (11.75 * HOUR, 13.0 * HOUR)
# With nights skipped, the simulated clock only runs through the waking hours.
AWAKE = (7 * HOUR, 21 * HOUR)
AWAKE_SECONDS = AWAKE[1] - AWAKE[0]


class SimClock:
    """`skip_nights`: the clock jumps from 21:00 to 07:00 (for a demo, whose dashboard should not
    go quiet for half of every simulated day); what was due at night happens at 07:00."""

    def __init__(self, speed: float, start: float, monotonic: Callable[[], float] = time.monotonic,
                 skip_nights: bool = False):
        if not 1 <= speed <= 1000:
            raise ValueError("speed must be between 1 and 1000")
        self.speed = speed
        self.skip_nights = skip_nights
        self.start = awake_point(start) if skip_nights else start
        self._monotonic = monotonic
        self._real_start = monotonic()

    def now(self) -> float:
        run = (self._monotonic() - self._real_start) * self.speed
        return advance_awake(self.start, run) if self.skip_nights else self.start + run

    def real_seconds_until(self, sim_time: float) -> float:
        if self.skip_nights:
            return (awake_seconds(sim_time) - awake_seconds(self.now())) / self.speed
        return (sim_time - self.now()) / self.speed

    @staticmethod
    def describe(sim_time: float) -> str:
        day, seconds = divmod(sim_time, DAY)
        return f"day {int(day) + 1} {int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"


def awake_point(sim_time: float) -> float:
    """The first waking moment at or after `sim_time`."""
    day, seconds = divmod(sim_time, DAY)
    if seconds < AWAKE[0]:
        return day * DAY + AWAKE[0]
    if seconds >= AWAKE[1]:
        return (day + 1) * DAY + AWAKE[0]
    return sim_time


def awake_seconds(sim_time: float) -> float:
    """Waking seconds from simulated 0 to `sim_time` (a night time counts as the next 07:00)."""
    day, seconds = divmod(sim_time, DAY)
    return day * AWAKE_SECONDS + min(max(seconds - AWAKE[0], 0.0), AWAKE_SECONDS)


def advance_awake(start: float, awake: float) -> float:
    """The simulated time `awake` waking seconds after a waking moment `start`."""
    day, seconds = divmod(start, DAY)
    days, offset = divmod(seconds - AWAKE[0] + awake, AWAKE_SECONDS)
    return (day + days) * DAY + AWAKE[0] + offset


def office_time(sim_time: float) -> float:
    """The first moment at or after `sim_time` when an office works: every simulated day is a
    working day (the simulation plays working days), 08:30-17:30 without the lunch break."""
    day, seconds = divmod(sim_time, DAY)
    if seconds < OFFICE_OPENS:
        return day * DAY + OFFICE_OPENS
    if LUNCH[0] <= seconds < LUNCH[1]:
        return day * DAY + LUNCH[1]
    if seconds >= OFFICE_CLOSES:
        return (day + 1) * DAY + OFFICE_OPENS
    return sim_time


def shanghai_today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def parse_start(text: str) -> float:
    """"HH:MM" -> simulated seconds since midnight of the first day."""
    hours, sep, minutes = text.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"{text!r} is not a time of day HH:MM")
    if not (0 <= int(hours) < 24 and 0 <= int(minutes) < 60):
        raise ValueError(f"{text!r} is not a time of day HH:MM")
    return int(hours) * HOUR + int(minutes) * 60
