"""The OpenAPI 3.1 document of /api/v1, served at /api/v1/openapi.json, generated from the routes.

The paths come from the HTTP server's own router, so a route cannot exist undocumented or be
documented without existing; each route's operation (operationId, tag, summary, parameters, the
success answer and the errors it can really give) comes from OPERATIONS below. The errors depend on
the deployment: 401 and 403 exist only when AUTH_MODE=jwt checks tokens.

Generated from the aiohttp routes, not from google.api.http annotations: this HTTP API is not a
transcoding of the gRPC one (its answers are the live index as the dashboard reads it, the stream,
the public form and the downloads), so the gRPC protos do not describe it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from services.gateway.domain import exports
from services.gateway.domain.complaint_form import request_schema
from services.gateway.domain.history import RESOLUTIONS
from services.gateway.domain.paging import MAX_OFFICE_PAGE

UNDOCUMENTED = "(undocumented)"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


NUMBER_OR_NULL = {"type": ["number", "null"]}


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def _path(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema or {"type": "string", "minLength": 1}}


SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "status", "message"], "properties": {
            "code": {"type": "integer"}, "status": {"type": "string"}, "message": {"type": "string"},
            "details": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": "string"}, "description": {"type": "string"}}}},
            "field_violations": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": "string"}, "description": {"type": "string"}}}}}}}},
    "OfficeSummary": {"type": "object", "required": ["office_id", "name", "index", "rank"], "properties": {
        "office_id": {"type": "string"}, "name": {"type": "string"}, "index": NUMBER_OR_NULL,
        "rank": {"type": "integer", "description": "1 = highest; 0 while the office has no index"},
        "updated_at": {"type": ["string", "null"], "format": "date-time"},
        "dimensions": {"type": "object", "additionalProperties": NUMBER_OR_NULL,
                       "description": "Only for offices the caller may see in detail."},
        "figures": {"type": "object", "additionalProperties": {"type": "number"},
                    "description": "Published figures the scheme does not score, e.g. complaints.backlog."}}},
    "Dimension": {"type": "object", "properties": {
        "key": {"type": "string"}, "name": {"type": "string"}, "weight": {"type": "number"},
        "score": NUMBER_OR_NULL, "points": {"type": "number"}, "possible": {"type": "number"}}},
    "IndicatorScore": {"type": "object", "properties": {
        "key": {"type": "string"}, "name": {"type": "string"}, "dimension": {"type": "string"},
        "source": {"type": "string"}, "numerator": {"type": "number"}, "denominator": {"type": "number"},
        "value": NUMBER_OR_NULL, "target": {"type": "number"}, "weight": {"type": "number"},
        "points": {"type": "number"}, "points_lost": {"type": "number"},
        "index_points_lost": {"type": "number", "description": "What the indicator costs the overall index."},
        "status": {"type": "string", "enum": ["full", "pro_rata", "zero", "missing"]},
        "explanation": {"type": "string"}, "explanation_zh": {"type": "string"},
        "as_of": {"type": ["string", "null"], "format": "date-time"}}},
    "Alert": {"type": "object", "properties": {
        "id": {"type": "string"}, "kind": {"type": "string"}, "kind_name": {"type": "string"},
        "office_id": {"type": "string"}, "severity": {"type": "string", "enum": ["critical", "warning"]},
        "title": {"type": "string"}, "due": {"type": ["string", "null"], "format": "date"}}},
    "Source": {"type": "object", "properties": {
        "source": {"type": "string"}, "available": {"type": "boolean"}, "error": {"type": "string"},
        "last_seen": {"type": ["string", "null"], "format": "date-time"}}},
    "OfficeDetail": {"allOf": [_ref("OfficeSummary"), {"type": "object", "properties": {
        "scheme_version": {"type": "integer"},
        "dimensions": {"type": "array", "items": _ref("Dimension")},
        "indicators": {"type": "array", "items": _ref("IndicatorScore")},
        "unscored": {"type": "array", "items": {"type": "object"}},
        "alerts": {"type": "array", "items": _ref("Alert")},
        "sources": {"type": "array", "items": _ref("Source")}}}]},
    "District": {"type": "object", "properties": {
        "index": NUMBER_OR_NULL, "office_count": {"type": "integer"}, "scheme_version": {"type": "integer"},
        "dimensions": {"type": "array", "items": _ref("Dimension")},
        "indicators": {"type": "array", "items": _ref("IndicatorScore")},
        "sources": {"type": "array", "items": _ref("Source")}}},
    "OfficeStages": {"type": "object", "required": ["scheme_version", "offices"], "properties": {
        "scheme_version": {"type": "integer"},
        "offices": {"type": "array", "items": {"type": "object", "properties": {
            "office_id": {"type": "string"}, "office_name": {"type": "string"},
            "stage": {"type": "string", "description": "Empty while the office holds no stage."},
            "stage_name": {"type": "string"}, "next_stage": {"type": "string"},
            "next_stage_name": {"type": "string"}, "periods": {"type": "array", "items": {"type": "string"}},
            "lacks": {"type": "array", "items": {"type": "object", "properties": {
                "target": {"type": "string", "enum": ["index", "dimension", "periods"]},
                "dimension": {"type": "string"}, "required": {"type": "number"}, "actual": NUMBER_OR_NULL,
                "shortfall": {"type": "number"}, "period": {"type": "string"},
                "description": {"type": "string"}}}}}}}}},
    "ComplaintForm": request_schema(),
    "FormToken": {"type": "object", "required": ["token", "expires_in"], "properties": {
        "token": {"type": "string", "description": "Send it as the form's request_id."},
        "expires_in": {"type": "integer", "description": "Seconds it is accepted for."}}},
    "ComplaintReceipt": {"type": "object", "properties": {
        "id": {"type": "string"}, "kind": {"type": "string"}, "office_id": {"type": "string"},
        "state": {"type": "string"}, "acceptance_due": {"type": ["string", "null"], "format": "date"},
        "filing_decision_due": {"type": ["string", "null"], "format": "date"}}},
}

# What each error status means, unless an operation says more precisely.
ERROR_MEANINGS = {
    400: "Bad input: the message and details name each field that is wrong (参数有误).",
    401: "Missing or invalid bearer token (未认证).",
    403: "The caller's role or office may not see this (无权访问).",
    404: "Not found; the message says what, in Chinese and English (未找到).",
    409: "Conflicts with the record as it stands.",
    413: "Larger than allowed.",
    415: "Unsupported content type.",
    429: "Too many requests; see Retry-After.",
    503: "A service this needs is unavailable; retry later (see Retry-After).",
}


@dataclass(frozen=True)
class Operation:
    """One route's documentation: `answer` is its success response (status `success`); `errors` are
    the statuses it can really answer besides the token's (401/403, added per deployment: `authed`
    routes check the token, `scoped` ones may refuse an office's people)."""

    operation_id: str
    tag: str
    summary: str
    answer: dict
    parameters: tuple[dict, ...] = ()
    errors: dict[int, str] = field(default_factory=dict)
    authed: bool = True
    scoped: bool = False
    request_body: dict | None = None
    success: str = "200"


EXPORT_RESPONSE = {"description": "The file (Content-Disposition names it, e.g. rankings-2026-Q3.xlsx)",
                   "content": {exports.MEDIA_TYPES[exports.XLSX].split(";")[0]: {
                                   "schema": {"type": "string", "format": "binary"}},
                               "text/csv": {"schema": {"type": "string"}}}}

DOCUMENT_RESPONSE = {"description": "The PDF (Content-Disposition names it by its number; X-Document-SHA256 is the "
                                    "hash recorded in the evidence trail)",
                     "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}

OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/api/v1/offices"): Operation(
        "listOffices", "live", "Offices with their live index, in rank order",
        _ok({"type": "object", "properties": {
            "offices": {"type": "array", "items": _ref("OfficeSummary")},
            "next_page_token": {"type": "string"}, "scheme_version": {"type": "integer"},
            "position": {"type": "string", "description": "Stream position of this answer."}}}),
        (_query("page_size", f"0 or omitted: 1000; above {MAX_OFFICE_PAGE}: {MAX_OFFICE_PAGE}; negative: 400",
                {"type": "integer"}),
         _query("page_token", "next_page_token of the previous page"),
         _query("office_id", "only this office (none when it is unknown)")),
        {400: "page_size or page_token not valid"}),
    ("GET", "/api/v1/offices/{office_id}"): Operation(
        "getOffice", "live", "An office's index with every indicator and the explanation of each point lost",
        _ok(_ref("OfficeDetail")), (_path("office_id", "the office"),),
        {404: "No such office (没有这个所 / office not known to the gateway)"}, scoped=True),
    ("GET", "/api/v1/district"): Operation(
        "getDistrict", "live", "The district's index (sums of numerators over denominators)", _ok(_ref("District"))),
    ("GET", "/api/v1/rankings"): Operation(
        "listRankings", "live", "The offices ranked by their live index",
        _ok({"type": "object", "properties": {"rankings": {"type": "array", "items": {"type": "object"}},
                                              "scheme_version": {"type": "integer"}}})),
    ("GET", "/api/v1/alerts"): Operation(
        "listAlerts", "alerts", "Open alerts the caller may see",
        _ok({"type": "object", "properties": {"alerts": {"type": "array", "items": _ref("Alert")}}}),
        (_query("office_id", "only this office"), _query("kind", "only this kind")), scoped=True),
    ("GET", "/api/v1/scheme"): Operation(
        "getScheme", "live", "The scheme the live index is scored with", _ok({"type": "object"})),
    ("GET", "/api/v1/indicators/{key}/history"): Operation(
        "getHistory", "history",
        "History of 'index', a dimension key or an indicator key, for an office or the district",
        _ok({"type": "object", "properties": {"points": {"type": "array", "items": {"type": "object", "properties": {
            "time": {"type": "string", "format": "date-time"}, "value": NUMBER_OR_NULL}}}}}),
        (_path("key", "'index', a dimension key or an indicator key"),
         _query("office_id", "the office; omitted: the district"),
         _query("resolution", "minute, day or month", {"type": "string", "enum": list(RESOLUTIONS)}),
         _query("from", "ISO 8601 with zone", {"type": "string", "format": "date-time"}),
         _query("to", "ISO 8601 with zone", {"type": "string", "format": "date-time"})),
        {400: "resolution, from or to not valid", 404: "No such series or office (未找到)"}, scoped=True),
    ("GET", "/api/v1/stream"): Operation(
        "stream", "stream",
        "Live stream (Server-Sent Events): snapshot, then office, district, ranks, alert, feed, scheme and source "
        "events; resumable with Last-Event-ID; at the token's expiry a token-expired event, and the stream ends",
        {"description": "text/event-stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
        ({"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string"}},
         _query("access_token", "bearer token for EventSource, which cannot set headers")),
        {503: "Too many stream clients; retry later"}),
    ("GET", "/api/v1/session"): Operation(
        "getSession", "session", "Who the caller is, as the gateway sees it", _ok({"type": "object"})),
    ("POST", "/api/v1/complaints"): Operation(
        "submitComplaint", "complaint form",
        "The public complaint form (no bearer token), forwarded to complaints; limited per client (the address, "
        "or behind a trusted proxy the nearest untrusted X-Forwarded-For hop) and for the whole district. "
        "Messages are in Chinese. A browser's plain form post (application/x-www-form-urlencoded, the citizen's "
        "page at /complaint without JavaScript) is answered with that page in HTML.",
        _ok(_ref("ComplaintReceipt"), "Received"), (),
        {400: "Not JSON, a field wrong, or request_id not a valid form token",
         409: "The form token came with a different form before, or complaints refused the item as it stands",
         413: "Larger than the form allows", 415: "Not application/json",
         429: "Too many submissions from this client or the district (see Retry-After)",
         503: "Complaint intake unavailable; retry later"},
        authed=False, success="201",
        request_body={"required": True, "content": {"application/json": {"schema": _ref("ComplaintForm")}}}),
    ("GET", "/api/v1/complaints/form-token"): Operation(
        "issueFormToken", "complaint form",
        "A new form token (no bearer token): the request_id that makes a retry of the form safe",
        _ok(_ref("FormToken"), "Issued"), authed=False),
    ("GET", "/api/v1/exports/{kind}"): Operation(
        "exportResults", "exports",
        "assessment's results as a file: the ranking of a closed period (rankings), its office scores (scores) "
        "or the officers' grades (officer-grades). The caller's rights apply as on assessment's own API: an "
        "office's people get their own office's rows.",
        EXPORT_RESPONSE,
        (_path("kind", "which table", {"type": "string", "enum": list(exports.KINDS)}),
         _query("format", "xlsx (default) or csv (UTF-8 with BOM)",
                {"type": "string", "enum": list(exports.FORMATS)}),
         _query("period", "a closed period (2026-09, 2026-Q3 or 2026; officer-grades: a quarter); omitted: "
                          "the newest closed period (officer-grades: every quarter)",
                {"type": "string", "pattern": exports.PERIOD_PATTERN, "maxLength": exports.MAX_PERIOD_LENGTH})),
        {400: "format or period not valid",
         404: "No such export, or the period is not closed (no closed period yet, when omitted)",
         503: "assessment unavailable; retry later"}, scoped=True),
    ("GET", "/api/v1/stages"): Operation(
        "listOfficeStages", "stages",
        "Each office's stage of standardization (规范 -> 推进 -> 提升) as assessment judges it from the closed "
        "periods, and what it lacks for the next stage (targets missed and by how much, periods still to hold). "
        "The caller's rights apply as on assessment's own API: an office's people see their own office.",
        _ok(_ref("OfficeStages")),
        (_query("office_id", "one office (an unknown one: no offices); omitted: every office the caller may see",
                {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9-]{0,31}$"}),),
        {400: "office_id not valid", 503: "assessment unavailable; retry later"},
        scoped=True),
    ("GET", "/api/v1/documents/{document_id}"): Operation(
        "getDocument", "documents",
        "An enforcement document (执法文书) as PDF, from mobile_enforcement: an inspection record, a rectification "
        "order, a filing approval, a penalty notice, a hearing notice, a penalty decision or a delivery receipt. The "
        "caller's rights apply as on mobile_enforcement's own API: an office's people read their own office's "
        "documents.",
        DOCUMENT_RESPONSE,
        (_path("document_id", "the document's id (Document.id of DocumentService)",
               {"type": "string", "minLength": 1, "maxLength": 64}),),
        {404: "No such document (没有这份执法文书 / no such document)",
         503: "mobile_enforcement unavailable; retry later"}, scoped=True),
}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _operation(operation: Operation, auth: bool) -> dict:
    errors = dict(operation.errors)
    if auth and operation.authed:
        errors.setdefault(401, ERROR_MEANINGS[401])
        if operation.scoped:
            errors.setdefault(403, ERROR_MEANINGS[403])
    body = {"operationId": operation.operation_id, "tags": [operation.tag], "summary": operation.summary,
            "responses": {operation.success: operation.answer,
                          **{str(code): _error(text) for code, text in sorted(errors.items())}}}
    if operation.parameters:
        body["parameters"] = list(operation.parameters)
    if operation.request_body is not None:
        body["requestBody"] = operation.request_body
    if not (auth and operation.authed):
        body["security"] = []
    return body


def document(routes: Iterable[tuple[str, str]], *, auth: bool) -> dict:
    """The document of the given (method, path) routes under /api/; `auth`: AUTH_MODE=jwt. A route
    missing from OPERATIONS is still listed, marked undocumented (a test holds there are none)."""
    paths: dict[str, dict] = {}
    for method, path in routes:
        if not path.startswith("/api/") or method == "HEAD" or path.endswith("/openapi.json"):
            continue
        operation = OPERATIONS.get((method, path))
        paths.setdefault(path, {})[method.lower()] = (
            _operation(operation, auth) if operation is not None else
            {"summary": UNDOCUMENTED, "responses": {"default": {"description": UNDOCUMENTED}}})
    return {
        "openapi": "3.1.0",
        "info": {"title": "智慧监管云中心 汇聚网关 (gateway)", "version": "1",
                 "description": "The live standardization index of the district's offices, its history, "
                                "alerts and live stream; the public complaint form; downloads of assessment's "
                                "results and of enforcement documents."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}] if auth else [],
        "tags": [{"name": name} for name in sorted({o.tag for o in OPERATIONS.values()})],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": SCHEMAS,
        },
        "paths": dict(sorted(paths.items())),
    }


# The field app's operations live with their own module (imported last: it builds on the helpers above).
from services.gateway.http_api.openapi_field import FIELD_OPERATIONS  # noqa: E402

OPERATIONS.update(FIELD_OPERATIONS)
