"""The complaint form's per-client rate limit (token bucket)."""

from __future__ import annotations

from services.gateway.http_api.security import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_per_refill_interval_per_client():
    clock = Clock()
    limiter = RateLimiter(per_minute=6, burst=2, clock=clock)
    assert [limiter.allow("a") for _ in range(2)] == [0.0, 0.0]
    wait = limiter.allow("a")
    assert 9.9 < wait <= 10.0  # 6 a minute: the next one in 10 s
    assert limiter.allow("b") == 0.0  # another client has its own bucket
    clock.now += 10
    assert limiter.allow("a") == 0.0
    assert limiter.allow("a") > 0


def test_the_memory_of_clients_is_bounded_oldest_first():
    limiter = RateLimiter(per_minute=1, burst=1, clock=Clock())
    limiter.MAX_CLIENTS = 3
    assert limiter.allow("a") == 0.0
    assert limiter.allow("a") > 0
    for client in "bcd":
        limiter.allow(client)
    assert limiter.allow("a") == 0.0  # forgotten: a fresh bucket
    assert limiter.allow("d") > 0  # still remembered
