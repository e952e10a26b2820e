"""GET /api/v1/exports/{kind}: assessment's results as a file to download (XLSX or CSV).

The caller's own bearer token goes on to assessment, which applies its rights as on its own API
(an office's people get their office's rows only); the gateway adds no rule of its own.
"""

from __future__ import annotations

import asyncio
import urllib.parse

from aiohttp import web

from services.gateway.domain.exports import MEDIA_TYPES, export_table, file_name, parse_export_request, render
from services.gateway.http_api.security import HttpAuth
from services.gateway.upstream import Upstream


def forwarded_authorization(request: web.Request, auth: HttpAuth) -> str | None:
    """The caller's credentials as an authorization header for the services (None when AUTH_MODE=off:
    the gateway's own identity, which is then nobody's in particular)."""
    if auth.verifier is None:
        return None
    header = request.headers.get("Authorization", "")
    if not header and request.query.get("access_token"):
        header = f"Bearer {request.query['access_token']}"
    return header or None


async def export(request: web.Request, upstream: Upstream, auth: HttpAuth) -> web.Response:
    """The file of one export; errors are raised as the API's (the middleware answers them)."""
    wanted = parse_export_request(request.match_info["kind"], request.query.get("format"),
                                  request.query.get("period"))
    results = upstream.assessment_results(forwarded_authorization(request, auth))

    def made() -> tuple[str, bytes]:
        period, table = export_table(wanted, results)
        return period, render(table, wanted.format)

    # gRPC calls and the workbook's zip are blocking: off the event loop, which serves the streams;
    # to_thread carries the request's context (request id, span) into the calls.
    period, body = await asyncio.to_thread(made)
    name = file_name(wanted, period)
    return web.Response(body=body, headers={
        "Content-Type": MEDIA_TYPES[wanted.format],
        "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{urllib.parse.quote(name)}",
        # Officers' names and grades: kept by no shared cache.
        "Cache-Control": "no-store"})
