"""Who is calling (bearer tokens, as on gRPC) and how often a client may submit the public form."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from aiohttp import web

from services.common.auth import TokenVerifier
from services.common.config import Settings
from services.common.context import SYSTEM_CALLER, Caller


class HttpAuth:
    """AUTH_MODE=jwt: `Authorization: Bearer <jwt>`, or `?access_token=<jwt>` for EventSource, which
    cannot set headers (RFC 6750 section 2.3). AUTH_MODE=off: everything open (development)."""

    def __init__(self, settings: Settings):
        self.verifier = TokenVerifier(settings) if settings.auth_mode == "jwt" else None

    def caller(self, request: web.Request) -> Caller:
        if self.verifier is None:
            return SYSTEM_CALLER
        header = request.headers.get("Authorization", "")
        if not header and request.query.get("access_token"):
            header = f"Bearer {request.query['access_token']}"
        return self.verifier.verify(header)


class RateLimiter:
    """A token bucket per client: `burst` submissions at once, refilled at `per_minute`."""

    MAX_CLIENTS = 100_000  # beyond this the least recently seen clients are forgotten

    def __init__(self, per_minute: float, burst: int, clock=time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, client: str) -> float:
        """0 when allowed (and counted); otherwise the seconds to wait."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                wait = 0.0
            else:
                self._buckets[client] = (tokens, now)
                wait = (1 - tokens) / self.rate
            while len(self._buckets) > self.MAX_CLIENTS:
                self._buckets.popitem(last=False)
        return wait


def client_address(request: web.Request, trust_forwarded: bool) -> str:
    """The client's address: behind a trusted proxy (an Ingress), the first X-Forwarded-For entry."""
    if trust_forwarded:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.remote or "unknown"
