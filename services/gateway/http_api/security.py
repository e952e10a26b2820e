"""Who is calling (bearer tokens, as on gRPC) and how often a client may submit the public form."""

from __future__ import annotations

import ipaddress
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from aiohttp import web

from services.common.auth import TokenVerifier
from services.common.config import Settings
from services.common.context import SYSTEM_CALLER, Caller
from services.gateway.config import GatewayConfig
from services.gateway.domain.complaint_form import FormTokens
from services.gateway.http_api.access import CALLER_KEY
from services.gateway.metrics import FORM_LIMIT_FALLBACKS


class HttpAuth:
    """AUTH_MODE=jwt: `Authorization: Bearer <jwt>`, or `?access_token=<jwt>` for EventSource, which
    cannot set headers (RFC 6750 section 2.3). AUTH_MODE=off: everything open (development)."""

    def __init__(self, settings: Settings):
        self.verifier = TokenVerifier(settings) if settings.auth_mode == "jwt" else None

    def caller(self, request: web.Request) -> Caller:
        if self.verifier is None:
            caller = SYSTEM_CALLER
        else:
            header = request.headers.get("Authorization", "")
            if not header and request.query.get("access_token"):
                header = f"Bearer {request.query['access_token']}"
            caller = self.verifier.verify(header)
        request[CALLER_KEY] = caller  # who asked, for the access log line
        return caller


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


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
log = logging.getLogger(__name__)


def client_address(request: web.Request, trusted_proxies: Iterable[Network]) -> str:
    """The client the form's limit counts: the direct peer, unless it is a trusted proxy; then the
    rightmost X-Forwarded-For hop that is not one (hops to its left are whatever the client wrote).
    An IPv6 client is its /64, which one subscriber holds whole."""
    trusted = tuple(trusted_proxies)
    nearest = _address(request.remote or "")
    if nearest is None:
        return request.remote or "unknown"
    if _is_trusted(nearest, trusted):
        hops = [hop.strip() for value in request.headers.getall("X-Forwarded-For", ()) for hop in value.split(",")]
        for hop in reversed([h for h in hops if h]):
            address = _address(hop)
            if address is None:
                break  # not an address: the proxy nearest to it answers for the client
            nearest = address
            if not _is_trusted(address, trusted):
                break
    if nearest.version == 6:
        return str(ipaddress.ip_network(f"{nearest}/64", strict=False))
    return str(nearest)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _is_trusted(address, trusted: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


class TokenBuckets:
    """Token buckets in this process, taken from several at once or from none (a submission counts
    against its client and the district together)."""

    MAX_KEYS = 100_000  # beyond this the least recently seen clients are forgotten

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, demands: list[tuple[str, float, float]]) -> float:
        """`demands`: (key, tokens per second, burst). 0 when every bucket had a token (each is
        spent); otherwise the seconds until all would, and nothing is spent."""
        now = self.clock()
        with self._lock:
            levels = []
            for key, rate, burst in demands:
                tokens, at = self._buckets.pop(key, (burst, now))
                levels.append(min(burst, tokens + max(0.0, now - at) * rate))
            wait = max([(1 - level) / rate for level, (_, rate, _) in zip(levels, demands, strict=True)
                        if level < 1], default=0.0)
            for level, (key, _, _) in zip(levels, demands, strict=True):
                self._buckets[key] = (level - 1 if wait == 0 else level, now)
            while len(self._buckets) > self.MAX_KEYS:
                self._buckets.popitem(last=False)
        return wait


# Both buckets of a submission checked and spent in one step, on Redis's clock (replicas' clocks
# differ). A bucket is a hash {tokens, at}; it expires once it would be full again anyway.
_TAKE_BOTH = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local levels, wait = {}, 0
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local stored = redis.call('HMGET', key, 'tokens', 'at')
  local tokens, at = tonumber(stored[1]) or burst, tonumber(stored[2]) or now
  local level = math.min(burst, tokens + math.max(0, now - at) * rate)
  levels[i] = level
  if level < 1 then wait = math.max(wait, (1 - level) / rate) end
end
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local level = levels[i]
  if wait == 0 then level = level - 1 end
  redis.call('HSET', key, 'tokens', tostring(level), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
end
return tostring(wait)
"""


class FormLimiter:
    """The public form's limit: `burst` submissions at once per client, refilled at `per_minute`,
    and `district_per_minute` from everyone together (one minute's worth at once).

    With a Redis URL the buckets are shared by every replica. When Redis does not answer, each
    process limits on its own (the limit is then per replica) and counts it in
    supervision_gateway_form_limit_fallbacks_total; the form never fails because of it."""

    REDIS_TIMEOUT_SECONDS = 0.25
    # After Redis failed, it is asked again only after this long, so an outage costs no latency.
    REDIS_RETRY_SECONDS = 5.0
    WARN_EVERY_SECONDS = 60.0

    def __init__(self, per_minute: float, burst: int, district_per_minute: float, redis_url: str = "",
                 prefix: str = "supervision:complaint-form:", clock: Callable[[], float] = time.monotonic):
        self.client_rate, self.client_burst = per_minute / 60.0, float(burst)
        self.district_rate, self.district_burst = district_per_minute / 60.0, float(max(1.0, district_per_minute))
        self.prefix = prefix
        self.clock = clock
        self.local = TokenBuckets(clock)
        self._redis = self._script = None
        if redis_url:
            import redis  # only deployments with replicas need it

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=self.REDIS_TIMEOUT_SECONDS,
                                               socket_connect_timeout=self.REDIS_TIMEOUT_SECONDS)
            self._script = self._redis.register_script(_TAKE_BOTH)
        self._redis_down_until = 0.0
        self._warned_at = -self.WARN_EVERY_SECONDS

    @property
    def shared(self) -> bool:
        return self._redis is not None

    @property
    def redis(self):
        """The Redis client the buckets are shared through, or None (each process its own)."""
        return self._redis

    def allow(self, client: str) -> float:
        """0 when allowed (and counted); otherwise the seconds to wait. May block up to a Redis timeout."""
        if self._redis is not None and self.clock() >= self._redis_down_until:
            try:
                return float(self._script(
                    keys=[f"{self.prefix}client:{client}", f"{self.prefix}district"],
                    args=[self.client_rate, self.client_burst, self.district_rate, self.district_burst]))
            except Exception as error:  # noqa: BLE001 - any Redis failure falls back, never a 500
                self._redis_failed(error)
        return self.local.take([(f"client:{client}", self.client_rate, self.client_burst),
                                ("district", self.district_rate, self.district_burst)])

    def _redis_failed(self, error: Exception) -> None:
        FORM_LIMIT_FALLBACKS.inc()
        now = self.clock()
        self._redis_down_until = now + self.REDIS_RETRY_SECONDS
        if now - self._warned_at >= self.WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("the complaint form's shared rate limit (Redis) did not answer; each gateway limits "
                        "on its own until it does", extra={"error": f"{type(error).__name__}: {error}"[:200]})

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()


def form_limiter(config: GatewayConfig) -> FormLimiter:
    """The form's limit as configured (COMPLAINT_FORM_*)."""
    return FormLimiter(config.form_requests_per_minute, config.form_burst, config.form_district_per_minute,
                       config.form_redis_url, config.form_redis_prefix)


def form_tokens(config: GatewayConfig) -> FormTokens:
    """The form tokens' signer: COMPLAINT_FORM_SECRET, or a key of this process only."""
    if config.form_secret:
        return FormTokens(config.form_secret)
    log.warning("COMPLAINT_FORM_SECRET is not set: form tokens are signed with a key of this process, which "
                "other replicas do not accept; set it wherever more than one gateway serves the form")
    return FormTokens(secrets.token_bytes(32))


# One lookup of a number reserved as a miss in one step, unless the number is locked (then the seconds
# left of its window). The window ends at a time of the caller's wall clock, kept in the hash, so that
# replicas agree (their clocks are NTP-close) and a test can move it; PEXPIRE only collects the key.
_RESERVE_MISS = """
local now, window, most = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local stored = redis.call('HMGET', KEYS[1], 'misses', 'ends')
local misses, ends = tonumber(stored[1]) or 0, tonumber(stored[2]) or 0
if ends <= now then misses, ends = 0, now + window end
if misses >= most then return string.format('%.6f', ends - now) end
redis.call('HSET', KEYS[1], 'misses', tostring(misses + 1), 'ends', string.format('%.6f', ends))
redis.call('PEXPIRE', KEYS[1], math.ceil((ends - now) * 1000) + 60000)
return '0'
"""
# A reserved lookup that was not a miss (the right digits, or complaints did not answer) given back;
# the window's count of real misses is untouched, and a number with none left is forgotten.
_RETURN_MISS = """
local now = tonumber(ARGV[1])
local stored = redis.call('HMGET', KEYS[1], 'misses', 'ends')
local misses, ends = tonumber(stored[1]), tonumber(stored[2])
if misses == nil or ends == nil or ends <= now then return 0 end
if misses <= 1 then redis.call('DEL', KEYS[1]) else redis.call('HSET', KEYS[1], 'misses', tostring(misses - 1)) end
return 1
"""


class MissLockout:
    """Misses per complaint number: after `max_misses` wrong lookups of one number within
    `window_seconds` (from its first miss), every lookup of it is refused until the window ends,
    whoever asks and whatever digits they give. Counted for unknown numbers alike, so a lock says
    nothing about whether the number exists.

    A lookup reserves a miss before complaints is asked and gives it back when it was not one, so
    that many lookups at once cannot all pass under the limit. With the form limiter's Redis the
    count is shared by every replica; when Redis does not answer, each process counts on its own
    (counted in supervision_gateway_form_limit_fallbacks_total, as the form's limit is)."""

    MAX_NUMBERS = 100_000  # in memory: beyond this the numbers whose window began first are forgotten

    def __init__(self, max_misses: int, window_seconds: float, redis_client=None,
                 prefix: str = "supervision:complaint-form:status:", clock: Callable[[], float] = time.time):
        self.max_misses, self.window_seconds = max_misses, window_seconds
        self.prefix = prefix
        # Wall-clock seconds: the window's end is shared between replicas.
        self.clock = clock
        self._redis = redis_client
        self._reserve = self._return = None
        if redis_client is not None:
            self._reserve = redis_client.register_script(_RESERVE_MISS)
            self._return = redis_client.register_script(_RETURN_MISS)
        self._redis_down_until = 0.0
        self._warned_at = -FormLimiter.WARN_EVERY_SECONDS
        self._windows: OrderedDict[str, tuple[int, float]] = OrderedDict()  # number -> (misses, ends)
        self._lock = threading.Lock()

    def reserve(self, number: str) -> float:
        """0 when the lookup may go ahead (counted as a miss until `give_back`); otherwise the seconds
        until the number's window ends. May block up to a Redis timeout."""
        now = self.clock()
        if self._reserve is not None and now >= self._redis_down_until:
            try:
                return float(self._reserve(keys=[self._key(number)],
                                           args=[repr(now), repr(self.window_seconds), self.max_misses]))
            except Exception as error:  # noqa: BLE001 - any Redis failure falls back, never a 500
                self._redis_failed(error, now)
        with self._lock:
            misses, ends = self._windows.get(number, (0, 0.0))
            if ends <= now:
                self._windows.pop(number, None)
                misses, ends = 0, now + self.window_seconds
            if misses >= self.max_misses:
                return ends - now
            self._windows[number] = (misses + 1, ends)
            while len(self._windows) > self.MAX_NUMBERS:
                self._windows.popitem(last=False)
        return 0.0

    def give_back(self, number: str) -> None:
        """The reserved lookup was not a miss: it no longer counts (the misses before it still do)."""
        now = self.clock()
        if self._return is not None and now >= self._redis_down_until:
            try:
                self._return(keys=[self._key(number)], args=[repr(now)])
                return
            except Exception as error:  # noqa: BLE001 - as in reserve
                self._redis_failed(error, now)
        with self._lock:
            misses, ends = self._windows.get(number, (0, 0.0))
            if misses and ends > now:
                if misses <= 1:
                    del self._windows[number]
                else:
                    self._windows[number] = (misses - 1, ends)

    def _key(self, number: str) -> str:
        return f"{self.prefix}number:{number}"

    def _redis_failed(self, error: Exception, now: float) -> None:
        FORM_LIMIT_FALLBACKS.inc()
        self._redis_down_until = now + FormLimiter.REDIS_RETRY_SECONDS
        if now - self._warned_at >= FormLimiter.WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("the complaint status lookup's shared miss count (Redis) did not answer; each gateway "
                        "counts on its own until it does", extra={"error": f"{type(error).__name__}: {error}"[:200]})
