"""What every route of the field API shares: its settings, who is acting (the token's officer, or with
AUTH_MODE=off the demo officer X-Development-Officer names), the bounded reading of request bodies,
the checks of the common fields, and the answers (the gateway's JSON shape; a version conflict as 409
with status ABORTED and the inspection as it is now)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from services.common.context import Caller
from services.common.errors import FieldViolation, InvalidArgument, PermissionDenied
from services.gateway.domain.uploads import CONTENT_TYPES, TooLarge
from services.gateway.http_api.exports import forwarded_authorization
from services.gateway.http_api.field_calls import Conflict, FieldServices
from services.gateway.http_api.security import HttpAuth
from services.gateway.upstream import Upstream

DEVELOPMENT_OFFICER = "X-Development-Officer"
JSON_MAX_BYTES = 64 * 1024
MAX_REQUEST_ID = 128
MAX_ID = 64
READ_CHUNK = 64 * 1024
# Answers smaller than this go as they are: compressing them saves less than it costs.
COMPRESS_ABOVE_BYTES = 1024


@dataclass(frozen=True)
class FieldSettings:
    """The field app's settings (GatewayConfig's ATTACHMENT_* and OIDC_*) and its attachment store."""

    store: object  # services.gateway.attachments.AttachmentStore
    max_bytes: int = 10 * 1024 * 1024
    content_types: tuple[str, ...] = CONTENT_TYPES
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_scopes: str = "openid profile"
    oidc_authorization_endpoint: str = ""
    oidc_token_endpoint: str = ""
    # Origins the field pages may fetch from besides their own (the identity provider's).
    extra_origins: tuple[str, ...] = field(default=())

    @classmethod
    def from_config(cls, config, store) -> FieldSettings:
        """The settings of a GatewayConfig, with the store it names."""
        from urllib.parse import urlsplit

        urls = (config.oidc_issuer, config.oidc_authorization_endpoint, config.oidc_token_endpoint)
        origins = tuple(dict.fromkeys(f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in urls if u))
        return cls(store, config.attachment_max_bytes, CONTENT_TYPES, config.oidc_issuer, config.oidc_client_id,
                   config.oidc_scopes, config.oidc_authorization_endpoint, config.oidc_token_endpoint, origins)

    def oidc(self) -> dict | None:
        """What the app needs to sign in, or None when no identity provider is configured."""
        if not self.oidc_issuer:
            return None
        return {"issuer": self.oidc_issuer, "client_id": self.oidc_client_id, "scopes": self.oidc_scopes,
                "authorization_endpoint": self.oidc_authorization_endpoint,
                "token_endpoint": self.oidc_token_endpoint}


@dataclass
class Acting:
    """Who acts in a field request: the officer and office, and the services as seen with their rights."""

    caller: Caller
    officer_id: str
    office_id: str
    services: FieldServices
    officer: object = None  # the command_center Officer, when read
    # AUTH_MODE=off: the services see the gateway, so the acting office is checked here.
    development: bool = False

    def require_office(self) -> str:
        """The acting office; PermissionDenied for a caller of no office (a district-wide role), or
        with AUTH_MODE=off a 400 asking for X-Development-Officer."""
        if not self.office_id and self.development:
            raise InvalidArgument("请先选择演示执法人员（X-Development-Officer 请求头） / choose a development "
                                  "officer (X-Development-Officer)",
                                  [FieldViolation(DEVELOPMENT_OFFICER, "required with AUTH_MODE=off")])
        if not self.office_id:
            raise PermissionDenied("现场执法应用只供执法单位（所）的执法人员使用 / the field app is for an office's "
                                   "officers; this token names no office")
        return self.office_id

    def require_same_office(self, office_id: str) -> None:
        """PermissionDenied unless the record's office is the acting one."""
        if office_id != self.require_office():
            raise PermissionDenied("无权操作：记录属于其他执法单位 / permission denied: the record belongs to "
                                   "another office")


async def acting(request: web.Request, auth: HttpAuth, upstream: Upstream) -> Acting:
    """The acting officer: with tokens, the token's subject and office (X-Development-Officer is
    ignored); with AUTH_MODE=off, the demo officer X-Development-Officer names, checked against
    command_center's officers (unknown: 400), or nobody when it is absent."""
    caller = auth.caller(request)  # 401 for a missing or invalid token
    if auth.verifier is not None:
        services = FieldServices(upstream, forwarded_authorization(request, auth))
        return Acting(caller, caller.subject, caller.office_id, services)
    services = FieldServices(upstream, None)
    officer_id = request.headers.get(DEVELOPMENT_OFFICER, "").strip()
    if not officer_id:
        return Acting(caller, "", "", services, development=True)
    officer = await asyncio.to_thread(services.officer, officer_id[:MAX_ID]) if len(officer_id) <= MAX_ID else None
    if officer is None:
        raise InvalidArgument(f"没有这名演示执法人员：{officer_id[:MAX_ID]} / unknown development officer",
                              [FieldViolation(DEVELOPMENT_OFFICER, "not an officer of command_center")])
    return Acting(caller, officer.id, officer.office_id, services, officer, development=True)


def answer(body, status: int = 200, headers=None) -> web.Response:
    """A JSON answer (UTF-8, not escaped), never cached: it is one officer's work."""
    response = web.json_response(body, status=status, headers=headers,
                                 dumps=lambda value: json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    response.headers.setdefault("Cache-Control", "no-store")
    if len(response.body) > COMPRESS_ABOVE_BYTES:
        response.enable_compression()  # only when the client accepts it; a phone on a slow network
    return response


def conflict_answer(conflict: Conflict) -> web.Response:
    """409 with status ABORTED and `current`, the inspection as it is now (null when unknown)."""
    return answer({"error": {"code": 409, "status": "ABORTED", "message": conflict.message,
                             "current": conflict.current}}, status=409)


def with_conflicts(handler: Callable[..., Awaitable[web.StreamResponse]]):
    """The handler, answering a version conflict as conflict_answer does."""
    async def wrapped(*args) -> web.StreamResponse:
        try:
            return await handler(*args)
        except Conflict as conflict:
            return conflict_answer(conflict)

    return wrapped


async def read_limited(request: web.Request, max_bytes: int) -> bytes:
    """The request body, never holding more than max_bytes + 1 of it; TooLarge past max_bytes."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise TooLarge.limit(max_bytes)
    chunks, held = [], 0
    while True:
        chunk = await request.content.read(min(READ_CHUNK, max_bytes + 1 - held))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        held += len(chunk)
        if held > max_bytes:
            raise TooLarge.limit(max_bytes)


async def json_body(request: web.Request) -> dict:
    """The JSON object the request carries; 415 unless JSON, 413 past JSON_MAX_BYTES, 400 unless an object."""
    from services.gateway.domain.uploads import UnsupportedType

    if request.content_type != "application/json":
        raise UnsupportedType("请以 application/json 提交 / send application/json")
    raw = await read_limited(request, JSON_MAX_BYTES)
    try:
        body = json.loads(raw)
        # \u escapes can name lone surrogates, which are no text (and no protobuf string).
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError):
        raise InvalidArgument("请求体不是有效的 JSON / the body is not valid JSON",
                              [FieldViolation("body", "not valid JSON")]) from None
    if not isinstance(body, dict):
        raise InvalidArgument("请求体须为 JSON 对象 / the body must be a JSON object",
                              [FieldViolation("body", "not a JSON object")])
    return body


def request_id(value) -> str:
    """The action's request_id: required (the app's retries are recognised by it), at most 128 characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument("缺少 request_id：每次操作须带一个唯一编号，重试时沿用 / request_id is required",
                              [FieldViolation("request_id", "required")])
    if len(value) > MAX_REQUEST_ID:
        raise InvalidArgument(f"request_id 不能超过 {MAX_REQUEST_ID} 个字符 / request_id is too long",
                              [FieldViolation("request_id", f"at most {MAX_REQUEST_ID} characters")])
    return value.strip()


def expected_version(value) -> int:
    """The version the app last saw (0: not compared); 400 unless a whole number >= 0."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        value = "x"
    try:
        number = int(value)
    except ValueError:
        number = -1
    if not 0 <= number < 2**63:
        raise InvalidArgument("expected_version 须为非负整数 / expected_version must be a whole number >= 0",
                              [FieldViolation("expected_version", "a whole number >= 0")])
    return number


def text(body: dict, name: str, limit: int = 2000, required: bool = False) -> str:
    """A string field of the body; 400 when not a string, too long, or missing while required."""
    value = body.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidArgument(f"{name} 须为不超过 {limit} 个字的文本 / {name} must be text of at most {limit} "
                              "characters", [FieldViolation(name, f"text of at most {limit} characters")])
    if required and not value.strip():
        raise InvalidArgument(f"缺少 {name} / {name} is required", [FieldViolation(name, "required")])
    return value


def instant(raw, name: str, required: bool = True) -> dt.datetime | None:
    """An ISO 8601 time with its zone; 400 otherwise (or when missing and required)."""
    if raw in (None, ""):
        if required:
            raise InvalidArgument(f"缺少 {name} / {name} is required", [FieldViolation(name, "required")])
        return None
    try:
        value = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise InvalidArgument(f"{name} 须为带时区的 ISO 8601 时间，如 2026-12-07T09:30:00+08:00 / {name} must be "
                              "an ISO 8601 time with its zone", [FieldViolation(name, "ISO 8601 time with zone")])
    return value.astimezone(dt.UTC)


def number(raw, name: str, low: float | None = None, high: float | None = None) -> float | None:
    """An optional number within [low, high]; 400 otherwise."""
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = float("nan")
    if value != value or (low is not None and value < low) or (high is not None and value > high):
        bounds = f"{low} ~ {high}" if high is not None else f">= {low}"
        raise InvalidArgument(f"{name} 须为 {bounds} 之间的数 / {name} must be a number {bounds}",
                              [FieldViolation(name, f"a number {bounds}")])
    return value


def path_id(request: web.Request, name: str = "id") -> str:
    """A record id from the path; 400 past MAX_ID characters."""
    value = request.match_info[name]
    if len(value) > MAX_ID:
        raise InvalidArgument(f"{name} 过长 / {name} is too long",
                              [FieldViolation(name, f"at most {MAX_ID} characters")])
    return value
