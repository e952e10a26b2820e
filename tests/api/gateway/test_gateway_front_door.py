"""The gateway's front door (AUTH_MODE=jwt): what its public HTTP port must not serve (the process's
/metrics), the headers every response carries, live streams that end when their token expires, and
the development login that only an explicit setting prints."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html.parser
import time

import grpc
import jwt
import pytest

from services.common.auth import issue_service_token, issue_token
from services.common.config import ConfigError
from services.gateway.config import GatewayConfig
from services.gateway.http_api.routes import STATIC
from supervision.gateway.v1 import gateway_pb2 as pb
from tests.api.gateway.support import District
from tests.conftest import make_settings

SECRET = "gateway-front-door-test-secret-32-bytes"
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}
CSP_DIRECTIVES = {"default-src 'self'", "script-src 'self'", "img-src 'self' data:", "connect-src 'self'",
                  "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"}
EXPIRY_SECONDS = 2


def leader(ttl: dt.timedelta = dt.timedelta(hours=1)) -> str:
    return issue_token(SECRET, subject="leader", roles=["bureau_leader"], ttl=ttl)


def expiry_of(token: str) -> float:
    return jwt.decode(token, options={"verify_signature": False})["exp"]


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    running = District(tmp_path_factory.mktemp("front-door"), "sqlite:///" + str(
        tmp_path_factory.mktemp("front-door-store") / "gateway.db"), make_settings(AUTH_MODE="jwt", JWT_SECRET=SECRET))
    system = issue_service_token(SECRET, subject="test")
    running.add_offices(metadata=[("authorization", f"Bearer {system}")])
    yield running
    running.close()


# ---------------------------------------------------------------- /metrics


@pytest.mark.parametrize("with_token", [False, True])
def test_the_public_port_does_not_serve_the_process_metrics(district, with_token):
    reply = district.get("/metrics", token=leader() if with_token else "")
    assert reply.status == 404, reply.body
    assert "supervision_office_index" not in str(reply.body)


# ---------------------------------------------------------------- security headers


def assert_security_headers(headers: dict[str, str], what: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, f"{what}: {name} is {headers.get(name)!r}"
    policy = {d.strip() for d in headers.get("content-security-policy", "").split(";")}
    assert policy >= CSP_DIRECTIVES, f"{what}: Content-Security-Policy lacks {CSP_DIRECTIVES - policy}"
    assert not any("unsafe-inline" in d or "unsafe-eval" in d for d in policy if d.startswith(("script-src",
                                                                                               "default-src")))


@pytest.mark.parametrize(("method", "path", "authorized", "status"), [
    ("GET", "/", False, 200),
    ("GET", "/static/app.js", False, 200),
    ("GET", "/static/app.css", False, 200),
    ("GET", "/static/vendor/echarts.min.js", False, 200),
    ("GET", "/static/no-such-file.js", False, 404),
    ("GET", "/healthz", False, 200),
    ("GET", "/readyz", False, 200),
    ("GET", "/api/v1/openapi.json", False, 200),
    ("GET", "/api/v1/district", True, 200),
    ("GET", "/api/v1/offices", False, 401),
    ("GET", "/api/v1/offices/MH99", True, 404),
    ("GET", "/api/v1/indicators/index/history?resolution=year", True, 400),
    ("GET", "/no-such-page", False, 404),
    ("DELETE", "/api/v1/offices", True, 405),
    ("POST", "/api/v1/complaints", False, 415),
])
def test_every_kind_of_response_carries_the_security_headers(district, method, path, authorized, status):
    reply = district.request(method, path, token=leader() if authorized else "", raw=b"x" if method == "POST" else None,
                             headers={"Content-Type": "text/plain"} if method == "POST" else None)
    assert reply.status == status, reply.body
    assert_security_headers(reply.headers, f"{method} {path}")


def test_the_live_stream_carries_the_security_headers(district):
    stream = district.stream(token=leader())
    try:
        assert stream.response.status == 200
        assert_security_headers({k.lower(): v for k, v in stream.response.getheaders()}, "the live stream")
        assert stream.next()[1] == "snapshot"
    finally:
        stream.close()


class _InlineFinder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.inline.append("<script> without src")
        if tag == "style":
            self.inline.append("<style>")
        self.inline += [f"<{tag} {name}=...>" for name in names if name == "style" or name.startswith("on")]


def test_the_dashboard_has_no_inline_script_or_style_the_policy_would_block():
    finder = _InlineFinder()
    finder.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    assert not finder.inline, finder.inline
    for script in STATIC.glob("*.js"):
        text = script.read_text(encoding="utf-8")
        assert "innerHTML" not in text and "eval(" not in text and "new Function" not in text, script.name


# ---------------------------------------------------------------- streams end at the token's expiry


def test_a_live_stream_ends_when_its_token_expires(district):
    token = leader(dt.timedelta(seconds=EXPIRY_SECONDS))
    expires = expiry_of(token)
    stream = district.stream(query={"access_token": token})
    try:
        assert stream.next()[1] == "snapshot"
        seen = stream.until("token-expired", timeout=EXPIRY_SECONDS + 3)
        ended = time.time()
        assert seen[-1][2]["message"].startswith("token expired")
        assert expires - 0.1 <= ended <= expires + 1.5, (ended, expires)
        # and then the stream is over: the last chunk of the response follows, no keep-alive
        assert b"0\r\n" in [stream.response.fp.readline() for _ in range(3)]
    finally:
        stream.close()
    # The same client, reconnecting with its expired token, is refused.
    assert district.get("/api/v1/stream", token=token).status == 401


def test_a_grpc_watch_ends_with_unauthenticated_when_its_token_expires(district):
    token = leader(dt.timedelta(seconds=EXPIRY_SECONDS))
    expires = expiry_of(token)
    watch = district.monitoring.WatchIndices(pb.WatchIndicesRequest(), timeout=EXPIRY_SECONDS + 5,
                                             metadata=[("authorization", f"Bearer {token}")])
    received = 0
    with pytest.raises(grpc.RpcError) as ended:
        for _ in watch:
            received += 1
    assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED, ended.value.details()
    assert "token expired" in ended.value.details()
    assert received >= 1 and time.time() <= expires + 1.5


# ---------------------------------------------------------------- the development login


def test_the_dashboard_address_carries_a_token_only_with_the_development_login(district, monkeypatch):
    assert "token" not in district.gateway.dashboard_url("localhost")
    parts = district.gateway.parts
    monkeypatch.setattr(parts, "config", dataclasses.replace(parts.config, development_login=True))
    assert "#token=" in district.gateway.dashboard_url("localhost")


def test_the_development_login_setting_is_off_unless_said_and_checked():
    assert GatewayConfig.from_env({}).development_login is False
    assert GatewayConfig.from_env({"DEVELOPMENT_LOGIN": "true"}).development_login is True
    with pytest.raises(ConfigError, match="DEVELOPMENT_LOGIN"):
        GatewayConfig.from_env({"DEVELOPMENT_LOGIN": "sometimes"})


def test_a_deployed_gateway_refuses_the_development_login(monkeypatch):
    """`serve` is the microservices (deployed) mode: it stops before opening anything, naming the variable."""
    from services.common import runner
    from services.gateway import process

    class Started(Exception):
        pass

    def store(url):
        raise Started("serve went on with DEVELOPMENT_LOGIN=true")

    monkeypatch.setattr(runner, "Store", store)
    monkeypatch.setattr(runner.logs, "configure", lambda *args: None)
    for name, value in {"AMQP_URI": "amqp://guest:guest@127.0.0.1:1/", "DEVELOPMENT_LOGIN": "true",
                        "AUTH_MODE": "jwt", "JWT_SECRET": SECRET}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="DEVELOPMENT_LOGIN"):
        process.run(["serve"])
