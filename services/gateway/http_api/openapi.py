"""The OpenAPI 3.1 document of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

import functools

from services.gateway.domain.complaint_form import KINDS, LIMITS
from services.gateway.domain.history import RESOLUTIONS
from services.gateway.domain.paging import MAX_OFFICE_PAGE


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {code: {"$ref": f"#/components/responses/{name}"} for code, name in
          (("400", "BadRequest"), ("401", "Unauthenticated"), ("403", "PermissionDenied"), ("404", "NotFound"))}
NUMBER_OR_NULL = {"type": ["number", "null"]}


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def _text(path: str) -> dict:
    return {"type": "string", "maxLength": LIMITS[path]}


SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "status", "message"], "properties": {
            "code": {"type": "integer"}, "status": {"type": "string"}, "message": {"type": "string"},
            "details": {"type": "array", "items": {"type": "object", "properties": {
                "field": {"type": "string"}, "description": {"type": "string"}}}}}}}},
    "OfficeSummary": {"type": "object", "required": ["office_id", "name", "index", "rank"], "properties": {
        "office_id": {"type": "string"}, "name": {"type": "string"}, "index": NUMBER_OR_NULL,
        "rank": {"type": "integer", "description": "1 = highest; 0 while the office has no index"},
        "updated_at": {"type": "string", "format": "date-time"},
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
    "ComplaintForm": {"type": "object", "required": ["kind", "respondent", "category", "description"],
                      "additionalProperties": False, "properties": {
        "kind": {"type": "string", "enum": list(KINDS)},
        "complainant": {"type": "object", "additionalProperties": False, "properties": {
            "name": _text("complainant.name"), "phone": _text("complainant.phone"),
            "id_number": _text("complainant.id_number"), "anonymous": {"type": "boolean"}}},
        "respondent": {"type": "object", "additionalProperties": False, "required": ["name"], "properties": {
            "name": _text("respondent.name"), "uscc": _text("respondent.uscc"),
            "address": _text("respondent.address"), "street": _text("respondent.street")}},
        "category": _text("category"), "description": _text("description"), "amount_yuan": _text("amount_yuan"),
        "request_id": {**_text("request_id"), "description":
                       "Optional: a form token from GET /api/v1/complaints/form-token, one per form; anything "
                       "else is a 400. A retry with the same token and the same form answers the receipt of "
                       "the first (201 again) and creates nothing; the same token with another form is a 409. "
                       "A token is good for 24 hours and only for the citizen who holds it."}}},
    "FormToken": {"type": "object", "required": ["token", "expires_in"], "properties": {
        "token": {"type": "string", "description": "Send it as the form's request_id."},
        "expires_in": {"type": "integer", "description": "Seconds it is accepted for."}}},
    "ComplaintReceipt": {"type": "object", "properties": {
        "id": {"type": "string"}, "kind": {"type": "string"}, "office_id": {"type": "string"},
        "state": {"type": "string"}, "acceptance_due": {"type": ["string", "null"], "format": "date"},
        "filing_decision_due": {"type": ["string", "null"], "format": "date"}}},
}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


@functools.cache
def document() -> dict:
    office_id = {"name": "office_id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "智慧监管云中心 汇聚网关 (gateway)", "version": "1",
                 "description": "The live standardization index of the district's offices, its history, "
                                "alerts and live stream; the public complaint form."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                                "access_token": {"type": "apiKey", "in": "query", "name": "access_token"}},
            "schemas": SCHEMAS,
            "responses": {"BadRequest": _error("Bad input: the message and details name what is wrong."),
                          "Unauthenticated": _error("Missing or invalid bearer token (AUTH_MODE=jwt)."),
                          "PermissionDenied": _error("The caller's role or office may not see this."),
                          "NotFound": _error("No such office, indicator or route.")},
        },
        "paths": {
            "/api/v1/offices": {"get": {
                "summary": "Offices with their live index, in rank order",
                "parameters": [_query("page_size", f"1-{MAX_OFFICE_PAGE} (default 1000)", {"type": "integer"}),
                               _query("page_token", "next_page_token of the previous page"),
                               _query("office_id", "only this office")],
                "responses": {"200": _ok({"type": "object", "properties": {
                    "offices": {"type": "array", "items": _ref("OfficeSummary")},
                    "next_page_token": {"type": "string"}, "scheme_version": {"type": "integer"},
                    "position": {"type": "string", "description": "Stream position of this answer."}}}),
                    **ERRORS}}},
            "/api/v1/offices/{office_id}": {"get": {
                "summary": "An office's index with every indicator and the explanation of each point lost",
                "parameters": [office_id],
                "responses": {"200": _ok(_ref("OfficeDetail")), **ERRORS}}},
            "/api/v1/district": {"get": {"summary": "The district's index (sums of numerators over denominators)",
                                         "responses": {"200": _ok(_ref("District")), **ERRORS}}},
            "/api/v1/rankings": {"get": {"summary": "The offices ranked by their live index",
                                         "responses": {"200": _ok({"type": "object"}), **ERRORS}}},
            "/api/v1/alerts": {"get": {
                "summary": "Open alerts the caller may see",
                "parameters": [_query("office_id", "only this office"), _query("kind", "only this kind")],
                "responses": {"200": _ok({"type": "object", "properties": {
                    "alerts": {"type": "array", "items": _ref("Alert")}}}), **ERRORS}}},
            "/api/v1/scheme": {"get": {"summary": "The scheme the live index is scored with",
                                       "responses": {"200": _ok({"type": "object"}), **ERRORS}}},
            "/api/v1/indicators/{key}/history": {"get": {
                "summary": "History of 'index', a dimension key or an indicator key, for an office or the district",
                "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}},
                               _query("office_id", "the office; omitted: the district"),
                               _query("resolution", "minute, day or month", {"enum": list(RESOLUTIONS)}),
                               _query("from", "ISO 8601 with zone", {"type": "string", "format": "date-time"}),
                               _query("to", "ISO 8601 with zone", {"type": "string", "format": "date-time"})],
                "responses": {"200": _ok({"type": "object", "properties": {
                    "points": {"type": "array", "items": {"type": "object", "properties": {
                        "time": {"type": "string", "format": "date-time"}, "value": NUMBER_OR_NULL}}}}}),
                    **ERRORS}}},
            "/api/v1/stream": {"get": {
                "summary": "Live stream (Server-Sent Events): snapshot, then office, district, ranks, alert, feed, "
                           "scheme and source events; resumable with Last-Event-ID; at the token's expiry a "
                           "token-expired event, and the stream ends",
                "parameters": [{"name": "Last-Event-ID", "in": "header", "required": False,
                                "schema": {"type": "string"}},
                               _query("access_token", "bearer token for EventSource, which cannot set headers")],
                "responses": {"200": {"description": "text/event-stream",
                                      "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                              **ERRORS}}},
            "/api/v1/session": {"get": {"summary": "Who the caller is, as the gateway sees it",
                                        "responses": {"200": _ok({"type": "object"}), **ERRORS}}},
            "/api/v1/complaints": {"post": {
                "summary": "The public complaint form (no bearer token), forwarded to complaints; limited per "
                           "client (the address, or behind a trusted proxy the nearest untrusted "
                           "X-Forwarded-For hop) and for the whole district. Messages are in Chinese.",
                "security": [],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("ComplaintForm")}}},
                "responses": {"201": _ok(_ref("ComplaintReceipt"), "Received"),
                              "400": _error("Not JSON, a field wrong, or request_id not a valid form token"),
                              "409": _error("The form token came with a different form before, or complaints "
                                            "refused the item as it stands"),
                              "413": _error("Larger than the form allows"),
                              "415": _error("Not application/json"),
                              "429": _error("Too many submissions from this client or the district "
                                            "(see Retry-After)"),
                              "503": _error("Complaint intake unavailable; retry later")}}},
            "/api/v1/complaints/form-token": {"get": {
                "summary": "A new form token (no bearer token): the request_id that makes a retry of the form safe",
                "security": [],
                "responses": {"200": _ok(_ref("FormToken"), "Issued")}}},
        },
    }
