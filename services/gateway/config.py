"""The gateway's own settings, from the environment, validated at start like services.common.config
(a bad value stops the process naming the variable and the form it expects)."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from services.common.config import ConfigError
from services.common.sources import sources_from_env

T = TypeVar("T")


@dataclass(frozen=True)
class GatewayConfig:
    # Source service -> "host:port" of its IndicatorSource (INDICATOR_SOURCES).
    sources: dict[str, str]
    source_timeout_seconds: float
    reconcile_interval_seconds: float
    history_minute_days: int
    history_day_days: int
    stream_replay_size: int
    stream_heartbeat_seconds: float
    stream_max_clients: int
    form_requests_per_minute: float
    form_burst: int
    form_trust_forwarded: bool
    # A bearer token for the gateway's own calls when AUTH_MODE=jwt and no JWT_SECRET can mint one.
    service_token: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GatewayConfig:
        env = os.environ if env is None else env
        return cls(
            sources=sources_from_env(env),
            source_timeout_seconds=_read(env, "INDICATOR_SOURCE_TIMEOUT_SECONDS", "3", _positive, "seconds > 0"),
            reconcile_interval_seconds=_read(env, "RECONCILE_INTERVAL_SECONDS", "30", _positive, "seconds > 0"),
            history_minute_days=_read(env, "HISTORY_MINUTE_RETENTION_DAYS", "7", _count, "whole days >= 1"),
            history_day_days=_read(env, "HISTORY_DAY_RETENTION_DAYS", "800", _count, "whole days >= 1"),
            stream_replay_size=_read(env, "STREAM_REPLAY_SIZE", "10000", _count, "a number of changes >= 1"),
            stream_heartbeat_seconds=_read(env, "STREAM_HEARTBEAT_SECONDS", "15", _positive, "seconds > 0"),
            stream_max_clients=_read(env, "STREAM_MAX_CLIENTS", "5000", _count, "a number of clients >= 1"),
            form_requests_per_minute=_read(env, "COMPLAINT_FORM_RATE_PER_MINUTE", "5", _positive,
                                           "submissions per minute per client > 0"),
            form_burst=_read(env, "COMPLAINT_FORM_BURST", "3", _count, "a number of submissions >= 1"),
            form_trust_forwarded=_read(env, "COMPLAINT_FORM_TRUST_FORWARDED", "false", _boolean, "true or false"),
            service_token=env.get("GATEWAY_SERVICE_TOKEN", ""),
        )


def _read(env: Mapping[str, str], name: str, default: str, parse: Callable[[str], T], form: str) -> T:
    raw = env.get(name, default)
    try:
        return parse(raw)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"configuration error: {name}={raw!r} is invalid; expected {form} ({exc})") from None


def _positive(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or value <= 0:
        raise ValueError("must be a finite number > 0")
    return value


def _count(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be >= 1")
    return value


def _boolean(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("not a boolean")
