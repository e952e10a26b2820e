"""The public status of a complaint (办理进度查询) and the complaint categories for the dashboard.

GET /api/v1/public/complaints/{number}/status?phone_last4=NNNN needs no sign-in: the complaint
number given on receipt and the last four digits of the phone given with it. The gateway asks
complaints with its own service identity and answers state and dates only, never a name, a phone, an
office or a note. A wrong number and wrong digits (and an anonymous item, which has no phone) give
the same 404 with the same message, so a guesser learns nothing about which part was wrong. Lookups
are limited per client like the citizen form, in buckets of their own, so that lookups never use up
the form's budget. And since one who knows a number could try the 10,000 endings from many
addresses, the misses are also counted per number (security.MissLockout): after
COMPLAINT_STATUS_MAX_MISSES of them within COMPLAINT_STATUS_MISS_WINDOW_SECONDS, every lookup of that
number is refused with 429 until the window ends, the right digits too.

GET /api/v1/complaint-categories gives the items per 12315 category, per office and for the
district, as the signed-in caller may see them (complaints applies the caller's office scope).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import math
import re
from dataclasses import dataclass

import grpc
from aiohttp import web

from services.common import errors
from services.gateway.http_api.exports import forwarded_authorization
from services.gateway.http_api.openapi import OPERATIONS, Operation
from services.gateway.http_api.security import FormLimiter, MissLockout, TokenBuckets, client_address
from services.gateway.upstream import COMPLAINTS, UpstreamUnavailable

# The one answer to every miss.
NO_MATCH = "未查到该投诉举报：请核对投诉编号和手机号码后四位"
TOO_OFTEN = "查询过于频繁，请稍后再试"
# A number locked after too many misses: the same words whether or not the number exists.
NUMBER_LOCKED = "该投诉编号的查询核对错误次数过多，已暂停查询"
UNAVAILABLE = "查询服务暂时不可用，请稍后再试"
_NUMBER = re.compile(r"^[0-9A-Za-z-]{1,32}$")
_LAST4 = re.compile(r"^[0-9]{4}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STATE_NAMES = {"RECEIVED": "已登记", "ACCEPTED": "已受理，调解中", "REFUSED": "不予受理",
               "RESOLVED": "调解成功，已办结", "MEDIATION_FAILED": "调解未达成协议，已终止",
               "TERMINATED": "调解已终止", "VERIFIED": "已核查", "CASE_FILED": "已立案", "NOT_FILED": "不予立案",
               "ANSWERED": "已答复"}
CLOCK_NAMES = {"ACCEPTANCE": "受理决定", "MEDIATION": "调解期限", "MEDIATION_NOTICE": "终止调解告知",
               "FILING_DECISION": "立案决定", "REPORTER_NOTICE": "告知举报人"}
STATUS_NAMES = {"RUNNING": "办理中", "MET": "按时完成", "OVERDUE": "已超期", "LATE": "超期完成"}


_PARAMETER_NUMBER = {"name": "number", "in": "path", "required": True,
                     "description": "the complaint number on the receipt",
                     "schema": {"type": "string", "pattern": _NUMBER.pattern}}
_PARAMETER_LAST4 = {"name": "phone_last4", "in": "query", "required": True,
                    "description": "the last four digits of the phone given with the complaint",
                    "schema": {"type": "string", "pattern": _LAST4.pattern}}
_OBJECT = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
# This module's routes in the API's OpenAPI document (registered here, beside the routes).
OPERATIONS.update({
    ("GET", "/api/v1/public/complaints/{number}/status"): Operation(
        "getComplaintStatus", "complaint form",
        "The public status of a complaint (no bearer token): state and dates of each statutory clock, each "
        "flagged provisional (calendar) or provisional_rule (an unconfirmed rule set); never personal data. "
        "Limited per client like the form, in buckets of its own. Messages are in Chinese.",
        _OBJECT, (_PARAMETER_NUMBER, _PARAMETER_LAST4),
        {400: "The number or the four digits are not well formed",
         404: "No item matches this number and these digits (the same answer whichever was wrong)",
         429: "Too many lookups from this client or the district, or too many misses for this number "
              "(COMPLAINT_STATUS_MAX_MISSES within COMPLAINT_STATUS_MISS_WINDOW_SECONDS); see Retry-After",
         503: "complaints unavailable; retry later"}, authed=False),
    ("GET", "/api/v1/complaint-categories"): Operation(
        "getComplaintCategories", "complaints",
        "Items per 12315 category (goods/services, class, subclass), per office and for the district, within "
        "the caller's office scope; `from` and `to` (YYYY-MM-DD, Asia/Shanghai) bound the day of receipt.",
        _OBJECT, ({"name": "office_id", "in": "query", "required": False, "description": "one office",
                   "schema": {"type": "string"}},
                  {"name": "from", "in": "query", "required": False, "description": "first day, YYYY-MM-DD",
                   "schema": {"type": "string", "format": "date"}},
                  {"name": "to", "in": "query", "required": False, "description": "last day, YYYY-MM-DD",
                   "schema": {"type": "string", "format": "date"}}),
        {400: "A date not valid", 503: "complaints unavailable; retry later"}, scoped=True),
})


@dataclass(frozen=True)
class LookupLockoutSettings:
    """How many misses one complaint number may have within its window before it is locked."""

    max_misses: int = 10
    window_seconds: float = 86400.0


def status_limiter(form_limiter: FormLimiter) -> FormLimiter:
    """A limiter with the form's rates and Redis, in buckets of its own (another key prefix)."""
    limiter = copy.copy(form_limiter)
    limiter.prefix = form_limiter.prefix + "status:"
    limiter.local = TokenBuckets(limiter.clock)
    return limiter


def number_lockout(form_limiter: FormLimiter, settings: LookupLockoutSettings) -> MissLockout:
    """The misses per number, in the form limiter's Redis when it has one (shared by the replicas)."""
    return MissLockout(settings.max_misses, settings.window_seconds, form_limiter.redis,
                       prefix=form_limiter.prefix + "status:")


def _date(value) -> str | None:
    return dt.date(value.year, value.month, value.day).isoformat() if value.year else None


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def present_status(status) -> dict:
    """The public answer: kind, state and dates, each clock with its flags, in Chinese and codes."""
    from supervision.complaints.v1 import complaints_pb2 as pb

    state = pb.ComplaintState.Name(status.state).removeprefix("COMPLAINT_STATE_")
    clocks = []
    for deadline in status.deadlines:
        kind = pb.DeadlineKind.Name(deadline.kind).removeprefix("DEADLINE_KIND_")
        state_of_clock = pb.DeadlineStatus.Name(deadline.status).removeprefix("DEADLINE_STATUS_")
        clocks.append({"kind": kind, "name": CLOCK_NAMES.get(kind, kind), "status": state_of_clock,
                       "status_name": STATUS_NAMES.get(state_of_clock, state_of_clock),
                       "due_date": _date(deadline.due_date), "met_on": _date(deadline.met_on),
                       "provisional": deadline.provisional, "provisional_rule": deadline.provisional_rule})
    return {"number": status.number, "kind": pb.ComplaintKind.Name(status.kind).removeprefix("COMPLAINT_KIND_"),
            "state": state, "state_name": STATE_NAMES.get(state, state),
            "received_on": _date(status.received_on), "updated_on": _date(status.updated_on), "deadlines": clocks}


class StatusLookup:
    """GET /api/v1/public/complaints/{number}/status: no sign-in, limited per client and per number."""

    def __init__(self, ctx, settings: LookupLockoutSettings | None = None):
        self.upstream, self.trusted_proxies = ctx.upstream, ctx.trusted_proxies
        self.limiter = status_limiter(ctx.limiter)
        self.lockout = number_lockout(ctx.limiter, settings or ctx.lookup_lockout)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """The public answer, 400 for malformed input, the one 404 for a miss, 429 when limited."""
        wait = await asyncio.to_thread(self.limiter.allow, client_address(request, self.trusted_proxies))
        if wait:
            return _too_often(TOO_OFTEN, wait)
        number, last4 = request.match_info["number"].strip(), request.query.get("phone_last4", "").strip()
        found = []
        if not _NUMBER.match(number):
            found.append(errors.FieldViolation("number", "投诉编号为受理回执上的编号"))
        if not _LAST4.match(last4):
            found.append(errors.FieldViolation("phone_last4", "请填写登记手机号码的后四位数字"))
        if found:
            raise errors.InvalidArgument("查询条件有误", found)
        locked = await asyncio.to_thread(self.lockout.reserve, number)
        if locked:
            return _too_often(f"{NUMBER_LOCKED}，请{_in_words(locked)}后再试，或拨打12315咨询", locked)
        try:
            status = await asyncio.to_thread(_ask, self.upstream, number, last4)
        except errors.NotFound:
            raise  # a miss: the reserved count stays
        except BaseException:
            await asyncio.to_thread(self.lockout.give_back, number)  # complaints did not answer: no guess made
            raise
        await asyncio.to_thread(self.lockout.give_back, number)  # the right digits are not a miss
        return web.json_response(present_status(status), dumps=_dumps, headers={"Cache-Control": "no-store"})


def lookup_handler(ctx):
    """The status lookup's request handler (its StatusLookup is the handler's __self__)."""
    return StatusLookup(ctx).handle


def _ask(upstream, number: str, last4: str):
    from supervision.complaints.v1 import complaints_pb2 as pb
    from supervision.complaints.v1 import complaints_pb2_grpc as pb_grpc

    if not upstream.has(COMPLAINTS):
        raise UpstreamUnavailable(UNAVAILABLE)
    try:
        return upstream.call(COMPLAINTS, pb_grpc.ComplaintServiceStub, "GetComplaintStatus",
                             pb.GetComplaintStatusRequest(number=number, phone_last4=last4))
    except grpc.RpcError as error:
        if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
            # complaints checks the input as this module does: either way, nothing matched.
            raise errors.NotFound(NO_MATCH) from None
        raise UpstreamUnavailable(UNAVAILABLE) from None


def _in_words(seconds: float) -> str:
    """A wait as the citizen reads it: minutes up to two hours, then hours (rounded up)."""
    minutes = max(1, math.ceil(round(seconds, 3) / 60))
    return f"{minutes}分钟" if minutes <= 120 else f"{math.ceil(minutes / 60)}小时"


def _too_often(message: str, wait: float) -> web.Response:
    wait = round(wait, 3)  # a window's end minus now carries float noise: 900.0000002 is still 900 s
    body = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": message}}
    return web.json_response(body, status=429, dumps=_dumps, headers={"Retry-After": str(max(1, math.ceil(wait)))})


def categories_handler(ctx):
    """GET /api/v1/complaint-categories?office_id=&from=&to=: counts per 12315 category (signed in)."""

    async def categories(request: web.Request, caller) -> web.StreamResponse:
        from services.common.contracts import date_of
        from supervision.complaints.v1 import complaints_pb2 as pb

        query = pb.GetCategoryStatisticsRequest(office_id=request.query.get("office_id", "").strip())
        for name, field in (("from", "from_date"), ("to", "to_date")):
            raw = request.query.get(name, "")
            if raw:
                try:
                    day = dt.date.fromisoformat(raw) if _DATE.match(raw) else None
                except ValueError:
                    day = None
                if day is None:
                    raise errors.InvalidArgument("日期有误",
                                                 [errors.FieldViolation(name, "须为 YYYY-MM-DD 格式的日期")])
                getattr(query, field).CopyFrom(date_of(day))
        authorization = forwarded_authorization(request, ctx.auth)
        answer = await asyncio.to_thread(_statistics, ctx.upstream, query, authorization)
        return web.json_response(answer, dumps=_dumps)

    return categories


def _statistics(upstream, query, authorization: str | None) -> dict:
    from supervision.complaints.v1 import complaints_pb2_grpc as pb_grpc

    if not upstream.has(COMPLAINTS):
        raise UpstreamUnavailable("complaints is not configured (INDICATOR_SOURCES has no complaints)")
    try:
        answer = upstream.call(COMPLAINTS, pb_grpc.ComplaintServiceStub, "GetCategoryStatistics", query,
                               authorization=authorization)
    except grpc.RpcError as error:
        code = error.code()
        if code == grpc.StatusCode.PERMISSION_DENIED:
            raise errors.PermissionDenied(f"无权查看该所的投诉分类统计 / {error.details()}") from None
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            raise errors.InvalidArgument(f"统计条件有误 / {error.details()}") from None
        if code == grpc.StatusCode.UNAUTHENTICATED:
            raise errors.Unauthenticated(f"请先登录 / {error.details()}") from None
        raise UpstreamUnavailable(f"complaints did not answer ({code.name})") from None

    def rows(counts) -> list[dict]:
        return [{"office_id": c.office_id, "code": c.category_code, "path": c.category_path, "domain": c.domain,
                 "class_code": c.class_code, "count": c.count} for c in counts]

    return {"tree_id": answer.tree_id, "by_office": rows(answer.by_office), "district": rows(answer.district)}
