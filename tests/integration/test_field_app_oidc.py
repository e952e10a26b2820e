"""The field app's sign-in with the bureau's identity provider (AUTH_MODE=jwt, OIDC authorization
code with PKCE S256) in a real headless Chromium emulating a phone: the gateway and the services
verify the provider's RS256 access token exactly as any other (JWT_PUBLIC_KEY, audience, issuer).
The provider is tests/oidc_provider.py, a fake at a boundary we do not own."""

from __future__ import annotations

import datetime as dt

import pytest

from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc
from tests.api.gateway.support import CHROMIUM, CHROMIUM_ARGS, District, date
from tests.api.mobile_enforcement.support import uscc
from tests.conftest import make_settings
from tests.integration.test_field_app import KV_KEYS
from tests.oidc_provider import OidcProvider

CLIENT_ID = "field-app"


@pytest.fixture(scope="module")
def provider():
    # Access tokens of 65 s: the app refreshes a minute before expiry, so within the test.
    running = OidcProvider(client_id=CLIENT_ID, subject="MH01-01", roles=["officer"], office_id="MH01",
                           token_seconds=65).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def district(tmp_path_factory, provider):
    root = tmp_path_factory.mktemp("field-app-oidc")
    settings = make_settings(AUTH_MODE="jwt", JWT_PUBLIC_KEY=provider.public_key_pem, JWT_ISSUER=provider.issuer)
    gateway_token = provider.token(subject="gateway", roles=["system"], office_id="", token_use="service",
                                   seconds=int(dt.timedelta(days=1).total_seconds()))
    running = District(root, f"sqlite:///{root / 'gateway.db'}", settings,
                       services=("command_center", "mobile_enforcement", "facilities"),
                       gateway_env={"ATTACHMENT_DIR": str(root / "attachments"), "GATEWAY_SERVICE_TOKEN": gateway_token,
                                    "OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": CLIENT_ID})
    leader = [("authorization", f"Bearer {provider.token(subject='leader', roles=['bureau_leader'], office_id='')}")]
    running.add_offices(("MH01",), metadata=leader)
    channel = running.sources["mobile_enforcement"].channel
    pb_grpc.EntityServiceStub(channel).RegisterEntity(pb.RegisterEntityRequest(request_id="entity-1", entity=pb.Entity(
        uscc=uscc(11), name="联华便利店", category=pb.ENTITY_CATEGORY_CONVENIENCE_STORE, address="莘庄镇莘松路11号",
        street="莘庄镇", risk_level=pb.RISK_LEVEL_LOW)), metadata=leader)
    running.settle()
    pb_grpc.InspectionServiceStub(channel).ScheduleInspection(pb.ScheduleInspectionRequest(
        request_id="inspection-1", inspection=pb.Inspection(entity_id=uscc(11), kind=pb.INSPECTION_KIND_ROUTINE,
                                                            due_date=date(running.clock.today))), metadata=leader)
    yield running
    running.close()


def test_an_officer_signs_in_with_the_bureaus_identity_provider_by_pkce_and_sees_their_work(district, provider):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(**playwright.devices["Pixel 7"], locale="zh-CN")
            page = context.new_page()
            problems = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("console", lambda message: problems.append(message.text)
                    if "Content Security Policy" in message.text else None)
            app = f"http://127.0.0.1:{district.port}/field/"

            # A redirect back that this phone did not start (no state of its own) signs nobody in.
            page.goto(f"{app}?code=forged&state=forged")
            assert "登录回调无效" in page.get_by_role("alert").text_content()
            assert provider.exchanges == []

            page.click("#oidc-sign-in")  # discovery, then /authorize, then back to /field/ with a code
            page.get_by_text("联华便利店").wait_for(timeout=15_000)
            assert page.url == app  # the code and state are gone from the address bar
            assert provider.exchanges[0] == {"grant": "authorization_code", "ok": True}
            assert page.evaluate("() => sessionStorage.getItem('field.oidc')") is None
            tokens = page.evaluate("() => JSON.parse(localStorage.getItem('field.tokens'))")
            assert tokens["refresh_token"] and tokens["access_token"].count(".") == 2
            assert "王伟" in page.text_content("#who")

            # Before the access token expires the app trades the refresh token for a new one, and uses it.
            page.wait_for_function(f"() => JSON.parse(localStorage.getItem('field.tokens')).access_token "
                                   f"!== '{tokens['access_token']}'", timeout=15_000)
            assert provider.exchanges == [{"grant": "authorization_code", "ok": True},
                                          {"grant": "refresh_token", "ok": True}]
            page.reload()
            page.get_by_text("联华便利店").wait_for()

            # MH01-01 opens the inspection; later their session is over and MH01-02 signs in on the same
            # phone: nothing MH01-01 saw is kept for MH01-02 (the token's subject says who acts).
            page.locator("a[href^='#/inspection/']").first.click()
            page.wait_for_selector("#inspection-title")
            assert any(key.startswith("entity:") for key in page.evaluate(KV_KEYS))  # kept by the inspection view
            other = provider.token(subject="MH01-02", roles=["officer"], office_id="MH01")
            page.evaluate("(token) => localStorage.setItem('field.tokens', JSON.stringify("
                          "{access_token: token, refresh_token: '', expires_at: Date.now() + 60000}))", other)
            page.goto(f"{app}#/work")
            page.reload()
            page.get_by_text("联华便利店").wait_for()
            assert not [key for key in page.evaluate(KV_KEYS) if key.startswith("entity:")]

            page.goto(f"{app}#/me")
            page.click("#sign-out")
            page.wait_for_selector("#oidc-sign-in")
            assert page.evaluate("() => localStorage.getItem('field.tokens')") is None
            assert problems == []
        finally:
            browser.close()
