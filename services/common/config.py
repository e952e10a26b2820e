"""Configuration from the environment, validated at start.

A bad value stops the process with a message naming the variable and the form it expects,
instead of failing later in a way an operator has to debug.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from services.common.clock import FileClock

T = TypeVar("T")


class ConfigError(Exception):
    """A setting an operator must fix; entry points print it and exit with status 2 (no traceback)."""


def exit_on_config_error(main: Callable[[], None]) -> None:
    try:
        main()
    except ConfigError as error:
        print(error, file=sys.stderr)
        raise SystemExit(2) from None


def _read(env: Mapping[str, str], name: str, default: str, parse: Callable[[str], T], form: str) -> T:
    raw = env.get(name, default)
    try:
        return parse(raw)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"configuration error: {name}={raw!r} is invalid; expected {form} ({exc})") from None


def _port(raw: str) -> int:
    port = int(raw)
    if not 0 <= port <= 65535:
        raise ValueError("out of range")
    return port


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or value <= 0:
        raise ValueError("must be a finite number > 0")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("must be > 0")
    return value


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"not one of {', '.join(choices)}")
        return raw

    return parse


def _database_url(raw: str) -> str:
    if raw and not raw.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
        raise ValueError("unsupported scheme")
    return raw


def _amqp_uri(raw: str) -> str:
    if raw and not raw.startswith(("amqp://", "amqps://")):
        raise ValueError("unsupported scheme")
    return raw


@dataclass(frozen=True)
class Settings:
    """Everything a process reads from its environment. README lists each variable."""

    database_url: str
    amqp_uri: str
    grpc_port: int
    metrics_port: int
    http_port: int
    data_dir: str
    log_level: str
    log_format: str
    auth_mode: str
    jwt_secret: str
    jwt_public_key: str
    jwt_audience: str
    jwt_issuer: str
    max_concurrent_rpcs: int
    grpc_workers: int
    drain_grace_seconds: float
    relay_poll_seconds: float
    sweep_interval_seconds: float
    demo_data: bool
    working_calendar_file: str
    # Rehearsals and tests of whole periods only: the services' today and now come from this file.
    clock_file: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        auth_mode = _read(env, "AUTH_MODE", "off", _choice("off", "jwt"), "off or jwt")
        settings = cls(
            database_url=_read(env, "DATABASE_URL", "", _database_url,
                               "sqlite:///path or postgresql+psycopg://user@host/db"),
            amqp_uri=_read(env, "AMQP_URI", "", _amqp_uri, "amqp://user:password@host:5672/"),
            grpc_port=_read(env, "GRPC_PORT", "50051", _port, "a TCP port 0-65535"),
            metrics_port=_read(env, "METRICS_PORT", "9090", _port, "a TCP port 0-65535"),
            http_port=_read(env, "HTTP_PORT", "8080", _port, "a TCP port 0-65535"),
            data_dir=env.get("DATA_DIR", "var"),
            log_level=_read(env, "LOG_LEVEL", "INFO", _choice("DEBUG", "INFO", "WARNING", "ERROR"),
                            "DEBUG, INFO, WARNING or ERROR"),
            log_format=_read(env, "LOG_FORMAT", "json", _choice("json", "text"), "json or text"),
            auth_mode=auth_mode,
            jwt_secret=env.get("JWT_SECRET", ""),
            jwt_public_key=env.get("JWT_PUBLIC_KEY", ""),
            jwt_audience=env.get("JWT_AUDIENCE", "supervision-cloud"),
            jwt_issuer=env.get("JWT_ISSUER", ""),
            max_concurrent_rpcs=_read(env, "MAX_CONCURRENT_RPCS", "200", _positive_int, "a positive integer"),
            grpc_workers=_read(env, "GRPC_WORKERS", "8", _positive_int, "a positive integer"),
            drain_grace_seconds=_read(env, "DRAIN_GRACE_SECONDS", "20", _positive_float, "seconds > 0"),
            relay_poll_seconds=_read(env, "RELAY_POLL_SECONDS", "1", _positive_float, "seconds > 0"),
            sweep_interval_seconds=_read(env, "SWEEP_INTERVAL_SECONDS", "60", _positive_float, "seconds > 0"),
            demo_data=_read(env, "DEMO_DATA", "true", _boolean, "true or false"),
            working_calendar_file=env.get("WORKING_CALENDAR_FILE", ""),
            clock_file=_read(env, "CLOCK_FILE", "", _clock_file,
                             "a readable file holding an ISO 8601 instant with its zone"),
        )
        if auth_mode == "jwt" and not (settings.jwt_secret or settings.jwt_public_key):
            raise ConfigError("configuration error: AUTH_MODE=jwt needs JWT_SECRET (HS256) or "
                              "JWT_PUBLIC_KEY (RS256/ES256, PEM)")
        return settings


def _clock_file(raw: str) -> str:
    if raw:
        FileClock(raw).now()  # raises ValueError for a missing file or a bad instant
    return raw


def _boolean(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("not a boolean")
