"""The simulator's bounded bookkeeping, and its side of the public form's rate limit checked against
the gateway's own limiter."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from services.gateway.http_api.security import RateLimiter
from simulator.context import TokenBucket
from simulator.world import Known, Queues, Work


def test_queues_are_bounded_and_forget_the_oldest():
    queues = Queues(limit=3)
    for n in range(5):
        queues.put("complaint:received", Work(f"c{n}", "MH01"))
    assert queues.size("complaint:received") == 3 and queues.dropped == 2
    taken = [queues.take("complaint:received").id for _ in range(3)]
    assert taken == ["c2", "c3", "c4"]
    assert queues.take("complaint:received") is None and queues.take("never:used") is None


def test_known_ids_are_handed_out_once_within_the_bound():
    known = Known(limit=2)
    assert known.add("a") and not known.add("a")
    known.add("b")
    known.add("c")
    assert "a" not in known and "c" in known and len(known) == 2


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@settings(max_examples=200, deadline=None)
@given(per_minute=st.floats(0.5, 600), burst=st.integers(1, 10),
       gaps=st.lists(st.floats(0, 120), min_size=1, max_size=60), drained=st.booleans())
def test_a_form_the_simulators_bucket_allows_the_gateway_allows(per_minute, burst, gaps, drained):
    clock = Clock()
    gateway = RateLimiter(per_minute, burst, clock=clock)
    if drained:  # another run from this address used the bucket up just before
        while gateway.allow("127.0.0.1") == 0:
            pass
    ours = TokenBucket(per_minute, burst, clock=clock)
    for gap in gaps:
        clock.now += gap
        if ours.take():
            assert gateway.allow("127.0.0.1") == 0


def test_the_bucket_sends_close_to_the_gateways_rate_over_time():
    clock = Clock()
    ours = TokenBucket(60, 3, clock=clock)
    sent = 0
    rng = random.Random(1)
    for _ in range(10_000):
        clock.now += rng.uniform(0, 0.2)
        sent += ours.take()
    minutes = clock.now / 60
    assert 0.85 * 60 * minutes <= sent <= 0.95 * 60 * minutes
