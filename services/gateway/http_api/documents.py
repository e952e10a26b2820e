"""GET /api/v1/documents/{document_id}: an enforcement document's PDF (执法文书) from mobile_enforcement.

The caller's own bearer token goes on to mobile_enforcement, which applies its rights as on its own
API (an office's people read their own office's documents, district-wide roles every office's); the
gateway adds no rule of its own. Its refusals are answered in Chinese and English: officers and the
party's counsel read them.
"""

from __future__ import annotations

import asyncio
import urllib.parse

import grpc
from aiohttp import web

from services.common.errors import NotFound, PermissionDenied, Unauthenticated
from services.gateway.http_api.exports import forwarded_authorization
from services.gateway.http_api.security import HttpAuth
from services.gateway.upstream import Upstream, UpstreamUnavailable

MOBILE_ENFORCEMENT = "mobile_enforcement"
PDF = "application/pdf"
# Document ids are UUIDs; anything longer is no document, and is not sent on.
MAX_ID = 64


def fetch(upstream: Upstream, document_id: str, authorization: str | None):
    """The DocumentContent message, read with the caller's rights; the service's refusals as the gateway's."""
    from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
    from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc

    if not upstream.has(MOBILE_ENFORCEMENT):
        raise UpstreamUnavailable("移动执法服务未配置（INDICATOR_SOURCES 中没有 mobile_enforcement） / "
                                  "mobile_enforcement is not configured (INDICATOR_SOURCES has no mobile_enforcement)")
    try:
        return upstream.call(MOBILE_ENFORCEMENT, pb_grpc.DocumentServiceStub, "GetDocumentContent",
                             pb.GetDocumentContentRequest(id=document_id), authorization=authorization)
    except grpc.RpcError as error:
        raise _refusal(error, document_id) from None


def _refusal(error: grpc.RpcError, document_id: str) -> Exception:
    code, details = error.code(), error.details() or ""
    if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
        return NotFound(f"没有这份执法文书 / no such document: {document_id[:MAX_ID]!r}")
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return PermissionDenied(f"无权查看这份执法文书：它属于其他执法单位 / may not see this document: {details}")
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return Unauthenticated(f"身份验证失败 / not authenticated: {details}")
    return UpstreamUnavailable(f"移动执法服务暂时不可用，请稍后再试 / mobile_enforcement is unavailable ({code.name})")


async def download(request: web.Request, upstream: Upstream, auth: HttpAuth) -> web.Response:
    """The document's PDF to download; errors are raised as the API's (the middleware answers them)."""
    document_id = request.match_info["document_id"]
    if len(document_id) > MAX_ID:
        raise NotFound(f"没有这份执法文书 / no such document: {document_id[:MAX_ID]!r}…")
    # A gRPC call is blocking: off the event loop, which serves the streams; to_thread carries the
    # request's context (request id, span) into the call.
    answer = await asyncio.to_thread(fetch, upstream, document_id, forwarded_authorization(request, auth))
    document = answer.document
    # The number (e.g. 闵市监案处字〔2026〕第12号) names the file; plain ASCII for clients that
    # read only filename=.
    name = f"{document.number or document.id}.pdf"
    return web.Response(body=answer.content, headers={
        "Content-Type": answer.content_type or PDF,
        "Content-Disposition": f"attachment; filename=\"document-{document.id}.pdf\"; "
                               f"filename*=UTF-8''{urllib.parse.quote(name)}",
        # The PDF's SHA-256, as recorded in the subject's evidence trail: a reader can check the copy.
        "X-Document-SHA256": document.sha256,
        # A party's name and the facts of a case: kept by no shared cache.
        "Cache-Control": "no-store"})
