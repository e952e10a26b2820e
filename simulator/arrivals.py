"""When things happen: Poisson arrivals whose intensity follows the hour of the day, split over the
offices by their size. Pure functions of a random generator, so a seed replays a day exactly.

Times here are simulated seconds since midnight of the simulated first day (Asia/Shanghai).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

DAY = 86_400.0

# Hourly intensity relative to the day's mean (each profile averages 1 over 24 hours, so a daily
# volume stays the daily volume). Shapes, not statistics: 12315 calls peak mid-morning and early
# afternoon and hardly happen at night; web submissions trail into the evening; the rapid-test
# rooms and the officers keep office hours.
_RAW_PROFILES: dict[str, tuple[float, ...]] = {
    "hotline": (0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 1.6, 2.2, 2.3, 1.9,
                1.3, 1.8, 2.1, 2.0, 1.7, 1.3, 0.9, 0.7, 0.6, 0.4, 0.3, 0.2),
    "online": (0.4, 0.25, 0.15, 0.1, 0.1, 0.15, 0.35, 0.7, 1.1, 1.4, 1.5, 1.4,
               1.3, 1.4, 1.5, 1.5, 1.4, 1.3, 1.2, 1.3, 1.4, 1.3, 1.0, 0.7),
    "office": (0, 0, 0, 0, 0, 0, 0, 0, 0.7, 1, 1, 1, 0.4, 1, 1, 1, 1, 0.5, 0, 0, 0, 0, 0, 0),
    "room": (0, 0, 0, 0, 0, 0, 0, 0, 0.6, 1, 1, 1, 0.5, 1, 1, 0.8, 0.3, 0, 0, 0, 0, 0, 0, 0),
    "incident": (0.5, 0.4, 0.3, 0.3, 0.3, 0.4, 0.6, 0.9, 1.1, 1.2, 1.2, 1.5,
                 1.6, 1.3, 1.2, 1.2, 1.2, 1.3, 1.6, 1.5, 1.2, 0.9, 0.7, 0.6),
}


def _normalised(raw: Sequence[float]) -> tuple[float, ...]:
    mean = sum(raw) / len(raw)
    return tuple(value / mean for value in raw)


PROFILES: dict[str, tuple[float, ...]] = {name: _normalised(raw) for name, raw in _RAW_PROFILES.items()}


def intensity(profile: str, sim_seconds: float) -> float:
    """The profile's multiplier at a simulated time (its hour of the day)."""
    return PROFILES[profile][int((sim_seconds % DAY) // 3600)]


def next_arrival(rng: random.Random, now: float, daily_volume: float, profile: str,
                 horizon: float = 7 * DAY) -> float | None:
    """The next arrival after `now` of a Poisson process of `daily_volume` a day shaped by the
    profile (thinning, Lewis and Shedler 1979); None when none comes before now + horizon."""
    if daily_volume <= 0:
        return None
    peak = max(PROFILES[profile])
    peak_rate = daily_volume / DAY * peak
    t = now
    # Each round advances t by an exponential step, so the loop ends at the horizon.
    while True:
        t += rng.expovariate(peak_rate)
        if t > now + horizon:
            return None
        if rng.random() * peak <= intensity(profile, t):
            return t


def arrivals(rng: random.Random, start: float, end: float, daily_volume: float, profile: str) -> list[float]:
    """Every arrival in [start, end): for tests and for planning a day at once."""
    times: list[float] = []
    t = start
    while (t := next_arrival(rng, t, daily_volume, profile, horizon=end - t)) is not None and t < end:
        times.append(t)
    return times


def shares(sizes: Mapping[str, float]) -> dict[str, float]:
    """Each office's share of the district's volume, in proportion to its size. An office of size 0
    (nothing supervised yet) gets nothing; a district of no size shares evenly."""
    clean = {office: (size if math.isfinite(size) and size > 0 else 0.0) for office, size in sizes.items()}
    total = sum(clean.values())
    if not clean:
        return {}
    if total == 0:
        return dict.fromkeys(clean, 1 / len(clean))
    return {office: size / total for office, size in clean.items()}


def gap(rng: random.Random, rate: float, poisson: bool = True) -> float:
    """Seconds to the next request of a load at `rate` per second: exponential (open Poisson
    arrivals, bursts included) or constant."""
    return rng.expovariate(rate) if poisson else 1 / rate
