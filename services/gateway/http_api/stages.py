"""GET /api/v1/stages: each office's stage of standardization (规范 -> 推进 -> 提升) and what it lacks
for the next, as assessment judges it from the closed periods.

The caller's own bearer token goes on to assessment, which applies its rights as on its own API
(an office's people see their own office; another office is refused); the gateway adds no rule of
its own and keeps nothing.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import grpc
from aiohttp import web

from services.common.errors import InvalidArgument, PermissionDenied, Unauthenticated
from services.gateway.http_api.exports import forwarded_authorization
from services.gateway.http_api.security import HttpAuth
from services.gateway.upstream import ASSESSMENT, Upstream, UpstreamUnavailable

OFFICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")


def office_stages(upstream: Upstream, office_id: str, authorization: str | None) -> dict[str, Any]:
    """assessment's ListOfficeStages as the dashboard reads it (blocking: call it off the event loop)."""
    from supervision.assessment.v1 import assessment_pb2 as pb
    from supervision.assessment.v1 import assessment_pb2_grpc as pb_grpc

    if not upstream.has(ASSESSMENT):
        raise UpstreamUnavailable("考核服务未配置，无法查看阶段 / assessment is not configured")
    try:
        answer = upstream.call(ASSESSMENT, pb_grpc.ScoreServiceStub, "ListOfficeStages",
                               pb.ListOfficeStagesRequest(office_id=office_id), authorization=authorization)
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            # An unknown office as a filter is an empty answer, as everywhere in this API.
            return {"scheme_version": 0, "offices": []}
        raise _refusal(error) from None
    return {"scheme_version": answer.scheme_version, "offices": [{
        "office_id": o.office_id, "office_name": o.office_name, "stage": o.stage, "stage_name": o.stage_name,
        "next_stage": o.next_stage, "next_stage_name": o.next_stage_name, "periods": list(o.periods),
        "lacks": [{"target": lack.target, "dimension": lack.dimension, "required": lack.required,
                   "actual": lack.actual if lack.HasField("actual") else None, "shortfall": lack.shortfall,
                   "period": lack.period, "description": lack.description} for lack in o.lacks]}
        for o in answer.offices]}


def _refusal(error: grpc.RpcError) -> Exception:
    """assessment's refusal as the gateway's: the caller's mistakes and rights stay 4xx, outages 503."""
    code = error.code()
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidArgument.of("office_id", "所编号格式不正确 / not an office id")
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return PermissionDenied("无权查看其他所的阶段（仅可查看本所） / may see its own office only")
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return Unauthenticated("身份验证失败 / not authenticated")
    return UpstreamUnavailable(f"考核服务暂时不可用，请稍后再试 / assessment is unavailable ({code.name})")


async def stages(request: web.Request, upstream: Upstream, auth: HttpAuth) -> dict[str, Any]:
    """The stages of the offices the caller may see, or of `office_id` alone."""
    office_id = request.query.get("office_id", "")
    if office_id and not OFFICE_ID.match(office_id):
        raise InvalidArgument.of("office_id", "所编号为1-32位字母、数字或“-” / 1-32 letters, digits or '-'")
    # A gRPC call is blocking: off the event loop; to_thread carries the request's context along.
    return await asyncio.to_thread(office_stages, upstream, office_id, forwarded_authorization(request, auth))
