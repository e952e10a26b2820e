"""The OpenAPI operations of the field app's API (/api/v1/field), merged into openapi.OPERATIONS.

Every route but the app's configuration acts for an office's officer: a token of no office (a
district-wide role) is refused with 403, as is a record of another office."""

from __future__ import annotations

# Imported by openapi at its end (openapi is always loaded first: routes imports it), when every
# name used here is defined.
from services.gateway.http_api.openapi import Operation, _ok, _path, _query

BASE = "/api/v1/field"
TAG = "field app"
OBJECT = {"type": "object"}
INSPECTION = _ok({"type": "object", "description": "The Inspection of mobile_enforcement (proto field names, "
                                                   "enums by name)"})
UNAVAILABLE = "A service this needs is unavailable; retry later"
INSPECTION_ID = _path("id", "the inspection's id", {"type": "string", "minLength": 1, "maxLength": 64})
REQUEST_ID = {"type": "string", "minLength": 1, "maxLength": 128,
              "description": "Unique per action; a retry with the same request_id is carried out once"}
DEVELOPMENT = {"name": "X-Development-Officer", "in": "header", "required": False,
               "description": "AUTH_MODE=off only: the demo officer acting (checked against command_center)",
               "schema": {"type": "string", "maxLength": 64}}
VERSION = {"type": ["integer", "string"], "description": "The inspection's version the app last read; 0: not compared"}
ACTION_ERRORS = {400: "A field is wrong (each named, in Chinese and English)",
                 404: "No such inspection",
                 409: "status ABORTED: the inspection changed since expected_version (error.current is it now); "
                      "FAILED_PRECONDITION: its state does not allow the action",
                 413: "Larger than allowed", 415: "Not application/json", 503: UNAVAILABLE}


def _json(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _action(operation_id: str, summary: str, properties: dict, required: list[str]) -> Operation:
    return Operation(operation_id, TAG, summary, INSPECTION, (INSPECTION_ID,), ACTION_ERRORS, scoped=True,
                     request_body=_json({"type": "object", "required": ["request_id", *required],
                                         "properties": {"request_id": REQUEST_ID, "expected_version": VERSION,
                                                        **properties}}))


FINDING = {"type": "object", "required": ["item_code", "result"], "properties": {
    "item_code": {"type": "string", "minLength": 1, "maxLength": 32},
    "result": {"type": "string", "enum": ["PASS", "FAIL", "NOT_APPLICABLE"]},
    "note": {"type": "string", "maxLength": 2000},
    "evidence_refs": {"type": "array", "items": {"type": "string", "pattern": "^evidence:[0-9a-f]{64}$"}}}}

FIELD_OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", f"{BASE}/config"): Operation(
        "getFieldConfig", TAG, "The field app's configuration: how to sign in (OIDC), the attachments accepted",
        _ok({"type": "object", "properties": {
            "auth_mode": {"type": "string", "enum": ["off", "jwt"]}, "oidc": {"type": ["object", "null"]},
            "attachments": OBJECT, "development_officers": {"type": "boolean"}}}), authed=False),
    ("GET", f"{BASE}/development-officers"): Operation(
        "listDevelopmentOfficers", TAG, "AUTH_MODE=off only: the demo officers the app may act as "
                                        "(X-Development-Officer)",
        _ok({"type": "object", "properties": {"officers": {"type": "array", "items": OBJECT}}}), (DEVELOPMENT,),
        {400: "X-Development-Officer names no officer", 404: "Not AUTH_MODE=off", 503: UNAVAILABLE}, authed=False),
    ("GET", f"{BASE}/me"): Operation(
        "getFieldMe", TAG, "The acting officer (null when the token's subject is no officer), office and roles",
        _ok({"type": "object", "properties": {"officer": {"type": ["object", "null"]}, "subject": {"type": "string"},
                                              "office_id": {"type": "string"},
                                              "roles": {"type": "array", "items": {"type": "string"}}}}),
        errors={400: "X-Development-Officer names no officer", 503: UNAVAILABLE}),
    ("GET", f"{BASE}/work"): Operation(
        "getFieldWork", TAG, "The acting officer's open inspections (with each entity and its last result) and "
                             "the office's open supervision tasks",
        _ok({"type": "object", "properties": {"assignments": {"type": "array", "items": OBJECT},
                                              "tasks": {"type": "array", "items": OBJECT}}}),
        errors={400: "No acting officer", 503: UNAVAILABLE}, scoped=True),
    ("GET", f"{BASE}/entities"): Operation(
        "listFieldEntities", TAG, "The office's entities, by a part of the name or the start of the credit code",
        _ok({"type": "object", "properties": {"entities": {"type": "array", "items": OBJECT},
                                              "next_page_token": {"type": "string"}}}),
        (_query("search", "a part of the name or the start of the credit code", {"type": "string", "maxLength": 64}),
         _query("page_token", "next_page_token of the previous page")),
        {400: "search or page_token not valid", 503: UNAVAILABLE}, scoped=True),
    ("GET", f"{BASE}/checklists"): Operation(
        "listFieldChecklists", TAG, "Every category's checklist version in force today",
        _ok({"type": "object", "properties": {"checklists": {"type": "array", "items": OBJECT}}}),
        errors={400: "No acting officer", 503: UNAVAILABLE}, scoped=True),
    ("GET", f"{BASE}/officers"): Operation(
        "listFieldOfficers", TAG, "The office's officers, each with whether their certificate is valid today",
        _ok({"type": "object", "properties": {"officers": {"type": "array", "items": OBJECT}}}),
        errors={400: "No acting officer", 503: UNAVAILABLE}, scoped=True),
    ("GET", f"{BASE}/inspections/{{id}}"): Operation(
        "getFieldInspection", TAG, "An inspection of the office", INSPECTION, (INSPECTION_ID,),
        {400: "id not valid", 404: "No such inspection", 503: UNAVAILABLE}, scoped=True),
    ("POST", f"{BASE}/inspections/{{id}}/start"): _action(
        "startFieldInspection", "Starts the inspection on site with its team and position",
        {"officer_ids": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 64}},
         "location": {"type": "object", "properties": {"latitude": {"type": "number"}, "longitude": {"type": "number"},
                                                        "address": {"type": "string", "maxLength": 500}}}},
        ["officer_ids"]),
    ("POST", f"{BASE}/inspections/{{id}}/findings"): _action(
        "recordFieldFindings", "Records checklist results (a result for an item answered before replaces it)",
        {"findings": {"type": "array", "minItems": 1, "items": FINDING}}, ["findings"]),
    ("POST", f"{BASE}/inspections/{{id}}/complete"): _action(
        "completeFieldInspection", "Completes the inspection (a case lead's id is in lead_case_id at once)",
        {"outcome": {"type": "string"}, "summary": {"type": "string", "maxLength": 2000},
         "rectification_due": {"type": "string", "format": "date"}}, []),
    ("POST", f"{BASE}/inspections/{{id}}/evidence"): Operation(
        "attachFieldEvidence", TAG, "Uploads a photo or signature (the raw file as the body), keeps it in the "
                                    "attachment store under the inspection's office and attaches it",
        _ok({"type": "object", "properties": {"evidence": {"type": ["object", "null"]}, "inspection": OBJECT}}),
        (INSPECTION_ID, _query("request_id", "unique per upload; a retry attaches nothing more", REQUEST_ID),
         _query("kind", "PHOTO or SIGNATURE", {"type": "string", "enum": ["PHOTO", "SIGNATURE"]}),
         _query("sha256", "the file's SHA-256, 64 hex digits", {"type": "string", "pattern": "^[0-9a-f]{64}$"}),
         _query("capture_time", "ISO 8601 with zone", {"type": "string", "format": "date-time"}),
         _query("item_code", "the checklist item it shows"),
         _query("latitude", "where it was captured", {"type": "number"}),
         _query("longitude", "where it was captured", {"type": "number"}),
         _query("accuracy", "the position's accuracy in metres", {"type": "number"})),
        {400: "A parameter is wrong, or the body's SHA-256 is not the declared one", 404: "No such inspection",
         409: "The inspection's state does not allow it", 413: "Larger than ATTACHMENT_MAX_BYTES",
         415: "Not image/jpeg, image/png or image/webp, or the content is not of the declared type",
         503: UNAVAILABLE}, scoped=True,
        request_body={"required": True, "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                                    for t in ("image/jpeg", "image/png", "image/webp")}}),
    ("GET", f"{BASE}/attachments/{{office_id}}/{{sha256}}"): Operation(
        "getFieldAttachment", TAG, "A file of the attachment store, to its office's people",
        {"description": "The file", "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary"}}}},
        (_path("office_id", "the office"), _path("sha256", "the file's SHA-256")),
        {400: "X-Development-Officer names no officer", 404: "No such attachment", 503: UNAVAILABLE}, scoped=True),
    ("POST", f"{BASE}/inspections/{{id}}/record"): Operation(
        "issueFieldRecord", TAG, "Issues the inspection's 现场检查笔录 (once) and says where to download it",
        _ok({"type": "object", "properties": {"document": OBJECT, "download": {"type": "string"}}}),
        (INSPECTION_ID,), {400: "id not valid", 404: "No such inspection",
                           409: "The inspection's state does not allow it", 503: UNAVAILABLE}, scoped=True),
    ("POST", f"{BASE}/inspections/{{id}}/record/sign"): Operation(
        "signFieldRecord", TAG, "The party's signature on the record: kept as evidence, the signed copy issued "
                                "and its PDF kept as evidence too",
        _ok({"type": "object", "properties": {"document": OBJECT, "inspection": OBJECT,
                                              "download": {"type": "string"}}}),
        (INSPECTION_ID,), ACTION_ERRORS, scoped=True, request_body=_json({
            "type": "object", "required": ["request_id", "document_id", "signer_name", "signature_png_base64",
                                           "sign_time"],
            "properties": {"request_id": REQUEST_ID, "document_id": {"type": "string", "maxLength": 64},
                           "signer_name": {"type": "string", "maxLength": 64},
                           "signature_png_base64": {"type": "string"},
                           "sign_time": {"type": "string", "format": "date-time"}}})),
    ("POST", f"{BASE}/rapid-tests"): Operation(
        "recordFieldRapidTest", TAG, "Records a rapid test of the acting officer's office (facilities)",
        _ok(OBJECT, "Recorded"), (), {**ACTION_ERRORS, 404: "No such equipment"}, scoped=True, success="201",
        request_body=_json({"type": "object", "required": ["request_id", "item", "method", "equipment_id"],
                            "properties": {"request_id": REQUEST_ID, "sample": OBJECT, "item": {"type": "string"},
                                           "method": {"type": "string"}, "equipment_id": {"type": "string"},
                                           "reading": {"type": "number"}, "origin": {"type": "string"},
                                           "tested_at": {"type": "string", "format": "date-time"}}})),
    ("GET", f"{BASE}/rapid-tests/options"): Operation(
        "getFieldRapidTestOptions", TAG, "What the rapid-test form offers: the office's usable devices, the items "
                                         "and methods its tests have used, the origins",
        _ok({"type": "object", "properties": {"equipment": {"type": "array", "items": OBJECT},
                                              "items": {"type": "array", "items": OBJECT},
                                              "origins": {"type": "array", "items": {"type": "string"}}}}),
        errors={400: "No acting officer", 503: UNAVAILABLE}, scoped=True),
}
