"""The field app's HTTP API (/api/v1/field) through the gateway's real HTTP server, with real
command_center, mobile_enforcement and facilities gRPC servers behind it (AUTH_MODE=jwt): an MH01
officer reads their work and acts on an inspection once per request_id; a stale expected_version is
a 409 ABORTED carrying the inspection as it is now; another office's officer is refused (403), a
caller without a token too (401); bad input is a 4xx naming the field, in Chinese first. Also the
app's pages (/field/) with their own Content-Security-Policy, and AUTH_MODE=off's demo officers."""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse

import pytest

from services.common.auth import issue_service_token, issue_token
from tests.api.gateway.support import FIELD_USCC, field_district, schedule_inspection
from tests.conftest import make_settings

SECRET = "gateway-field-api-test-secret-32-bytes"
OFFICER = issue_token(SECRET, subject="MH01-01", roles=["officer"], office_id="MH01")
OTHER_OFFICE = issue_token(SECRET, subject="MH02-01", roles=["officer"], office_id="MH02")
LEADER = issue_token(SECRET, subject="leader", roles=["bureau_leader"])
SYSTEM = [("authorization", f"Bearer {issue_service_token(SECRET, subject='test')}")]
CHINESE = re.compile(r"[\u4e00-\u9fff]")
TEAM = ["MH01-01", "MH01-02"]
PLACE = {"latitude": 31.11, "longitude": 121.38, "address": "莘庄镇莘松路1号"}


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    base = tmp_path_factory.mktemp("field-api")
    running = field_district(base, make_settings(AUTH_MODE="jwt", JWT_SECRET=SECRET), SYSTEM)
    yield running
    running.close()


def post(district, path: str, body, token: str = OFFICER, **options):
    return district.request("POST", path, body, token=token, **options)


def start(district, inspection_id: str, request_id: str, **extra):
    return post(district, f"/api/v1/field/inspections/{inspection_id}/start",
                {"request_id": request_id, "officer_ids": TEAM, "location": PLACE, **extra})


def test_the_config_needs_no_token_and_says_how_to_sign_in(district):
    reply = district.get("/api/v1/field/config")
    assert reply.status == 200, reply.body
    assert reply.body["auth_mode"] == "jwt" and reply.body["oidc"] is None
    assert reply.body["development_officers"] is False
    assert reply.body["attachments"]["max_bytes"] == 10 * 1024 * 1024
    assert "image/jpeg" in reply.body["attachments"]["content_types"]


def test_me_is_the_token_s_officer(district):
    reply = district.get("/api/v1/field/me", token=OFFICER, headers={"X-Development-Officer": "MH02-01"})
    assert reply.status == 200, reply.body
    assert reply.body["officer"]["id"] == "MH01-01"  # the header is ignored with tokens
    assert reply.body["officer"]["office_name"] == "莘庄市场监督管理所"
    assert reply.body["office_id"] == "MH01" and reply.body["roles"] == ["officer"]


def test_the_office_s_officers_and_the_checklists_in_force(district):
    officers = district.get("/api/v1/field/officers", token=OFFICER)
    assert officers.status == 200, officers.body
    assert sorted(o["id"] for o in officers.body["officers"]) == ["MH01-01", "MH01-02", "MH01-03", "MH01-04"]
    assert all(o["certified"] and o["office_id"] == "MH01" for o in officers.body["officers"])
    checklists = district.get("/api/v1/field/checklists", token=OFFICER)
    assert checklists.status == 200, checklists.body
    categories = [c["category"] for c in checklists.body["checklists"]]
    assert "ENTITY_CATEGORY_CATERING" in categories and len(categories) == len(set(categories))


def test_entities_are_searched_by_name_or_credit_code(district):
    for search in ("生煎", FIELD_USCC[:8]):
        reply = district.get(f"/api/v1/field/entities?search={urllib.parse.quote(search)}", token=OFFICER)
        assert reply.status == 200, reply.body
        assert [e["uscc"] for e in reply.body["entities"]] == [FIELD_USCC]
    assert district.get("/api/v1/field/entities?search=%E6%97%A0%E6%AD%A4", token=OFFICER).body["entities"] == []
    too_long = district.get("/api/v1/field/entities?search=" + "x" * 65, token=OFFICER)
    assert too_long.status == 400 and CHINESE.search(too_long.error["message"])


def test_an_inspection_is_started_once_per_request_id(district):
    inspection_id = schedule_inspection(district, SYSTEM)
    first = start(district, inspection_id, "start-once")
    assert first.status == 200, first.body
    assert first.body["state"] == "INSPECTION_STATE_IN_PROGRESS"
    again = start(district, inspection_id, "start-once")
    assert again.status == 200, again.body
    assert again.body["version"] == first.body["version"]
    read = district.get(f"/api/v1/field/inspections/{inspection_id}", token=OFFICER)
    assert read.status == 200 and read.body["version"] == first.body["version"]


def test_a_stale_version_is_a_409_aborted_with_the_inspection_as_it_is(district):
    inspection_id = schedule_inspection(district, SYSTEM)
    started = start(district, inspection_id, "start-stale").body
    checklist = district.get(f"/api/v1/field/inspections/{inspection_id}", token=OFFICER).body
    item = checklist["unanswered_items"][0]
    recorded = post(district, f"/api/v1/field/inspections/{inspection_id}/findings", {
        "request_id": "findings-1", "expected_version": started["version"],
        "findings": [{"item_code": item, "result": "PASS"}]})
    assert recorded.status == 200, recorded.body
    stale = post(district, f"/api/v1/field/inspections/{inspection_id}/findings", {
        "request_id": "findings-2", "expected_version": started["version"],
        "findings": [{"item_code": item, "result": "FAIL", "note": "后厨地面积水"}]})
    assert stale.status == 409, stale.body
    assert stale.error["status"] == "ABORTED" and CHINESE.search(stale.error["message"])
    assert stale.error["current"]["version"] == recorded.body["version"]
    assert [f["result"] for f in stale.error["current"]["findings"]] == ["ITEM_RESULT_PASS"]


def test_a_completed_inspection_shows_its_outcome(district):
    inspection_id = schedule_inspection(district, SYSTEM)
    started = start(district, inspection_id, "start-complete").body
    findings = [{"item_code": code, "result": "PASS"} for code in started["unanswered_items"]]
    assert post(district, f"/api/v1/field/inspections/{inspection_id}/findings",
                {"request_id": "all-pass", "findings": findings}).status == 200
    done = post(district, f"/api/v1/field/inspections/{inspection_id}/complete",
                {"request_id": "complete-1", "outcome": "COMPLIANT", "summary": "未发现问题"})
    assert done.status == 200, done.body
    assert done.body["state"] == "INSPECTION_STATE_COMPLETED"
    assert done.body["outcome"] == "INSPECTION_OUTCOME_COMPLIANT"


def test_the_officer_s_work_lists_open_inspections_and_tasks(district):
    inspection_id = schedule_inspection(district, SYSTEM)
    reply = district.get("/api/v1/field/work", token=OFFICER)
    assert reply.status == 200, reply.body
    listed = [a["inspection"]["id"] for a in reply.body["assignments"]]
    assert inspection_id in listed
    assert all(a["entity"]["uscc"] == FIELD_USCC for a in reply.body["assignments"])
    assert isinstance(reply.body["tasks"], list)


@pytest.mark.parametrize(("body", "field"), [
    ({"officer_ids": TEAM, "location": PLACE}, "request_id"),
    ({"request_id": "x" * 129, "officer_ids": TEAM}, "request_id"),
    ({"request_id": "bad-team", "officer_ids": "MH01-01"}, "officer_ids"),
    ({"request_id": "bad-version", "officer_ids": TEAM, "expected_version": -1}, "expected_version"),
    ({"request_id": "bad-latitude", "officer_ids": TEAM, "location": {"latitude": 91, "longitude": 0}},
     "location.latitude"),
])
def test_bad_start_requests_are_400_naming_the_field_and_change_nothing(district, body, field):
    inspection_id = schedule_inspection(district, SYSTEM)
    reply = post(district, f"/api/v1/field/inspections/{inspection_id}/start", body)
    assert reply.status == 400, reply.body
    assert CHINESE.search(reply.error["message"])
    assert field in [d["field"] for d in reply.error["details"]]
    assert district.get(f"/api/v1/field/inspections/{inspection_id}", token=OFFICER).body["state"] == \
        "INSPECTION_STATE_PLANNED"


def test_the_service_s_own_refusal_is_translated_and_keeps_its_english(district):
    inspection_id = schedule_inspection(district, SYSTEM)
    reply = start(district, inspection_id, "one-officer", officer_ids=["MH01-01"])
    assert reply.status in (400, 409), reply.body
    details = reply.error.get("details") or []
    assert any(CHINESE.search(d["description"]) and " / " in d["description"] for d in details), reply.error


def test_bad_json_and_bad_content_types_are_refused(district):
    path = f"/api/v1/field/inspections/{district.inspection_id}/findings"
    broken = district.request("POST", path, token=OFFICER, raw=b"{not json",
                              headers={"Content-Type": "application/json"})
    assert broken.status == 400 and "JSON" in broken.error["message"], broken.body
    listed = district.request("POST", path, [1, 2], token=OFFICER)
    assert listed.status == 400, listed.body
    form = district.request("POST", path, token=OFFICER, raw=b"a=1",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status == 415, form.body
    bad_result = post(district, path, {"request_id": "r", "findings": [{"item_code": "X", "result": "MAYBE"}]})
    assert bad_result.status == 400 and bad_result.error["details"][0]["field"] == "findings[0].result"


INSPECTION_ROUTES = [("GET", "/api/v1/field/inspections/{id}", None),
                     ("POST", "/api/v1/field/inspections/{id}/start",
                      {"request_id": "other-office", "officer_ids": ["MH02-01", "MH02-02"], "location": PLACE}),
                     ("POST", "/api/v1/field/inspections/{id}/findings",
                      {"request_id": "other-office", "findings": [{"item_code": "X", "result": "PASS"}]}),
                     ("POST", "/api/v1/field/inspections/{id}/complete", {"request_id": "other-office"}),
                     ("POST", "/api/v1/field/inspections/{id}/record", {}),
                     ("POST", "/api/v1/field/inspections/{id}/record/sign", {
                         "request_id": "other-office", "document_id": "d", "signer_name": "杨", "sign_time":
                         "2026-12-07T09:00:00+08:00", "signature_png_base64": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"})]


@pytest.mark.parametrize(("method", "path", "body"), INSPECTION_ROUTES)
def test_another_office_s_officer_is_refused_everywhere(district, method, path, body):
    reply = district.request(method, path.format(id=district.inspection_id), body, token=OTHER_OFFICE)
    assert reply.status == 403, reply.body
    assert CHINESE.search(reply.error["message"])
    assert district.get(f"/api/v1/field/inspections/{district.inspection_id}", token=OFFICER).body["state"] == \
        "INSPECTION_STATE_PLANNED"


@pytest.mark.parametrize("path", ["/api/v1/field/work", "/api/v1/field/entities", "/api/v1/field/officers",
                                  "/api/v1/field/checklists", "/api/v1/field/rapid-tests/options"])
def test_a_district_wide_token_is_not_an_office_s_officer(district, path):
    reply = district.get(path, token=LEADER)
    assert reply.status == 403, reply.body
    assert "执法单位" in reply.error["message"]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/field/me"), ("GET", "/api/v1/field/work"), ("GET", "/api/v1/field/entities"),
    ("GET", "/api/v1/field/officers"), ("GET", "/api/v1/field/checklists"), ("GET", "/api/v1/field/inspections/x"),
    ("POST", "/api/v1/field/inspections/x/start"), ("POST", "/api/v1/field/rapid-tests"),
    ("GET", "/api/v1/field/rapid-tests/options"), ("GET", "/api/v1/field/attachments/MH01/" + "0" * 64),
    ("POST", "/api/v1/field/inspections/x/evidence")])
@pytest.mark.parametrize("token", ["", "garbage"])
def test_a_citizen_without_a_token_is_refused(district, method, path, token):
    reply = district.request(method, path, {}, token=token)
    assert reply.status == 401, reply.body


def test_development_officers_exist_only_without_tokens(district):
    assert district.get("/api/v1/field/development-officers").status == 404


def test_rapid_test_options_and_a_bad_rapid_test(district):
    options = district.get("/api/v1/field/rapid-tests/options", token=OFFICER)
    assert options.status == 200, options.body
    assert "MARKET_SAMPLING" in options.body["origins"]
    missing = post(district, "/api/v1/field/rapid-tests", {"item": "nitrite"})
    assert missing.status == 400 and missing.error["details"][0]["field"] == "request_id"
    unknown = post(district, "/api/v1/field/rapid-tests", {"request_id": "rt-1", "colour": "red"})
    assert unknown.status == 400, unknown.body
    refused = post(district, "/api/v1/field/rapid-tests", {
        "request_id": "rt-2", "item": "nitrite", "method": "colorimetric", "equipment_id": "no-such-device",
        "reading": 5, "sample": {"name": "咸菜"}})
    assert refused.status in (400, 404, 409), refused.body
    assert CHINESE.search(refused.error["message"])


# ---------------------------------------------------------------- the app's pages

def test_the_field_pages_carry_their_own_policy(district):
    redirect = district.get("/field")
    assert redirect.status == 301 and redirect.headers["location"] == "/field/"
    page = district.get("/field/")
    assert page.status == 200 and "text/html" in page.headers["content-type"]
    policy = page.headers["content-security-policy"]
    assert "img-src 'self' data: blob:" in policy and "worker-src 'self'" in policy
    assert "manifest-src 'self'" in policy and "frame-ancestors 'none'" in policy
    worker = district.get("/field/sw.js")
    assert worker.status == 200 and worker.headers["cache-control"] == "no-cache"
    dashboard = district.get("/")
    assert "worker-src" not in dashboard.headers["content-security-policy"]


def gzipped(district, path: str, token: str = "") -> tuple[str | None, bytes]:
    """The Content-Encoding and the raw body of a GET that accepts gzip."""
    connection = http.client.HTTPConnection("127.0.0.1", district.port, timeout=10)
    try:
        headers = {"Accept-Encoding": "gzip", **({"Authorization": f"Bearer {token}"} if token else {})}
        connection.request("GET", path, headers=headers)
        reply = connection.getresponse()
        return reply.getheader("Content-Encoding"), reply.read()
    finally:
        connection.close()


def test_the_app_s_text_goes_compressed_and_revalidates_without_a_download(district):
    """A phone on a slow network: the scripts arrive gzip-compressed (about a third of their size), and
    the service worker's revalidation of an unchanged file is a 304 with no body."""
    import gzip

    from services.gateway.http_api.field_app import STATIC_FIELD

    plain = district.get("/field/app.js")
    assert plain.status == 200 and "content-encoding" not in plain.headers
    packed = district.request("GET", "/field/app.js", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.status == 200 and packed.headers["content-encoding"] == "gzip", packed.headers
    assert "javascript" in packed.headers["content-type"] and packed.headers["cache-control"] == "no-cache"
    assert "worker-src 'self'" in packed.headers["content-security-policy"]
    _, body = gzipped(district, "/field/app.js")
    original = (STATIC_FIELD / "app.js").read_bytes()
    assert gzip.decompress(body) == original and len(body) < len(original) / 2
    again = district.request("GET", "/field/app.js", headers={"Accept-Encoding": "gzip",
                                                              "If-None-Match": packed.headers["etag"]})
    assert again.status == 304 and again.body == ""
    photo = district.request("GET", "/field/icon-192.png", headers={"Accept-Encoding": "gzip"})
    assert photo.status == 200 and "content-encoding" not in photo.headers
    # The app's larger JSON answers too (the checklists); the small ones go as they are.
    encoding, body = gzipped(district, "/api/v1/field/checklists", OFFICER)
    assert encoding == "gzip" and json.loads(gzip.decompress(body))["checklists"]
    encoding, body = gzipped(district, "/api/v1/field/me", OFFICER)
    assert encoding is None and json.loads(body)["officer"]["id"] == "MH01-01"


@pytest.mark.parametrize("path", ["/field/../index.html", "/field/%2e%2e/index.html", "/field/..%2fconfig.py",
                                  "/field/nothing.js", "/field/.hidden", "/field/icons/"])
def test_no_file_outside_the_app_nor_a_listing_is_served(district, path):
    assert district.get(path).status == 404


def test_the_policy_allows_the_identity_provider_s_origins(tmp_path):
    from services.gateway.http_api.field_app import field_policy
    from services.gateway.http_api.routes import CONTENT_SECURITY_POLICY

    policy = field_policy(CONTENT_SECURITY_POLICY, ("https://id.example.gov.cn",))
    assert "connect-src 'self' https://id.example.gov.cn" in policy
    assert "script-src 'self'" in policy


# ---------------------------------------------------------------- AUTH_MODE=off

@pytest.fixture(scope="module")
def open_district(tmp_path_factory):
    base = tmp_path_factory.mktemp("field-open")
    running = field_district(base, make_settings())
    yield running
    running.close()


def test_without_tokens_the_app_acts_as_the_demo_officer_it_names(open_district):
    officers = open_district.get("/api/v1/field/development-officers")
    assert officers.status == 200, officers.body
    assert {"MH01-01", "MH02-01"} <= {o["id"] for o in officers.body["officers"]}
    me = open_district.get("/api/v1/field/me", headers={"X-Development-Officer": "MH02-01"})
    assert me.status == 200 and me.body["officer"]["office_id"] == "MH02", me.body
    unknown = open_district.get("/api/v1/field/me", headers={"X-Development-Officer": "MH09-99"})
    assert unknown.status == 400 and "演示执法人员" in unknown.error["message"]
    nobody = open_district.get("/api/v1/field/work")
    assert nobody.status == 400 and "X-Development-Officer" in nobody.error["message"]
    other = open_district.get(f"/api/v1/field/inspections/{open_district.inspection_id}",
                              headers={"X-Development-Officer": "MH02-01"})
    assert other.status == 403, other.body
    own = open_district.get(f"/api/v1/field/inspections/{open_district.inspection_id}",
                            headers={"X-Development-Officer": "MH01-01"})
    assert own.status == 200 and own.body["office_id"] == "MH01"
