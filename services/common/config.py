"""Configuration from the environment, validated at start.

A bad value stops the process with a message naming the variable and the form it expects,
instead of failing later in a way an operator has to debug.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypedDict, TypeVar

from services.common.clock import FileClock

T = TypeVar("T")

MIN_JWT_SECRET_BYTES = 32


class ConfigError(Exception):
    """A setting an operator must fix; entry points print it and exit with status 2 (no traceback)."""


def exit_on_config_error(main: Callable[[], None]) -> None:
    """Runs an entry point; a ConfigError ends it with its message on stderr and exit status 2."""
    try:
        main()
    except ConfigError as error:
        print(error, file=sys.stderr)
        raise SystemExit(2) from None


def read_setting(env: Mapping[str, str], name: str, default: str, parse: Callable[[str], T], form: str) -> T:
    """The variable `name` (else `default`) parsed by `parse`; a ValueError or TypeError of `parse`
    becomes a ConfigError naming the variable, its value and the `form` an operator should give."""
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


def positive_float(raw: str) -> float:
    """A parser of read_setting: a finite number above zero (seconds, rates)."""
    value = float(raw)
    if not math.isfinite(value) or value <= 0:
        raise ValueError("must be a finite number > 0")
    return value


def positive_int(raw: str) -> int:
    """A parser of read_setting: a whole number above zero (counts, days, sizes)."""
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
    # The longest a bearer token may live (exp - iat, and exp - now): a stolen token dies within it.
    jwt_max_lifetime_seconds: int = 12 * 3600
    # The same for service tokens (token_use=service): GATEWAY_SERVICE_TOKEN is set once per deploy.
    jwt_service_max_lifetime_seconds: int = 30 * 86400
    # Streaming calls (watches, reflection, exports) hold a server thread each while open: capped so
    # that unary calls and health checks always find one (see grpc_stream_settings).
    grpc_max_streams: int = 4
    grpc_max_streams_per_connection: int = 2
    # Idle connections are closed, and every connection is eventually retired so clients rebalance
    # and a stuck stream's connection does not live forever.
    grpc_max_connection_idle_seconds: float = 300.0
    # Short enough that callers re-resolve a headless Service and reach replicas added by a
    # scale-up within minutes; the grace lets calls on a retired connection finish.
    grpc_max_connection_age_seconds: float = 300.0
    grpc_max_connection_age_grace_seconds: float = 30.0
    # assessment's district live score reuses the sources' answers for this long (0: asks every
    # time); an office whose IndicatorsChanged was applied since is asked again at once.
    live_score_cache_seconds: float = 5.0
    # Evidence trails' HMAC keys as (key id, key) pairs and the id new records are sealed with; when
    # empty, a key file under data_dir holds them (services.common.hash_chain.TrailKeys). Kept out of
    # repr so that a logged Settings never shows a key.
    trail_keys: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)
    trail_active_key_id: str = ""
    # The key List methods seal page tokens with; empty: derived from JWT_SECRET, else random per
    # process (services.common.paging.page_token_key). Kept out of repr like every key.
    page_token_secret: str = field(default="", repr=False)
    # How long published outbox rows and inbox rows are kept, and how retention deletes them: in
    # batches of retention_batch_size rows, each its own short transaction, at most
    # retention_max_batches per table per sweep (see retention_settings).
    outbox_retention_days: int = 7
    inbox_retention_days: int = 30
    retention_batch_size: int = 1000
    retention_max_batches: int = 100
    # Broker namespace and worker health (see broker_settings).
    event_namespace: str = ""
    worker_stall_seconds: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Reads and checks every setting of `env` (default: the process environment); ConfigError
        naming the first bad variable."""
        env = os.environ if env is None else env
        auth_mode = read_setting(env, "AUTH_MODE", "off", _choice("off", "jwt"), "off or jwt")
        settings = cls(
            database_url=read_setting(env, "DATABASE_URL", "", _database_url,
                                      "sqlite:///path or postgresql+psycopg://user@host/db"),
            amqp_uri=read_setting(env, "AMQP_URI", "", _amqp_uri, "amqp://user:password@host:5672/"),
            grpc_port=read_setting(env, "GRPC_PORT", "50051", _port, "a TCP port 0-65535"),
            metrics_port=read_setting(env, "METRICS_PORT", "9090", _port, "a TCP port 0-65535"),
            http_port=read_setting(env, "HTTP_PORT", "8080", _port, "a TCP port 0-65535"),
            data_dir=env.get("DATA_DIR", "var"),
            log_level=read_setting(env, "LOG_LEVEL", "INFO", _choice("DEBUG", "INFO", "WARNING", "ERROR"),
                                   "DEBUG, INFO, WARNING or ERROR"),
            log_format=read_setting(env, "LOG_FORMAT", "json", _choice("json", "text"), "json or text"),
            auth_mode=auth_mode,
            jwt_secret=env.get("JWT_SECRET", ""),
            jwt_public_key=env.get("JWT_PUBLIC_KEY", ""),
            jwt_audience=env.get("JWT_AUDIENCE", "supervision-cloud"),
            jwt_issuer=env.get("JWT_ISSUER", ""),
            max_concurrent_rpcs=read_setting(env, "MAX_CONCURRENT_RPCS", "200", positive_int, "a positive integer"),
            grpc_workers=read_setting(env, "GRPC_WORKERS", "8", positive_int, "a positive integer"),
            drain_grace_seconds=read_setting(env, "DRAIN_GRACE_SECONDS", "20", positive_float, "seconds > 0"),
            relay_poll_seconds=read_setting(env, "RELAY_POLL_SECONDS", "1", positive_float, "seconds > 0"),
            sweep_interval_seconds=read_setting(env, "SWEEP_INTERVAL_SECONDS", "60", positive_float, "seconds > 0"),
            demo_data=read_setting(env, "DEMO_DATA", "true", boolean, "true or false"),
            working_calendar_file=read_setting(env, "WORKING_CALENDAR_FILE", "", _working_calendar_file,
                                               "a readable YAML file of holidays and adjusted workdays by year"),
            jwt_max_lifetime_seconds=read_setting(env, "JWT_MAX_LIFETIME_SECONDS", "43200", positive_int,
                                                  "a positive number of seconds"),
            jwt_service_max_lifetime_seconds=read_setting(env, "JWT_SERVICE_MAX_LIFETIME_SECONDS", "2592000",
                                                          positive_int, "a positive number of seconds"),
            **grpc_stream_settings(env),
            **live_score_settings(env),
            **trail_key_settings(env),
            page_token_secret=page_token_secret_setting(env),
            **retention_settings(env),
            **broker_settings(env),
            clock_file=read_setting(env, "CLOCK_FILE", "", _clock_file,
                                    "a readable file holding an ISO 8601 instant with its zone"),
        )
        if auth_mode == "jwt" and not (settings.jwt_secret or settings.jwt_public_key):
            raise ConfigError("configuration error: AUTH_MODE=jwt needs JWT_SECRET (HS256) or "
                              "JWT_PUBLIC_KEY (RS256/ES256, PEM)")
        if auth_mode == "jwt" and settings.jwt_secret and len(settings.jwt_secret.encode()) < MIN_JWT_SECRET_BYTES:
            # An HS256 key shorter than the hash is open to offline guessing from any one token.
            raise ConfigError(f"configuration error: JWT_SECRET is {len(settings.jwt_secret.encode())} bytes; "
                              f"expected at least {MIN_JWT_SECRET_BYTES} bytes of random data "
                              "(e.g. `openssl rand -base64 48`)")
        return settings


class GrpcStreamSettings(TypedDict):
    """The Settings fields of grpc_stream_settings."""

    grpc_max_streams: int
    grpc_max_streams_per_connection: int
    grpc_max_connection_idle_seconds: float
    grpc_max_connection_age_seconds: float
    grpc_max_connection_age_grace_seconds: float


def grpc_stream_settings(env: Mapping[str, str]) -> GrpcStreamSettings:
    """The gRPC stream caps and connection lifetimes; the stream cap must leave unary calls a thread."""
    workers = read_setting(env, "GRPC_WORKERS", "8", positive_int, "a positive integer")
    # By default half the threads may serve streams; the other half always remain for unary calls
    # and health checks, whatever number of idle streams clients open.
    max_streams = read_setting(env, "GRPC_MAX_STREAMS", str(workers // 2), _non_negative_int,
                               "a whole number >= 0 (0 refuses every streaming call)")
    if max_streams >= workers:
        raise ConfigError(f"configuration error: GRPC_MAX_STREAMS={max_streams} leaves no thread for unary "
                          f"calls and health checks; expected at most GRPC_WORKERS - 1 = {workers - 1} "
                          f"(default GRPC_WORKERS // 2 = {workers // 2})")
    return {
        "grpc_max_streams": max_streams,
        "grpc_max_streams_per_connection": read_setting(env, "GRPC_MAX_STREAMS_PER_CONNECTION", "2", positive_int,
                                                        "a positive integer"),
        "grpc_max_connection_idle_seconds": read_setting(env, "GRPC_MAX_CONNECTION_IDLE_SECONDS", "300",
                                                         positive_float, "seconds > 0"),
        "grpc_max_connection_age_seconds": read_setting(env, "GRPC_MAX_CONNECTION_AGE_SECONDS", "300",
                                                        positive_float, "seconds > 0"),
        "grpc_max_connection_age_grace_seconds": read_setting(env, "GRPC_MAX_CONNECTION_AGE_GRACE_SECONDS", "30",
                                                              positive_float, "seconds > 0"),
    }


class LiveScoreSettings(TypedDict):
    """The Settings field of live_score_settings."""

    live_score_cache_seconds: float


def live_score_settings(env: Mapping[str, str]) -> LiveScoreSettings:
    """LIVE_SCORE_CACHE_SECONDS: the longest the district live score serves the sources' answers."""
    return {
        # The freshness bound of the district live score when no event says an office changed.
        "live_score_cache_seconds": read_setting(env, "LIVE_SCORE_CACHE_SECONDS", "5", _non_negative_float,
                                                 "seconds >= 0 (0 asks the sources on every request)"),
    }


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value) or value < 0:
        raise ValueError("must be a finite number >= 0")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be >= 0")
    return value

def _clock_file(raw: str) -> str:
    if raw:
        FileClock(raw).now()  # raises ValueError for a missing file or a bad instant
    return raw


def _working_calendar_file(raw: str) -> str:
    if raw:
        from services.common.working_days import CalendarDataError, WorkingDayCalendar  # heavy: only when set

        # Read as the services will read it, so a missing file or a bad date fails here, named, and
        # not as a traceback from the first service that builds its clocks.
        try:
            WorkingDayCalendar.load(raw)
        except OSError as exc:
            raise ValueError(exc.strerror or str(exc)) from None
        except CalendarDataError as exc:
            raise ValueError(str(exc)) from None
    return raw


def boolean(raw: str) -> bool:
    """A parser of read_setting: true/false, yes/no, on/off or 1/0, in any case."""
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("not a boolean")


MIN_TRAIL_KEY_BYTES = 32
TRAIL_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


def parse_trail_keys(raw: str, source: str) -> dict[str, bytes]:
    """`id:base64key,id2:base64key` -> {id: key}; a ConfigError names `source` and never echoes a key."""
    keys: dict[str, bytes] = {}
    for number, entry in enumerate((e.strip() for e in raw.replace("\n", ",").split(",")), start=1):
        if not entry:
            continue
        key_id, colon, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not colon or not TRAIL_KEY_ID.match(key_id):
            raise ConfigError(f"configuration error: {source} entry {number} is not `id:base64key` with an id of "
                              "1-32 letters, digits or . _ -")
        if key_id in keys:
            raise ConfigError(f"configuration error: {source} names key id {key_id!r} twice")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"configuration error: {source} key {key_id!r} is not valid base64") from None
        if len(key) < MIN_TRAIL_KEY_BYTES:
            raise ConfigError(f"configuration error: {source} key {key_id!r} is {len(key)} bytes; expected at "
                              f"least {MIN_TRAIL_KEY_BYTES} bytes of random data (e.g. `openssl rand -base64 32`)")
        keys[key_id] = key
    return keys


class TrailKeySettings(TypedDict, total=False):
    """The Settings fields of trail_key_settings; absent when TRAIL_KEYS is empty (the key file applies)."""

    trail_keys: tuple[tuple[str, bytes], ...]
    trail_active_key_id: str


def trail_key_settings(env: Mapping[str, str]) -> TrailKeySettings:
    """TRAIL_KEYS and TRAIL_ACTIVE_KEY_ID, checked together: the active id must be one of the keys."""
    keys = parse_trail_keys(env.get("TRAIL_KEYS", ""), "TRAIL_KEYS")
    active = env.get("TRAIL_ACTIVE_KEY_ID", "").strip()
    if not keys:
        if active:
            raise ConfigError("configuration error: TRAIL_ACTIVE_KEY_ID is set but TRAIL_KEYS is empty; "
                              "expected TRAIL_KEYS=id:base64key[,id2:base64key]")
        return {}
    if not active:
        if len(keys) > 1:
            raise ConfigError("configuration error: TRAIL_ACTIVE_KEY_ID must name the key new trail records use "
                              f"when TRAIL_KEYS holds several ({', '.join(keys)})")
        active = next(iter(keys))
    if active not in keys:
        raise ConfigError(f"configuration error: TRAIL_ACTIVE_KEY_ID={active!r} is not among the TRAIL_KEYS ids "
                          f"({', '.join(keys)})")
    return {"trail_keys": tuple(keys.items()), "trail_active_key_id": active}


MIN_PAGE_TOKEN_SECRET_BYTES = 32


def page_token_secret_setting(env: Mapping[str, str]) -> str:
    """PAGE_TOKEN_SECRET: empty, or at least 32 bytes; never echoed in the error, being a key."""
    secret = env.get("PAGE_TOKEN_SECRET", "")
    if secret and len(secret.encode()) < MIN_PAGE_TOKEN_SECRET_BYTES:
        # A short key could be guessed offline from any one token, and then tokens forged.
        raise ConfigError(f"configuration error: PAGE_TOKEN_SECRET is {len(secret.encode())} bytes; expected "
                          f"at least {MIN_PAGE_TOKEN_SECRET_BYTES} bytes of random data "
                          "(e.g. `openssl rand -base64 48`), or unset to derive it from JWT_SECRET")
    return secret


EVENT_NAMESPACE_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{0,32}$")


def event_namespace_setting(env: Mapping[str, str]) -> str:
    """EVENT_NAMESPACE: empty, or up to 32 letters, digits, `-`, `_` or `.` prefixing every exchange and queue."""
    raw = env.get("EVENT_NAMESPACE", "").strip()
    # Queue names are capped at 255 bytes and nameko's already run long; the characters are those that
    # need no quoting anywhere a queue name appears (rabbitmqctl, the management UI, metrics labels).
    if not EVENT_NAMESPACE_PATTERN.match(raw) or raw.startswith((".", "-")):
        raise ConfigError(f"configuration error: EVENT_NAMESPACE={raw!r} is invalid; expected up to 32 letters, "
                          "digits, -, _ or . (not starting with . or -), or empty for no prefix")
    return raw


class BrokerSettings(TypedDict):
    """The Settings fields of broker_settings."""

    event_namespace: str
    worker_stall_seconds: float


def broker_settings(env: Mapping[str, str]) -> BrokerSettings:
    """The broker namespace (EVENT_NAMESPACE) and how long a worker's consumer may go without a beat."""
    return {
        # Prefixes every exchange and queue name, for environments sharing a broker without a vhost of
        # their own; the vhost itself is part of AMQP_URI.
        "event_namespace": event_namespace_setting(env),
        # /livez of a worker turns 503 when its consumer loop has not beaten for this long.
        "worker_stall_seconds": read_setting(env, "WORKER_STALL_SECONDS", "60", positive_float, "seconds > 0"),
    }


# An inbox row must outlive every duplicate of its event. RabbitMQ redelivers only what was not
# acknowledged, so a duplicate is either a copy left unacknowledged when a consumer died after its
# commit (delivered again once a consumer takes it from the queue) or a row the relay published but
# could not mark sent (published again when a relay of that service runs again). Its age is thus
# bounded by the longest outage of a consumer or a publisher plus the queue's drain time; a week
# covers any outage the alerts let run, and beyond it the store is restored from a backup anyway.
MIN_INBOX_RETENTION_DAYS = 7


class RetentionSettings(TypedDict):
    """The Settings fields of retention_settings."""

    outbox_retention_days: int
    inbox_retention_days: int
    retention_batch_size: int
    retention_max_batches: int


def retention_settings(env: Mapping[str, str]) -> RetentionSettings:
    """OUTBOX_RETENTION_DAYS, INBOX_RETENTION_DAYS (at least MIN_INBOX_RETENTION_DAYS) and the batching."""
    inbox_days = read_setting(env, "INBOX_RETENTION_DAYS", "30", positive_int, "whole days > 0")
    if inbox_days < MIN_INBOX_RETENTION_DAYS:
        raise ConfigError(f"configuration error: INBOX_RETENTION_DAYS={inbox_days} is below the floor of "
                          f"{MIN_INBOX_RETENTION_DAYS} days; a redelivery older than the inbox's retention would "
                          "be applied twice (expected whole days >= "
                          f"{MIN_INBOX_RETENTION_DAYS}, longer than any outage of a consumer or a publisher)")
    return {
        # Published rows only: an unpublished row is never deleted, whatever its age.
        "outbox_retention_days": read_setting(env, "OUTBOX_RETENTION_DAYS", "7", positive_int, "whole days > 0"),
        "inbox_retention_days": inbox_days,
        # Rows per DELETE: each batch is its own transaction, so locks are held briefly.
        "retention_batch_size": read_setting(env, "RETENTION_BATCH_SIZE", "1000", positive_int, "a positive integer"),
        # Bounds one sweep's work; a bigger backlog goes on at the next sweep.
        "retention_max_batches": read_setting(env, "RETENTION_MAX_BATCHES", "100", positive_int, "a positive integer"),
    }


def data_dir_setting(settings: Settings) -> str:
    """DATA_DIR, made if missing and checked writable; ConfigError naming DATA_DIR otherwise."""
    path = settings.data_dir
    if not path.strip():
        raise ConfigError("configuration error: DATA_DIR is empty; expected a directory this process may write "
                          "(default var)")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"configuration error: DATA_DIR={path!r} cannot be created; expected a directory this "
                          f"process may write ({exc.strerror or exc})") from None
    # os.access answers for the real user; a probe file is what SQLite and the trail key file will meet.
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(f"configuration error: DATA_DIR={path!r} is not writable; expected a directory this "
                          f"process may write ({exc.strerror or exc})") from None
    return path


def service_database_url(service: str, settings: Settings, *, variable: str = "DATABASE_URL",
                         env: Mapping[str, str] | None = None) -> str:
    """The store URL of `service` from `variable` (DATABASE_URL for one service's process, or
    <SERVICE>_DATABASE_URL in the monolith), else its SQLite file under DATA_DIR; checked at start:
    the URL's form, DATA_DIR when a file is kept there, and one connection. ConfigError names the
    variable, never the password."""
    from services.common.db import shown_url, sqlite_url, unreachable_reason  # the store layer only here

    if variable == "DATABASE_URL":
        url = settings.database_url.strip()  # read and checked with the other settings
    else:
        env = os.environ if env is None else env
        url = read_setting(env, variable, "", _database_url, "sqlite:///path or postgresql+psycopg://user@host/db").strip()
    source = variable
    if not url:
        # Only then: a pod with a read-only root file system and its store elsewhere needs no DATA_DIR.
        url, source = sqlite_url(data_dir_setting(settings), service), "DATA_DIR"
    reason = unreachable_reason(url)
    if reason is not None:
        expected = ("a SQLite file in a directory this process may write" if url.startswith("sqlite")
                    else "a PostgreSQL server reachable from here, with that database and user")
        raise ConfigError(f"configuration error: {source}: the store of {service} at {shown_url(url)} cannot be "
                          f"opened ({reason}); expected {expected}")
    return url


def monolith_database_url(service: str, settings: Settings, env: Mapping[str, str] | None = None) -> str:
    """In the monolith: <SERVICE>_DATABASE_URL, else the SQLite file under DATA_DIR (DATABASE_URL would
    put every service's tables in one database, so the monolith does not read it)."""
    return service_database_url(service, settings, variable=f"{service.upper()}_DATABASE_URL", env=env)
