"""The dashboard while the center loads its demo district (monolithic mode): a banner says which
step the loading is at, from the gateway's /readyz, and goes once /readyz answers ready; the page
then stops asking. A real gateway whose start-up progress the test moves, in a real Chromium."""

from __future__ import annotations

import pytest

from services.common.startup import StartupProgress
from services.gateway import service as gateway_service
from tests.api.gateway.support import District
from tests.conftest import make_settings
from tests.integration.test_dashboard import LAPTOP, browser


@pytest.fixture
def loading(tmp_path, monkeypatch):
    """A gateway (and command_center) whose demo district is still loading, and its progress."""
    progress = StartupProgress(["command_center", "complaints"])
    progress.begin("command_center")
    hosted = gateway_service.hosted
    monkeypatch.setattr(gateway_service, "hosted", lambda *args, **options: hosted(*args, startup=progress, **options))
    district = District(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", make_settings())
    try:
        yield district, progress
    finally:
        district.close()


def banner_says(page, text: str) -> None:
    page.wait_for_function("(text) => { const banner = document.getElementById('loading');"
                           " return !banner.hidden && banner.textContent.includes(text); }", arg=text, timeout=8_000)


def test_a_banner_shows_the_loading_step_and_goes_when_the_center_is_ready(loading):
    district, progress = loading
    assert district.get("/readyz").status == 503
    with browser() as launched:
        page = launched.new_page(viewport=LAPTOP)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        readiness: list[str] = []
        page.on("request", lambda request: readiness.append(request.url) if request.url.endswith("/readyz") else None)
        page.goto(f"http://127.0.0.1:{district.port}/")
        banner_says(page, "（0/2）")
        assert page.locator("#loading").get_attribute("role") == "status"  # read out by screen readers
        assert page.evaluate("() => [document.getElementById('loading-progress').value,"
                             " document.getElementById('loading-progress').max]") == [0, 2]
        progress.begin("complaints")
        banner_says(page, "（1/2）")
        banner_says(page, "投诉举报")
        progress.finish()
        page.wait_for_function("() => document.getElementById('loading').hidden", timeout=8_000)
        assert page.locator("#loading").is_hidden()
        asked = len(readiness)
        page.wait_for_timeout(5_000)
        assert len(readiness) == asked  # ready: the page stopped asking
        assert errors == []


def test_a_center_ready_from_the_start_shows_no_banner_and_is_asked_once(tmp_path):
    district = District(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", make_settings())
    try:
        with browser() as launched:
            page = launched.new_page(viewport=LAPTOP)
            readiness: list[str] = []
            page.on("request", lambda request: readiness.append(request.url)
                    if request.url.endswith("/readyz") else None)
            page.goto(f"http://127.0.0.1:{district.port}/")
            page.locator("#link.live").wait_for(timeout=8_000)
            page.wait_for_timeout(3_000)
            assert page.locator("#loading").is_hidden()
            assert len(readiness) == 1
    finally:
        district.close()
