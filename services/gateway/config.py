"""The gateway's own settings, from the environment, validated at start like services.common.config
(a bad value stops the process naming the variable and the form it expects)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

from services.common.config import ConfigError, boolean, positive_float, positive_int, read_setting
from services.common.sources import sources_from_env


@dataclass(frozen=True)
class GatewayConfig:
    # Source service -> "host:port" of its IndicatorSource (INDICATOR_SOURCES).
    sources: dict[str, str]
    source_timeout_seconds: float
    reconcile_interval_seconds: float
    history_minute_days: int
    history_day_days: int
    # One gateway replica writes the index history (services.gateway.recorder): it holds a lease this
    # long, renewed at every write (each second); when it stops, another replica writes within it.
    history_writer_lease_seconds: float
    stream_replay_size: int
    stream_heartbeat_seconds: float
    stream_max_clients: int
    form_requests_per_minute: float
    form_burst: int
    # Peers whose X-Forwarded-For is believed (the Ingress controller, a load balancer).
    form_trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    # Every citizen together: what the bureau can take in from the form.
    form_district_per_minute: float
    # Where every replica keeps the form's buckets; empty: each process its own (monolith, development).
    form_redis_url: str
    form_redis_prefix: str
    # Signs the form tokens; replicas need the same key to accept each other's. Empty: a random key
    # per process (one process only).
    form_secret: bytes
    # A bearer token for the gateway's own calls when AUTH_MODE=jwt and no JWT_SECRET can mint one.
    service_token: str
    # `make run` only: the dashboard's address printed at start carries an 8-hour bureau-leader token.
    development_login: bool = False
    # The public status lookup: a complaint number with this many misses (wrong digits, or no such
    # number) within the window is locked until the window ends, so its four digits cannot be tried.
    status_max_misses: int = 10
    status_miss_window_seconds: float = 86400.0
    # The field app's attachment store (photos, signatures, signed records): a directory or an S3 bucket.
    attachment_store: str = "directory"
    attachment_dir: str = "var/attachments"
    attachment_s3_bucket: str = ""
    # Empty: AWS's own endpoint for the region; else an S3-compatible store (MinIO, Ceph...).
    attachment_s3_endpoint: str = ""
    attachment_s3_region: str = ""
    attachment_max_bytes: int = 10 * 1024 * 1024
    # The bureau's identity provider the field app signs in with (authorization code with PKCE);
    # empty issuer: no sign-in offered by the app (AUTH_MODE=off, or tokens obtained otherwise).
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_scopes: str = "openid profile"
    # Empty: the app discovers them from the issuer's /.well-known/openid-configuration.
    oidc_authorization_endpoint: str = ""
    oidc_token_endpoint: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GatewayConfig:
        env = os.environ if env is None else env
        if "COMPLAINT_FORM_TRUST_FORWARDED" in env:
            # Trusting any peer's X-Forwarded-For let a client choose its own address; refused, not
            # mapped, so that an operator decides which proxies to trust.
            raise ConfigError("configuration error: COMPLAINT_FORM_TRUST_FORWARDED is no longer read; list the "
                              "proxies whose X-Forwarded-For is trusted in COMPLAINT_FORM_TRUSTED_PROXIES "
                              "(e.g. 10.0.0.0/8) and unset it")
        return cls(
            sources=sources_from_env(env),
            source_timeout_seconds=read_setting(env, "INDICATOR_SOURCE_TIMEOUT_SECONDS", "3", positive_float,
                                                "seconds > 0"),
            reconcile_interval_seconds=read_setting(env, "RECONCILE_INTERVAL_SECONDS", "30", positive_float,
                                                    "seconds > 0"),
            history_minute_days=read_setting(env, "HISTORY_MINUTE_RETENTION_DAYS", "7", positive_int,
                                             "whole days >= 1"),
            history_day_days=read_setting(env, "HISTORY_DAY_RETENTION_DAYS", "800", positive_int, "whole days >= 1"),
            history_writer_lease_seconds=read_setting(env, "HISTORY_WRITER_LEASE_SECONDS", "10", _lease,
                                                      "seconds >= 2 (the writer renews it every second)"),
            stream_replay_size=read_setting(env, "STREAM_REPLAY_SIZE", "10000", positive_int,
                                            "a number of changes >= 1"),
            stream_heartbeat_seconds=read_setting(env, "STREAM_HEARTBEAT_SECONDS", "15", positive_float, "seconds > 0"),
            stream_max_clients=read_setting(env, "STREAM_MAX_CLIENTS", "5000", positive_int,
                                            "a number of clients >= 1"),
            form_requests_per_minute=read_setting(env, "COMPLAINT_FORM_RATE_PER_MINUTE", "5", positive_float,
                                                  "submissions per minute per client > 0"),
            form_burst=read_setting(env, "COMPLAINT_FORM_BURST", "3", positive_int, "a number of submissions >= 1"),
            form_trusted_proxies=read_setting(env, "COMPLAINT_FORM_TRUSTED_PROXIES", "", _networks,
                                              "comma-separated addresses or CIDRs, e.g. 10.0.0.0/8,127.0.0.1/32"),
            form_district_per_minute=read_setting(env, "COMPLAINT_FORM_DISTRICT_PER_MINUTE", "60", positive_float,
                                                  "submissions per minute from everyone > 0"),
            form_redis_url=read_setting(env, "COMPLAINT_FORM_REDIS_URL", "", _redis_url,
                                        "redis://host:port/db or empty"),
            form_redis_prefix=env.get("COMPLAINT_FORM_REDIS_PREFIX", "") or "supervision:complaint-form:",
            form_secret=read_setting(env, "COMPLAINT_FORM_SECRET", "", _secret, "at least 32 characters, or empty"),
            service_token=env.get("GATEWAY_SERVICE_TOKEN", ""),
            development_login=read_setting(env, "DEVELOPMENT_LOGIN", "false", boolean, "true or false"),
            status_max_misses=read_setting(env, "COMPLAINT_STATUS_MAX_MISSES", "10", positive_int,
                                           "a number of misses >= 1"),
            status_miss_window_seconds=read_setting(env, "COMPLAINT_STATUS_MISS_WINDOW_SECONDS", "86400",
                                                    positive_float, "seconds > 0"),
            **_field_settings(env),
        )


ATTACHMENT_STORES = ("directory", "s3")


def _field_settings(env: Mapping[str, str]) -> dict[str, object]:
    """The field app's settings (ATTACHMENT_*, OIDC_*), each checked; ConfigError names the variable."""
    store = read_setting(env, "ATTACHMENT_STORE", "directory", _one_of(ATTACHMENT_STORES), "directory or s3")
    bucket = env.get("ATTACHMENT_S3_BUCKET", "").strip()
    if store == "s3" and not bucket:
        raise ConfigError("configuration error: ATTACHMENT_STORE=s3 needs ATTACHMENT_S3_BUCKET (the bucket's name)")
    issuer = read_setting(env, "OIDC_ISSUER", "", _secure_url, "an https:// URL (http:// only for localhost) or empty")
    client_id = env.get("OIDC_CLIENT_ID", "").strip()
    if issuer and not client_id:
        raise ConfigError("configuration error: OIDC_ISSUER is set but OIDC_CLIENT_ID is empty; expected the field "
                          "app's client id at the identity provider")
    return {
        "attachment_store": store,
        "attachment_dir": env.get("ATTACHMENT_DIR", "").strip() or os.path.join(env.get("DATA_DIR", "var"),
                                                                                "attachments"),
        "attachment_s3_bucket": bucket,
        "attachment_s3_endpoint": read_setting(env, "ATTACHMENT_S3_ENDPOINT", "", _url,
                                               "an http(s):// URL or empty (AWS's own endpoint)"),
        "attachment_s3_region": env.get("ATTACHMENT_S3_REGION", "").strip(),
        "attachment_max_bytes": read_setting(env, "ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024), _attachment_limit,
                                             f"a number of bytes from 1 to {ATTACHMENT_CEILING_BYTES}"),
        "oidc_issuer": issuer.rstrip("/"),
        "oidc_client_id": client_id,
        "oidc_scopes": " ".join(env.get("OIDC_SCOPES", "").split()) or "openid profile",
        "oidc_authorization_endpoint": read_setting(env, "OIDC_AUTHORIZATION_ENDPOINT", "", _secure_url,
                                                    "an https:// URL or empty (discovered from OIDC_ISSUER)"),
        "oidc_token_endpoint": read_setting(env, "OIDC_TOKEN_ENDPOINT", "", _secure_url,
                                            "an https:// URL or empty (discovered from OIDC_ISSUER)"),
    }


def _one_of(choices: tuple[str, ...]):
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError(f"not one of {', '.join(choices)}")
        return value

    return parse


def _url(raw: str) -> str:
    """An absolute http(s) URL with a host, or empty; plain http only for this machine (development)."""
    from urllib.parse import urlsplit

    raw = raw.strip()
    if not raw:
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    return raw


def _secure_url(raw: str) -> str:
    """_url, https only but for this machine: a token endpoint over plain http would leak the codes."""
    from urllib.parse import urlsplit

    value = _url(raw)
    if value and urlsplit(value).scheme == "http" and urlsplit(value).hostname not in ("localhost", "127.0.0.1", "::1"):
        raise ValueError("plain http only for localhost")
    return value


# mobile_enforcement records no evidence file larger than this (its own bound): an upload limit above
# it would store files whose record is then refused.
ATTACHMENT_CEILING_BYTES = 64 * 1024 * 1024


def _attachment_limit(raw: str) -> int:
    value = positive_int(raw)
    if value > ATTACHMENT_CEILING_BYTES:
        raise ValueError("too large")
    return value


def _lease(raw: str) -> float:
    value = positive_float(raw)
    if value < 2:
        raise ValueError("must be >= 2")
    return value


def _networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip())


def _redis_url(raw: str) -> str:
    raw = raw.strip()
    if raw and not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must start with redis://, rediss:// or unix://")
    return raw


def _secret(raw: str) -> bytes:
    if raw and len(raw) < 32:
        raise ValueError("too short")
    return raw.encode()
