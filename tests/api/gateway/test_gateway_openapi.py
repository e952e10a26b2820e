"""The gateway's OpenAPI document against its real HTTP server: generated from the routes, valid
OpenAPI 3.1, each route with the errors it can really answer (checked by schemathesis drawing
requests from it), 404s only where something can be missing, and a Server header without versions."""

from __future__ import annotations

import re
import socket

import pytest

from services.common.auth import issue_service_token, issue_token
from tests.api.gateway.support import District
from tests.conftest import make_settings
from tests.support import openapi_conformance

SECRET = "gateway-openapi-test-secret-32-bytes"
LEADER = issue_token(SECRET, subject="leader", roles=["bureau_leader"])
HEAD_MH01 = issue_token(SECRET, subject="head-mh01", roles=["office_head"], office_id="MH01")
SYSTEM = issue_service_token(SECRET, subject="test")
# The GETs where something asked for by name can be missing: an office, a series, an export or
# period, a document.
MAY_BE_MISSING = {("GET", "/api/v1/offices/{office_id}"), ("GET", "/api/v1/indicators/{key}/history"),
                  ("GET", "/api/v1/exports/{kind}"), ("GET", "/api/v1/documents/{document_id}"),
                  ("GET", "/api/v1/public/complaints/{number}/status"),
                  ("GET", "/api/v1/field/attachments/{office_id}/{sha256}"),
                  ("GET", "/api/v1/field/development-officers"), ("GET", "/api/v1/field/inspections/{id}"),
                  *(("POST", f"/api/v1/field/inspections/{{id}}/{action}")
                    for action in ("start", "findings", "complete", "evidence", "record", "record/sign")),
                  ("POST", "/api/v1/field/rapid-tests")}
CHINESE = re.compile(r"[\u4e00-\u9fff]")
ENGLISH = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    base = tmp_path_factory.mktemp("openapi")
    running = District(base, f"sqlite:///{base / 'gateway.db'}", make_settings(AUTH_MODE="jwt", JWT_SECRET=SECRET),
                       services=("command_center", "assessment", "complaints", "mobile_enforcement"))
    running.add_offices(metadata=[("authorization", f"Bearer {SYSTEM}")])
    yield running
    running.close()


def api_routes(district) -> set[tuple[str, str]]:
    return {(r.method, r.resource.canonical) for r in district.gateway.http.app.router.routes()
            if r.resource is not None and r.resource.canonical.startswith("/api/") and r.method != "HEAD"
            and not r.resource.canonical.endswith("/openapi.json")}


def operations(spec: dict) -> dict[tuple[str, str], dict]:
    return {(method.upper(), path): operation for path, item in spec["paths"].items()
            for method, operation in item.items()}


def test_every_api_route_is_documented_with_an_operation_of_its_own(district):
    from services.gateway.http_api.openapi import UNDOCUMENTED

    served = district.get("/api/v1/openapi.json")
    assert served.status == 200
    found = operations(served.body)
    assert set(found) == api_routes(district)
    assert all(o["summary"] != UNDOCUMENTED and o["operationId"] and o["tags"] for o in found.values())
    assert len({o["operationId"] for o in found.values()}) == len(found)
    assert ("GET", "/api/v1/exports/{kind}") in found


def test_the_document_is_valid_openapi_3_1_in_both_auth_modes(district):
    import schemathesis

    from services.gateway.http_api.openapi import document

    for auth in (True, False):
        spec = document(sorted(api_routes(district)), auth=auth)
        assert spec["openapi"] == "3.1.0"
        schemathesis.openapi.from_dict(spec).validate()  # the OpenAPI 3.1 meta-schema
        for result in schemathesis.openapi.from_dict(spec).get_all_operations():
            result.ok()


def test_404_is_documented_only_where_something_can_be_missing(district):
    found = operations(district.get("/api/v1/openapi.json").body)
    assert {key for key, o in found.items() if "404" in o["responses"]} == MAY_BE_MISSING
    # An unknown office as a filter is an empty answer, not a 404.
    assert district.get("/api/v1/offices?office_id=MH99", token=LEADER).status == 200
    assert district.get("/api/v1/alerts?office_id=MH99", token=LEADER).status == 200


@pytest.mark.parametrize("path", ["/api/v1/offices/MH99", "/api/v1/indicators/nonsense/history",
                                  "/api/v1/indicators/index/history?office_id=MH99", "/api/v1/exports/payroll",
                                  "/api/v1/exports/rankings", "/api/v1/no-such-route"])
def test_a_404_says_what_is_missing_in_chinese_and_english(district, path):
    reply = district.get(path, token=LEADER)
    assert reply.status == 404, reply.body
    assert CHINESE.search(reply.error["message"]) and ENGLISH.search(reply.error["message"]), reply.error


def test_the_errors_documented_follow_the_deployment(district):
    from services.gateway.http_api.openapi import OPERATIONS, document

    routes = sorted(api_routes(district))
    without_tokens = operations(document(routes, auth=False))
    assert not [key for key, o in without_tokens.items() if {"401", "403"} & set(o["responses"])]
    with_tokens = operations(document(routes, auth=True))
    for key, operation in with_tokens.items():
        described = OPERATIONS[key]
        assert ("401" in operation["responses"]) == described.authed, key
        assert ("403" in operation["responses"]) == (described.authed and described.scoped), key
        assert (operation.get("security") == []) == (not described.authed), key
    assert set(with_tokens[("POST", "/api/v1/complaints")]["responses"]) == {
        "201", "400", "409", "413", "415", "429", "503"}
    assert "429" not in with_tokens[("GET", "/api/v1/offices")]["responses"]


def test_the_documented_403_and_401_really_happen(district):
    assert district.get("/api/v1/offices/MH02", token=HEAD_MH01).status == 403
    assert district.get("/api/v1/exports/rankings?period=2026-Q1", token="garbage").status == 401
    assert district.get("/api/v1/district").status == 401


def test_the_api_answers_as_its_document_says(district):
    """Valid and invalid requests for every operation but the stream, each answer checked against the
    document (as make chaos does against the microservices)."""
    calls, failures = openapi_conformance(f"http://127.0.0.1:{district.port}", LEADER, examples=8)
    assert calls > 50
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


# ---------------------------------------------------------------- the Server header

VERSION = re.compile(r"\d")


@pytest.mark.parametrize(("method", "path", "token"), [
    ("GET", "/api/v1/offices", LEADER), ("GET", "/api/v1/offices/MH99", LEADER), ("GET", "/api/v1/district", ""),
    ("DELETE", "/api/v1/offices", LEADER), ("GET", "/api/v1/no-such-route", ""), ("GET", "/healthz", ""),
    ("GET", "/readyz", ""), ("GET", "/", ""), ("GET", "/static/app.js", ""), ("GET", "/static/nothing.js", ""),
    ("GET", "/api/v1/openapi.json", ""), ("GET", "/api/v1/complaints/form-token", ""),
    ("GET", "/api/v1/exports/rankings?format=pdf", LEADER), ("GET", "/complaint", ""),
])
def test_no_response_names_the_server_s_versions(district, method, path, token):
    reply = district.request(method, path, token=token)
    assert reply.headers.get("server") == "supervision-gateway", reply.headers
    assert not VERSION.search(reply.headers["server"])


def test_the_stream_and_a_malformed_request_name_no_versions_either(district):
    stream = district.stream(token=LEADER)
    try:
        stream.next()
        assert stream.response.getheader("Server") == "supervision-gateway"
    finally:
        stream.close()
    # A request aiohttp refuses before the application sees it (a header line without a colon).
    with socket.create_connection(("127.0.0.1", district.port), timeout=10) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nthis is no header\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = connection.recv(4096)
            if not chunk:
                break
            head += chunk
    status_line, *lines = head.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    assert " 400 " in status_line, status_line
    servers = [line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("server:")]
    assert servers == ["supervision-gateway"], lines
