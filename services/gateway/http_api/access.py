"""The gateway's HTTP access log and server span: one line and one span per request.

The outermost middleware, so it sees every answer: the API's own errors (already JSON from
errors_and_metrics), aiohttp's 404/405 for unknown paths, and the live stream when it closes.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from services.common import access_log, tracing
from services.common.context import Caller, new_request_id, request_id_var

# Where HttpAuth.caller leaves who asked, for this line (the handler learns it, not the middleware).
CALLER_KEY = web.RequestKey("caller", Caller)
_SERVER_FAULT = 500
# The client went away before the answer (the convention of nginx's logs; never sent to anyone).
_CLIENT_GONE = 499


@web.middleware
async def access(request: web.Request, handler):
    """Serves `request` in a server span (joining the caller's trace) and logs one access line."""
    started = time.perf_counter()
    resource = request.match_info.route.resource
    route = resource.canonical if resource is not None else "unmatched"
    # The same id errors_and_metrics answers with (it reads the context first), so the line, the
    # X-Request-Id header and the logs of the call all name one id.
    request_id = request.headers.get("X-Request-Id", "")[:128] or new_request_id()
    request_id_token = request_id_var.set(request_id)
    traceparent = request.headers.get("traceparent")
    span = tracing.start(f"{request.method} {route}", tracing.SERVER,
                         tracing.remote_parent(traceparent, request.headers.get("tracestate", ""))
                         if traceparent else None,
                         {"http.request.method": request.method, "http.route": route})
    active = tracing.activate(span)
    status = _SERVER_FAULT
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as answer:  # aiohttp's own answers (404, 405...) are responses too
        status = answer.status
        answer.headers.setdefault("X-Request-Id", request_id)
        raise
    except asyncio.CancelledError:
        status = _CLIENT_GONE
        raise
    except BaseException as error:
        tracing.fail(span, error)
        raise
    finally:
        seconds = time.perf_counter() - started
        if span.is_recording():
            span.set_attribute("http.response.status_code", status)
            if status >= _SERVER_FAULT:
                tracing.fail(span, description=str(status))
        span.end()
        caller = request.get(CALLER_KEY)
        access_log.http_request(request.method, route, status, seconds, caller.subject if caller is not None else "")
        tracing.deactivate(active)
        request_id_var.reset(request_id_token)
