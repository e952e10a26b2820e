"""The gateway in monolithic mode over the demo district (`make run`): every office ranked, the
live index equal to assessment's live score (one scoring function), alerts from the services'
records; and, in a real headless Chromium, the dashboard updating without a reload."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from services.common import registry
from supervision.assessment.v1 import assessment_pb2, assessment_pb2_grpc
from supervision.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from tests.api.gateway.support import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture
def gateway(demo_district):
    hosted = demo_district.services["gateway"]
    assert hosted.parts.feeder.ready.wait(20)
    return hosted


def get(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as reply:
        return json.loads(reply.read())


def test_the_demo_district_is_ranked_live(gateway, demo_district):
    offices = get(gateway.http_port, "/api/v1/offices")["offices"]
    assert len(offices) == 14 and all(o["index"] is not None for o in offices)
    assert [o["rank"] for o in offices] == sorted(o["rank"] for o in offices)
    assert {o["name"] for o in offices} >= {"莘庄市场监督管理所", "浦锦市场监督管理所"}
    sources = {s["source"]: s["available"] for s in get(gateway.http_port, "/readyz")["sources"]}
    assert all(sources[name] for name in registry.names() if name in sources)
    # The alert probes run once the district is loaded, in the reconcile that readiness forces: it
    # may still be under way when the first reconcile has made the feeder ready.
    expected = {"complaint_overdue", "incident_open", "calibration_due", "case_overdue"}
    deadline = time.monotonic() + 20
    while not expected <= (kinds := {a["kind"] for a in get(gateway.http_port, "/api/v1/alerts")["alerts"]}) \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    assert expected <= kinds
    watched = gateway_pb2_grpc.MonitoringServiceStub(demo_district.channels["gateway"])
    assert watched.GetDistrictIndex(gateway_pb2.GetDistrictIndexRequest()).office_count == 14


def test_the_live_index_is_assessments_live_score(gateway, demo_district):
    if "assessment" not in demo_district.channels:
        pytest.skip("assessment is not in the monolith")
    for service in demo_district.services.values():
        service.settle()
    scores = assessment_pb2_grpc.ScoreServiceStub(demo_district.channels["assessment"])
    view = gateway.parts.monitor.view
    assert view.scheme.origin == "assessment"
    for office_id in ("MH01", "MH07", "MH14"):
        live = scores.GetLiveScore(assessment_pb2.GetLiveScoreRequest(office_id=office_id))
        assert view.offices[office_id].score.index == pytest.approx(live.index, abs=1e-9), office_id


def test_the_dashboard_updates_without_a_reload_in_chromium(gateway):
    from playwright.sync_api import sync_playwright

    port = gateway.http_port
    office = "MH02"  # 七宝镇
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            # The gateway's Content-Security-Policy: a script or style it made the browser refuse.
            page.on("console", lambda message: errors.append(message.text)
                    if "Content Security Policy" in message.text else None)
            page.add_init_script("window.cspViolations = [];"
                                 "document.addEventListener('securitypolicyviolation', (e) => "
                                 "window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));")
            page.goto(f"http://127.0.0.1:{port}/")
            figure = page.locator(f'[data-office="{office}"] .tile-figure[data-key="complaints.backlog"]')
            figure.wait_for(timeout=10_000)
            page.locator("#link.live").wait_for(timeout=10_000)
            before = int(figure.inner_text())
            assert page.locator(f'[data-office="{office}"] .tile-index').inner_text().replace(".", "").isdigit()
            page.evaluate("() => { window.__sameDocument = true; }")
            form = {"kind": "complaint", "complainant": {"name": "李雷", "phone": "13900001111"},
                    "respondent": {"name": "某便利店", "address": "七宝镇漕宝路1号", "street": "七宝镇"},
                    "category": "价格", "description": "标价与结算价不一致"}
            request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/complaints",
                                             data=json.dumps(form).encode(), method="POST",
                                             headers={"Content-Type": "application/json"})
            started = time.monotonic()
            with urllib.request.urlopen(request, timeout=10) as reply:
                assert json.loads(reply.read())["office_id"] == office
            # A function, not an expression string: Playwright polls a string with eval(), which the
            # gateway's Content-Security-Policy (no 'unsafe-eval') refuses once the first check fails.
            page.wait_for_function(
                "([selector, expected]) => document.querySelector(selector)?.textContent === expected",
                arg=[f'[data-office="{office}"] .tile-figure[data-key="complaints.backlog"]', str(before + 1)],
                timeout=5_000)
            assert time.monotonic() - started < 2  # within a second here; slack for a busy CI machine
            assert page.evaluate("() => window.__sameDocument") is True  # no reload
            page.locator("#feed li", has_text="收到投诉").first.wait_for(timeout=5_000)
            page.click(f'[data-office="{office}"]')
            page.locator("#drill-body tr[data-indicator]").first.wait_for(timeout=5_000)
            explanations = page.locator("#drill-body tr[data-indicator] td:last-child").all_inner_texts()
            assert any("扣" in text or "满分" in text for text in explanations)
            page.locator("#drill-body .office-trend svg").first.wait_for(timeout=5_000)  # drawn as SVG
            assert page.evaluate("() => window.cspViolations") == []
            assert errors == []
        finally:
            browser.close()
