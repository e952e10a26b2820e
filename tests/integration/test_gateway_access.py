"""Who sees what on the gateway (AUTH_MODE=jwt), over HTTP and gRPC: district-wide roles see
everything; an office's people see the district and the ranking, and their own office's detail only."""

from __future__ import annotations

import grpc
import pytest

from services.common.auth import issue_service_token, issue_token
from supervision.gateway.v1 import gateway_pb2 as pb
from tests.api.gateway.support import CHROMIUM, CHROMIUM_ARGS, District
from tests.conftest import make_settings

SECRET = "gateway-access-test-secret-32-bytes!"
TOKENS = {
    "bureau_leader": issue_token(SECRET, subject="leader", roles=["bureau_leader"]),
    "auditor": issue_token(SECRET, subject="auditor", roles=["auditor"]),
    "office_head": issue_token(SECRET, subject="head-mh01", roles=["office_head"], office_id="MH01"),
    "officer": issue_token(SECRET, subject="officer-mh01", roles=["officer"], office_id="MH01"),
}
SYSTEM = issue_service_token(SECRET, subject="test")
DISTRICT_WIDE = {"bureau_leader", "auditor"}


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    running = District(tmp_path_factory.mktemp("access"), "sqlite:///" + str(
        tmp_path_factory.mktemp("access-store") / "gateway.db"),
        make_settings(AUTH_MODE="jwt", JWT_SECRET=SECRET), gateway_env={"DEVELOPMENT_LOGIN": "true"})
    running.add_offices(certified={"MH01": 4, "MH02": 2, "MH03": 3}, metadata=[("authorization", f"Bearer {SYSTEM}")])
    yield running
    running.close()


@pytest.mark.parametrize("role", sorted(TOKENS))
@pytest.mark.parametrize(("path", "own_office_only"), [
    ("/api/v1/offices/MH01", False),
    ("/api/v1/offices/MH02", True),
    ("/api/v1/alerts?office_id=MH02", True),
    ("/api/v1/indicators/index/history?office_id=MH02", True),
    ("/api/v1/indicators/index/history", False),
    ("/api/v1/district", False),
    ("/api/v1/rankings", False),
    ("/api/v1/scheme", False),
    ("/api/v1/offices", False),
])
def test_the_access_matrix(district, role, path, own_office_only):
    reply = district.get(path, token=TOKENS[role])
    expected = 403 if own_office_only and role not in DISTRICT_WIDE else 200
    assert reply.status == expected, (role, path, reply.body)


@pytest.mark.parametrize("role", sorted(TOKENS))
def test_the_ranking_shows_every_office_but_the_detail_only_what_the_role_may_see(district, role):
    offices = district.get("/api/v1/offices", token=TOKENS[role]).body["offices"]
    assert [o["office_id"] for o in offices] == ["MH01", "MH03", "MH02"] and all(o["index"] for o in offices)
    detailed = {o["office_id"] for o in offices if "dimensions" in o}
    assert detailed == ({"MH01", "MH02", "MH03"} if role in DISTRICT_WIDE else {"MH01"})
    stream = district.stream(query={"access_token": TOKENS[role]})
    try:
        _, _, snapshot = stream.next()
        assert {o["office_id"] for o in snapshot["offices"] if "dimensions" in o} == detailed
        assert all(a["office_id"] in detailed for a in snapshot["alerts"])
    finally:
        stream.close()


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "missing bearer token"),
    ({"Authorization": "Bearer not-a-jwt"}, "invalid token"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "Bearer"),
])
def test_no_valid_token_is_a_401_except_for_probes_and_the_page(district, headers, reason):
    reply = district.get("/api/v1/offices", headers=headers)
    assert reply.status == 401 and reason in reply.error["message"]
    assert district.get("/api/v1/stream", headers=headers).status == 401
    for open_path in ("/healthz", "/readyz", "/api/v1/openapi.json", "/"):
        assert district.get(open_path, headers=headers).status == 200, open_path
    assert district.get("/metrics", headers=headers).status == 404  # on METRICS_PORT only


def test_the_session_says_who_the_caller_is(district):
    session = district.get("/api/v1/session", token=TOKENS["office_head"]).body
    assert session == {"subject": "head-mh01", "roles": ["office_head"], "office_id": "MH01",
                       "district_wide": False, "auth_mode": "jwt"}


def test_grpc_applies_the_same_rules(district):
    def metadata(role: str):
        return [("authorization", f"Bearer {TOKENS[role]}")]

    with pytest.raises(grpc.RpcError) as refused:
        district.monitoring.GetOfficeIndex(pb.GetOfficeIndexRequest(office_id="MH02"), metadata=metadata("officer"))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    own = district.monitoring.GetOfficeIndex(pb.GetOfficeIndexRequest(office_id="MH01"), metadata=metadata("officer"))
    assert own.indicators
    listed = district.monitoring.ListOfficeIndices(pb.ListOfficeIndicesRequest(), metadata=metadata("office_head"))
    assert {o.office_id for o in listed.offices if o.dimensions} == {"MH01"}
    with pytest.raises(grpc.RpcError) as unauthenticated:
        district.monitoring.GetDistrictIndex(pb.GetDistrictIndexRequest())
    assert unauthenticated.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_the_development_login_opens_the_dashboard_with_a_token(district):
    """AUTH_MODE=jwt with JWT_SECRET and DEVELOPMENT_LOGIN=true: `make run` prints the dashboard address
    with a bureau-leader token. The page runs under the gateway's Content-Security-Policy and breaks none
    of it (a violation would be a script or style the browser refused)."""
    from playwright.sync_api import sync_playwright

    from services.common.auth import TokenVerifier

    url = district.gateway.dashboard_url("127.0.0.1")
    token = url.split("#token=", 1)[1]
    caller = TokenVerifier(district.settings).verify(f"Bearer {token}")
    assert caller.roles == frozenset({"bureau_leader"}) and caller.district_wide
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            refused = []
            page.on("console", lambda message: refused.append(message.text)
                    if "Content Security Policy" in message.text else None)
            page.add_init_script("window.cspViolations = [];"
                                 "document.addEventListener('securitypolicyviolation', (e) => "
                                 "window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));")
            response = page.goto(url)
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
            page.locator('[data-office="MH02"] .tile-index').wait_for(timeout=10_000)
            page.locator("#link.live").wait_for(timeout=10_000)
            assert "#token" not in page.url  # kept for the session, not left in the address bar
            assert page.locator("#who").inner_text() == "dev-bureau-leader"
            page.locator("[data-office='MH02']").click()  # the drill-down panel and its chart
            page.locator("#drill:not([hidden])").wait_for(timeout=10_000)
            page.wait_for_timeout(500)
            assert page.evaluate("window.cspViolations") == [] and refused == []
        finally:
            browser.close()


def test_the_dashboard_follows_its_token_past_the_stream_s_end_at_expiry(district):
    """The live stream ends when the page's token expires. With a fresh token in the session (a sign-in
    in another tab), the page reconnects with it and stays live; with only the expired one, it asks in
    Chinese to sign in again and stops reconnecting."""
    import datetime as dt

    from playwright.sync_api import sync_playwright

    base = f"http://127.0.0.1:{district.port}/"

    def short() -> str:
        return issue_token(SECRET, subject="leader", roles=["bureau_leader"], ttl=dt.timedelta(seconds=6))

    fresh = TOKENS["bureau_leader"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            renewed = browser.new_page()
            renewed.goto(f"{base}#token={short()}")
            renewed.locator("#link.live").wait_for(timeout=10_000)
            renewed.evaluate("token => sessionStorage.setItem('gatewayToken', token)", fresh)
            with renewed.expect_request(lambda r: "/api/v1/stream" in r.url and fresh in r.url, timeout=10_000):
                pass
            renewed.locator("#link.live").wait_for(timeout=10_000)
            assert renewed.locator("#signin").is_hidden()

            expired = browser.new_page()
            streams: list[str] = []
            expired.on("request", lambda r: streams.append(r.url) if "/api/v1/stream" in r.url else None)
            expired.goto(f"{base}#token={short()}")
            expired.locator("#link.live").wait_for(timeout=10_000)
            expired.locator("#signin").wait_for(state="visible", timeout=10_000)
            assert "登录已过期" in expired.locator("#signin").inner_text()
            asked = len(streams)
            expired.wait_for_timeout(4_000)  # longer than the page's reconnect delay
            assert len(streams) == asked <= 3, streams  # no reconnecting in a loop
        finally:
            browser.close()
