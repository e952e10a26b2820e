"""The HTTP/JSON API under /api/v1, the probes and the dashboard (the process's /metrics is on
METRICS_PORT, never here: this port is the public one).

Errors are JSON ({"error": {code, status, message, details}}, the shape of Google's JSON APIs):
bad input is a 4xx naming what is wrong, never a 5xx; a service the gateway depends on being
down is a 503. Handlers only read the in-memory live index, except history (the store) and the
complaint form (a call to complaints), which run in worker threads off the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from services.common import errors
from services.common.context import new_request_id, request_id_var
from services.common.startup import StartupProgress
from services.gateway.domain.complaint_form import FormTokens, in_chinese, parse_form
from services.gateway.domain.history import RESOLUTIONS
from services.gateway.domain.monitor import Monitor
from services.gateway.domain.paging import office_page_token, parse_office_page
from services.gateway.domain.uploads import TooLarge, UnsupportedType
from services.gateway.http_api import complaint_page, complaint_status, documents, field, field_app, present
from services.gateway.http_api.access import access
from services.gateway.http_api.exports import export
from services.gateway.http_api.field_support import FieldSettings
from services.gateway.http_api.openapi import document
from services.gateway.http_api.security import FormLimiter, HttpAuth, Network, client_address
from services.gateway.http_api.stages import stages as office_stages
from services.gateway.http_api.stream import StreamHub
from services.gateway.metrics import HTTP_REQUESTS, HTTP_SECONDS, http_method_label
from services.gateway.upstream import Upstream, UpstreamUnavailable

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent.parent / "static"
ECHARTS = STATIC / "vendor" / "echarts.min.js"
FORM_MAX_BYTES = 16 * 1024
# The most specific class first; a bare DomainError is still the caller's doing.
_STATUS = [(TooLarge, 413), (UnsupportedType, 415),
           (errors.InvalidArgument, 400), (errors.Unauthenticated, 401), (errors.PermissionDenied, 403),
           (errors.NotFound, 404), (errors.DomainError, 409)]
_HTTP_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                405: "METHOD_NOT_ALLOWED", 409: "FAILED_PRECONDITION", 413: "PAYLOAD_TOO_LARGE",
                415: "UNSUPPORTED_MEDIA_TYPE", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


# The status lookup's lockout when the caller gives none (tests building a Context by hand).
LOOKUP_LOCKOUT_DEFAULTS = complaint_status.LookupLockoutSettings()


@dataclass
class Context:
    monitor: Monitor
    upstream: Upstream
    auth: HttpAuth
    limiter: FormLimiter
    hub: StreamHub
    trusted_proxies: tuple[Network, ...]
    ready: Callable[[], bool]
    form_tokens: FormTokens
    # Monolithic mode: the demo district's loading in the same process (/readyz says how far).
    startup: StartupProgress | None = None
    # When the public status lookup locks a complaint number (GatewayConfig's status_* settings).
    lookup_lockout: complaint_status.LookupLockoutSettings = LOOKUP_LOCKOUT_DEFAULTS
    # The field app's settings and attachment store; None: no field app (tests building a Context by hand).
    field: FieldSettings | None = None


def error_response(code: int, message: str, details: list[dict] | None = None, headers=None) -> web.Response:
    body = {"error": {"code": code, "status": _HTTP_STATUS.get(code, "ERROR"), "message": message}}
    if details:
        body["error"]["details"] = details
    return web.json_response(body, status=code, headers=headers, dumps=_dumps)


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def ok(body, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=_dumps)


# Sent with every response of this server (API, errors, files, the dashboard, the stream): the page
# runs only its own scripts and styles, talks only to this origin, is never framed, and no response
# is sniffed into another type or leaks its address (with a token in the fragment) as a referrer.
# Style attributes stay allowed: ECharts writes its tooltips' markup with them.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
                           "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
                           "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
SECURITY_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}
# The Server header names the product, not its versions (aiohttp's own is "Python/3.x aiohttp/3.x"),
# which would tell a scanner which published flaws to try.
SERVER_NAME = "supervision-gateway"
# Messages of the router's own refusals under /api/, in Chinese and English.
_ROUTER_MESSAGES = {404: "没有这个接口 / Not Found: no such API path", 405: "不支持此请求方法 / Method Not Allowed"}


def hide_server_versions() -> None:
    """Answers aiohttp writes before any application sees the request (a malformed request line or
    header) take the Server header from aiohttp's module constant, not from on_response_prepare: that
    constant is set to the product name too."""
    from aiohttp import web_response

    web_response.SERVER_SOFTWARE = SERVER_NAME


def _bilingual(message: str) -> str:
    """A not-found message in Chinese and English (the services' own are English)."""
    if any("\u4e00" <= character <= "\u9fff" for character in message):
        return message
    return f"未找到 / not found: {message}"


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every response passes here just before its headers are sent, the ones
    aiohttp makes itself (404, 405, static files) and the streams too."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Server"] = SERVER_NAME


@web.middleware
async def errors_and_metrics(request: web.Request, handler):
    request_id = request_id_var.get() or request.headers.get("X-Request-Id", "")[:128] or new_request_id()
    token = request_id_var.set(request_id)
    started = time.perf_counter()
    route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
    try:
        response = await handler(request)
    except errors.DomainError as error:
        code = next(c for kind, c in _STATUS if isinstance(error, kind))
        message = _bilingual(error.message) if code == 404 else error.message
        response = error_response(code, message, [{"field": v.field, "description": v.description}
                                                  for v in error.violations])
    except UpstreamUnavailable as error:
        response = error_response(503, str(error), headers={"Retry-After": "10"})
    except web.HTTPException as error:
        if error.status < 400 or not request.path.startswith("/api/"):
            raise
        if error.content_type == "application/json":
            raise  # already in the API's shape
        response = error_response(error.status, _ROUTER_MESSAGES.get(error.status, error.reason),
                                  headers={k: v for k, v in error.headers.items() if k in ("Retry-After", "Allow")})
    except Exception:
        log.exception("unhandled error", extra={"path": request.path})
        response = error_response(500, f"internal error (request id {request_id})")
    finally:
        request_id_var.reset(token)
    if not response.prepared:  # a stream has sent its headers (with the id) long ago
        response.headers["X-Request-Id"] = request_id
    HTTP_REQUESTS.labels(route, http_method_label(request.method), str(response.status)).inc()
    if isinstance(response, web.Response):  # not a stream: its duration is a latency
        HTTP_SECONDS.labels(route).observe(time.perf_counter() - started)
    return response


def _instant(raw: str | None, field: str) -> dt.datetime | None:
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise errors.InvalidArgument.of(field, f"{raw[:40]!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise errors.InvalidArgument.of(field, "needs a zone, e.g. 2026-11-02T08:00:00Z or +08:00")
    return value.astimezone(dt.UTC)


def _integer(raw: str | None, field: str) -> int:
    if raw is None or raw == "":
        return 0
    try:
        return int(raw)
    except ValueError:
        raise errors.InvalidArgument.of(field, "must be an integer") from None


def build_app(ctx: Context) -> web.Application:
    hide_server_versions()
    app = web.Application(middlewares=[access, errors_and_metrics], client_max_size=FORM_MAX_BYTES * 4)
    app.on_response_prepare.append(add_security_headers)
    monitor = ctx.monitor

    def authed(handler: Callable[..., Awaitable[web.StreamResponse]]):
        async def wrapped(request: web.Request) -> web.StreamResponse:
            return await handler(request, ctx.auth.caller(request))

        return wrapped

    fragments = present.OfficeFragments()

    async def offices(request, caller):
        office_id = request.query.get("office_id") or None
        size, offset = parse_office_page(_integer(request.query.get("page_size"), "page_size"),
                                         request.query.get("page_token", ""), office_id)
        # Taken first: a stream resumed from it repeats a change the list may show already (harmless
        # for states), and misses none.
        position = monitor.changes.position(monitor.changes.seq)
        page = monitor.list_offices(size, offset, office_id)
        listed = b",".join(fragments.fragment(page.view, s, detail=caller.may_see_office(s.office_id))
                           for s in page.offices)
        rest = _dumps({"next_page_token": office_page_token(page.next_offset, office_id),
                       "scheme_version": page.view.scheme.version, "position": position})
        return web.Response(body=b'{"offices":[' + listed + b"]," + rest[1:].encode(),
                            content_type="application/json")

    async def office(request, caller):
        view, state = monitor.office(caller, request.match_info["office_id"])
        return ok(present.office_detail(view, state, monitor.alerts(caller, state.office_id, None)))

    async def district(request, caller):
        view = monitor.view
        return ok(present.district(view, view.district))

    async def rankings(request, caller):
        return ok({"rankings": present.rankings(monitor.view), "scheme_version": monitor.view.scheme.version})

    async def alerts(request, caller):
        found = monitor.alerts(caller, request.query.get("office_id") or None, request.query.get("kind") or None)
        return ok({"alerts": [present.alert(a) for a in found]})

    async def scheme(request, caller):
        return ok(present.scheme(monitor.view.scheme))

    async def history(request, caller):
        key, resolution = request.match_info["key"], request.query.get("resolution", "minute")
        if resolution not in RESOLUTIONS:
            raise errors.InvalidArgument.of("resolution", f"must be one of {', '.join(RESOLUTIONS)}")
        start, end = _instant(request.query.get("from"), "from"), _instant(request.query.get("to"), "to")
        answer = await asyncio.to_thread(
            monitor.trend, caller, key, request.query.get("office_id") or None, resolution, start, end)
        return ok(present.history(key, answer, resolution))

    async def stream(request, caller):
        last = request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
        return await ctx.hub.serve(request, caller, last)

    async def session(request, caller):
        return ok({"subject": caller.subject, "roles": sorted(caller.roles), "office_id": caller.office_id,
                   "district_wide": caller.district_wide,
                   "auth_mode": "jwt" if ctx.auth.verifier is not None else "off"})

    async def complaint_form(request):
        # Citizens read these answers: every message is Chinese. A browser's plain form post (no
        # JavaScript) is answered with the citizen's page again: the complaint number, or the form
        # as sent with each error next to its field; JSON is answered with JSON.
        as_page = complaint_page.wants_page(request)
        body: dict = {}

        def refuse(status: int, message: str, headers=None, violations=()) -> web.Response:
            if not as_page:
                return error_response(status, message, headers=headers)
            token = complaint_page.token_for_the_next_post(ctx.form_tokens, body.get("request_id"), status)
            page = complaint_page.render(token, body=body, message=message, violations=violations)
            return complaint_page.respond(status, page, headers)

        # asyncio.to_thread: the thread runs in this request's context (its request id and span).
        wait = await asyncio.to_thread(ctx.limiter.allow, client_address(request, ctx.trusted_proxies))
        if wait:
            return refuse(429, "提交过于频繁，请稍后再试", {"Retry-After": str(max(1, round(wait)))})
        if request.content_type not in (complaint_page.JSON, complaint_page.FORM_URLENCODED):
            return error_response(415, "请以 application/json 或 application/x-www-form-urlencoded 提交表单")
        if request.content_length is not None and request.content_length > FORM_MAX_BYTES:
            return refuse(413, f"表单不能超过 {FORM_MAX_BYTES // 1024} KB")
        raw = await request.content.read(FORM_MAX_BYTES + 1)
        if len(raw) > FORM_MAX_BYTES:
            return refuse(413, f"表单不能超过 {FORM_MAX_BYTES // 1024} KB")
        try:
            body = complaint_page.read_body(raw, request.content_type)
            form = parse_form(body)
            if form.request_id:
                ctx.form_tokens.check(form.request_id)
            try:
                created = await asyncio.to_thread(ctx.upstream.create_complaint, form)
            except errors.InvalidArgument as refused:  # complaints' own words are English
                raise in_chinese(refused) from None
        except (errors.DomainError, UpstreamUnavailable) as error:
            if not as_page:
                raise
            if not isinstance(body, dict):
                body = {}
            if isinstance(error, UpstreamUnavailable):
                return refuse(503, str(error), {"Retry-After": "10"})
            return refuse(next(c for kind, c in _STATUS if isinstance(error, kind)), error.message,
                          violations=error.violations)
        # A retry (the same token and form) answers the same receipt, 201 again: the gateway keeps no
        # state to tell a first submission from a repeated one.
        if as_page:
            return complaint_page.respond(201, complaint_page.render("", receipt=created))
        return ok(created, status=201)

    async def citizen_page(request):
        # One token per page shown: the plain form post's retry (a reload) is then recognised.
        return complaint_page.respond(200, complaint_page.render(ctx.form_tokens.issue()["token"]))

    async def complaint_form_token(request):
        response = ok(ctx.form_tokens.issue())
        response.headers["Cache-Control"] = "no-store"  # one token per form, never a shared cached one
        return response

    async def exports(request, caller):
        return await export(request, ctx.upstream, ctx.auth)

    async def stages(request, caller):
        return ok(await office_stages(request, ctx.upstream, ctx.auth))

    async def document_file(request):
        # Whoever reaches a document without a valid token is most likely a party or a citizen:
        # told in Chinese first.
        try:
            ctx.auth.caller(request)
        except errors.Unauthenticated as refused:
            raise errors.Unauthenticated(f"请先登录：执法文书只提供给有权查看的执法人员 / {refused.message}") from None
        return await documents.download(request, ctx.upstream, ctx.auth)

    api_document: list[dict] = []  # made at the first request, when every route is registered

    async def openapi(request):
        if not api_document:
            api_document.append(document(((r.method, r.resource.canonical) for r in request.app.router.routes()
                                          if r.resource is not None), auth=ctx.auth.verifier is not None))
        return ok(api_document[0])

    async def healthz(request):
        return ok({"status": "ok"})

    async def readyz(request):
        if ctx.startup is not None and not ctx.startup.is_ready():
            return ok(ctx.startup.state().as_json(), status=503)
        if ctx.ready():
            return ok({"status": "ready", "sources": [present.source(s) for s in monitor.view.sources.values()]})
        return error_response(503, "starting: the live index has not asked every source yet")

    async def dashboard(request):
        if not ECHARTS.is_file():
            return web.Response(status=503, text=MISSING_ASSETS, content_type="text/html", charset="utf-8")
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    api = "/api/v1"
    app.router.add_get(f"{api}/offices", authed(offices))
    app.router.add_get(f"{api}/offices/{{office_id}}", authed(office))
    app.router.add_get(f"{api}/district", authed(district))
    app.router.add_get(f"{api}/rankings", authed(rankings))
    app.router.add_get(f"{api}/alerts", authed(alerts))
    app.router.add_get(f"{api}/scheme", authed(scheme))
    app.router.add_get(f"{api}/indicators/{{key}}/history", authed(history))
    app.router.add_get(f"{api}/stream", authed(stream))
    app.router.add_get(f"{api}/session", authed(session))
    app.router.add_get(f"{api}/exports/{{kind}}", authed(exports))
    app.router.add_get(f"{api}/stages", authed(stages))
    app.router.add_get(f"{api}/documents/{{document_id}}", document_file)
    app.router.add_post(f"{api}/complaints", complaint_form)
    app.router.add_get(f"{api}/complaints/form-token", complaint_form_token)
    app.router.add_get(f"{api}/public/complaints/{{number}}/status", complaint_status.lookup_handler(ctx))
    app.router.add_get(f"{api}/complaint-categories", authed(complaint_status.categories_handler(ctx)))
    app.router.add_get("/complaint", citizen_page)
    app.router.add_get("/complaint/", citizen_page)
    app.router.add_get(f"{api}/openapi.json", openapi)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/", dashboard)
    app.router.add_static("/static/", STATIC, append_version=False)
    if ctx.field is not None:
        field.register(app, ctx)
        field_app.register(app, CONTENT_SECURITY_POLICY, ctx.field.extra_origins)
    return app


MISSING_ASSETS = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>大屏资源未构建</title>
<body style="font-family:sans-serif;background:#0b1a33;color:#e6f0ff;padding:3em">
<h1>大屏的图表库尚未构建</h1>
<p>The dashboard's chart library (ECharts) was not built: static/vendor/echarts.min.js is missing.</p>
<p>Run <code>make web</code> (or <code>services/gateway/web/build.sh</code>), then reload this page.
The API under <a href="/api/v1/openapi.json" style="color:#7fd1ff">/api/v1</a> works without it.</p>
</body></html>"""
