"""The citizen's page at /complaint through the gateway's real HTTP server and a real complaints
service: a plain HTML form post (no JavaScript, sent with aiohttp's client) answered with the
complaint number or the form again with each error next to its field, in Chinese; and, in a real
headless Chromium at a phone's size, the same by keyboard only, readable (contrast) and announced
(aria); and the status lookup on the same page, by keyboard, showing state and dates only."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from html.parser import HTMLParser

import aiohttp
import pytest

from tests.api.gateway.support import CHROMIUM, CHROMIUM_ARGS, District
from tests.conftest import make_settings

PHONE = {"width": 390, "height": 844}
CJK = re.compile(r"[\u4e00-\u9fff]")
FIELDS = [("kind", "complaint"), ("complainant.name", "欧阳娜娜"), ("complainant.phone", "13912345678"),
          ("respondent.name", "某某超市"), ("respondent.address", "莘庄镇莘松路1号"), ("respondent.street", "莘庄镇"),
          ("category", "食品安全"), ("description", "购买的牛奶已过保质期")]


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    root = tmp_path_factory.mktemp("citizen-page")
    running = District(root, f"sqlite:///{root / 'gateway.db'}", make_settings(),
                       services=("command_center", "complaints"), gateway_env={"COMPLAINT_FORM_BURST": "200"})
    running.add_offices()
    running.complaints_db = root / "complaints.db"
    yield running
    running.close()


def stored(district, description: str) -> list[str]:
    """The ids of the complaints complaints keeps with this description."""
    with sqlite3.connect(district.complaints_db) as connection:
        return [row[0] for row in connection.execute("SELECT id FROM complaints WHERE description = ?",
                                                     (description,))]


class Page(HTMLParser):
    """The elements of an HTML answer that carry an id: tag, attributes and text."""

    VOID = frozenset({"input", "meta", "link", "br", "img"})

    def __init__(self, text: str):
        super().__init__()
        self.elements: dict[str, dict] = {}
        self.inputs: dict[str, dict] = {}
        self._open: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        if "id" in element["attrs"]:
            self.elements[element["attrs"]["id"]] = element
        if tag in ("input", "textarea") and "name" in element["attrs"]:
            self.inputs.setdefault(element["attrs"]["name"], element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def shown(self, element_id: str) -> bool:
        return element_id in self.elements and "hidden" not in self.elements[element_id]["attrs"]


async def _exchange(port: int, method: str, path: str, data=None, headers=None) -> tuple[int, dict, str]:
    async with aiohttp.ClientSession() as session, session.request(
            method, f"http://127.0.0.1:{port}{path}", data=data, headers=headers) as reply:
        return reply.status, dict(reply.headers), await reply.text()


def browser_post(port: int, fields, **headers) -> tuple[int, dict, str]:
    """What a browser without JavaScript sends: the form's fields, url-encoded, asking for a page."""
    return asyncio.run(_exchange(port, "POST", "/api/v1/complaints", data=fields,
                                 headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", **headers}))


def open_page(port: int, path: str = "/complaint") -> tuple[int, dict, str]:
    return asyncio.run(_exchange(port, "GET", path))


def token_of(text: str) -> str:
    return Page(text).inputs["request_id"]["attrs"]["value"]


def test_the_page_is_served_chinese_first_with_no_inline_code_and_a_token_of_its_own(district):
    answers = [open_page(district.port, path) for path in ("/complaint", "/complaint/")]
    for status, headers, text in answers:
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert headers["Cache-Control"] == "no-store"
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert '<html lang="zh-CN">' in text and "<title>投诉举报" in text
        # The CSP allows no inline script or style element: everything comes from /static/.
        assert re.findall(r"<script[^>]*>", text) == ['<script src="/static/complaint.js" defer>']
        assert "<style" not in text and " style=" not in text
        page = Page(text)
        for name in ("complainant.name", "complainant.phone", "respondent.name", "description"):
            input_id = page.inputs[name]["attrs"]["id"]
            assert f'for="{input_id}"' in text, f"{name} has no label"
    tokens = [token_of(text) for _, _, text in answers]
    assert tokens[0] != tokens[1]
    for path in ("/static/complaint.js", "/static/complaint.css"):
        assert open_page(district.port, path)[0] == 200


def test_a_plain_form_post_answers_the_complaint_number_and_a_reload_creates_nothing_new(district):
    token = token_of(open_page(district.port)[2])
    fields = [*FIELDS[:-1], ("description", "没有脚本的浏览器提交的投诉"), ("request_id", token)]
    status, headers, text = browser_post(district.port, fields)
    assert status == 201 and headers["Content-Type"].startswith("text/html"), text
    page = Page(text)
    number = page.elements["receipt-number"]["text"]
    assert stored(district, "没有脚本的浏览器提交的投诉") == [number]
    assert page.shown("receipt") and not page.shown("complaint-form") and "已收到您的投诉" in text
    assert re.search(r"应在 \d{4}-\d{2}-\d{2} 前决定是否受理", page.elements["receipt-due"]["text"])
    assert "欧阳娜娜" not in text and "13912345678" not in text  # the answer carries no personal data
    again = browser_post(district.port, fields)  # the browser's "resend the form?" after a reload
    assert again[0] == 201 and Page(again[2]).elements["receipt-number"]["text"] == number
    assert stored(district, "没有脚本的浏览器提交的投诉") == [number]


def test_a_plain_form_post_with_errors_gets_the_form_back_with_each_error_next_to_its_field(district):
    token = token_of(open_page(district.port)[2])
    hostile = '"><script>alert(1)</script>'
    fields = [("kind", "complaint"), ("complainant.name", hostile), ("complainant.phone", "12345"),
              ("respondent.street", "莘庄镇"), ("category", "食品安全"), ("description", ""),
              ("amount_yuan", "很多"), ("request_id", token)]
    status, headers, text = browser_post(district.port, fields)
    assert status == 400 and headers["Content-Type"].startswith("text/html")
    page = Page(text)
    for field in ("complainant.phone", "respondent.name", "respondent.address", "description", "amount_yuan"):
        ident = field.replace(".", "-").replace("_", "-")
        error, control = page.elements[f"e-{ident}"], page.elements[f"f-{ident}"]
        assert page.shown(f"e-{ident}") and CJK.search(error["text"]), field
        assert control["attrs"].get("aria-invalid") == "true", field
        assert f"e-{ident}" in control["attrs"]["aria-describedby"].split(), field
    assert not page.shown("e-category") and "aria-invalid" not in page.elements["f-category"]["attrs"]
    assert page.shown("error-summary") and page.elements["error-summary"]["attrs"]["role"] == "alert"
    assert "autofocus" in page.elements["error-summary"]["attrs"]
    assert '<a href="#f-complainant-phone">联系电话：' in text
    # The form as sent, escaped: what a stranger typed never becomes markup.
    assert page.inputs["complainant.name"]["attrs"]["value"] == hostile and "<script>alert" not in text
    assert page.inputs["respondent.street"]["attrs"]["value"] == "莘庄镇"
    assert page.inputs["request_id"]["attrs"]["value"] == token  # corrected, it is the same submission
    assert stored(district, "") == []


@pytest.mark.parametrize(("raw", "message"), [
    (b"kind=complaint&complainant.name=%FF%FE", "表单：须为 UTF-8 编码的表单字段"),
    (b"kind=complaint&kind=report", "字段重复"),
    ("&".join(f"f{n}=x" for n in range(40)).encode(), "表单：须为 UTF-8 编码的表单字段"),
])
def test_a_form_post_no_parser_can_read_is_a_400_page_in_chinese(district, raw, message):
    status, _, text = browser_post(district.port, raw,
                                   **{"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and message in text and Page(text).shown("error-summary")


def test_a_stale_or_spent_token_gets_a_fresh_one_in_the_page(district):
    status, _, text = browser_post(district.port, [*FIELDS, ("request_id", "f1.1.forged.token")])
    assert status == 400 and "页面已过期" in text
    fresh = token_of(text)
    assert fresh != "f1.1.forged.token"
    first = browser_post(district.port, [*FIELDS[:-1], ("description", "令牌用过一次"), ("request_id", fresh)])
    assert first[0] == 201
    changed = browser_post(district.port, [*FIELDS[:-1], ("description", "令牌又用于另一份"), ("request_id", fresh)])
    assert changed[0] == 409 and "此前已以不同内容提交过" in changed[2]
    renewed = token_of(changed[2])
    assert renewed != fresh
    assert browser_post(district.port, [*FIELDS[:-1], ("description", "令牌又用于另一份"),
                                        ("request_id", renewed)])[0] == 201


def test_json_errors_carry_chinese_descriptions_next_to_their_fields(district):
    reply = district.request("POST", "/api/v1/complaints", {
        "kind": "report", "complainant": {"anonymous": True, "phone": "13800138000"},
        "respondent": {"name": "某店", "uscc": "９１３１０１１２ma1gb12348"}, "category": "", "description": "乱收费"})
    assert reply.status == 400
    assert set(reply.error) == {"code", "status", "message", "details"} and reply.error["code"] == 400
    details = {d["field"]: d["description"] for d in reply.error["details"]}
    assert set(details) == {"complainant.anonymous", "respondent.address", "respondent.uscc", "category"}
    assert all(CJK.search(text) for text in details.values()), details
    assert details["respondent.uscc"] == "校验位不符，请核对代码"  # full-width, lower case: read as typed


def test_a_url_encoded_post_that_asks_for_json_gets_json(district):
    status, headers, text = browser_post(district.port, [*FIELDS[:-1], ("description", "要 JSON 的表单提交")],
                                         Accept="application/json")
    assert status == 201 and headers["Content-Type"].startswith("application/json") and '"id"' in text


def test_an_outage_and_a_flood_are_told_in_the_page_with_when_to_come_back(tmp_path):
    running = District(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", make_settings(),
                       gateway_env={"COMPLAINT_FORM_BURST": "2", "COMPLAINT_FORM_RATE_PER_MINUTE": "1"})
    try:
        status, headers, text = browser_post(running.port, FIELDS)  # complaints is not running here
        assert status == 503 and headers["Retry-After"] and "投诉受理服务暂时不可用" in text
        assert Page(text).inputs["description"]["text"] == "购买的牛奶已过保质期"  # nothing typed is lost
        assert browser_post(running.port, [("kind", "praise")])[0] == 400
        status, headers, text = browser_post(running.port, FIELDS)
        assert status == 429 and int(headers["Retry-After"]) >= 1 and "提交过于频繁" in text
        assert Page(text).shown("error-summary")
    finally:
        running.close()


# ----------------------------------------------------------------------------- in Chromium

# Every element with text of its own: its colour against the first opaque background behind it.
CONTRAST = """() => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => [r, g, b].map((v) => {
    const c = v / 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }).reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const colour = rgb(getComputedStyle(node).backgroundColor);
      if (colour.length === 3 || (colour.length === 4 && colour[3] === 1)) return colour.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const poor = [];
  for (const element of document.querySelectorAll("body *")) {
    const own = [...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const box = element.getBoundingClientRect();
    if (!own || !element.checkVisibility() || box.width === 0) continue;
    const [fore, back] = [luminance(rgb(getComputedStyle(element).color)), luminance(background(element))];
    const ratio = (Math.max(fore, back) + 0.05) / (Math.min(fore, back) + 0.05);
    if (ratio < 4.5) poor.push(`${element.tagName}#${element.id}.${element.className} ${ratio.toFixed(2)}`);
  }
  return poor;
}"""
# Nothing wider than the phone, and every control large enough for a finger and read without zoom.
GEOMETRY = """() => {
  const problems = [];
  if (document.documentElement.scrollWidth > window.innerWidth) problems.push("horizontal scroll");
  for (const element of document.querySelectorAll("input:not([type=hidden]), textarea, button, .choice")) {
    if (!element.checkVisibility()) continue;
    const box = element.getBoundingClientRect();
    if (box.left < 0 || box.right > window.innerWidth) problems.push(`${element.id} outside`);
    const target = element.matches("input[type=radio], input[type=checkbox]") ? element.closest("label") : element;
    if (target.getBoundingClientRect().height < 44) problems.push(`${element.id || element.className} small`);
    if (parseFloat(getComputedStyle(target).fontSize) < 16) problems.push(`${element.id} font`);
  }
  return problems;
}"""
ACTIVE = "() => document.activeElement ? document.activeElement.id : ''"


def launch(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    page = browser.new_page(viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True)
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on("console", lambda message: page.problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.add_init_script("window.cspViolations = [];"
                         "document.addEventListener('securitypolicyviolation', (e) => "
                         "window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));")
    return browser, page


def tab_to(page, target: str, limit: int = 40) -> list[str]:
    """Presses Tab until `target` has the focus; the ids passed on the way."""
    passed = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        passed.append(page.evaluate(ACTIVE))
        if passed[-1] == target:
            return passed
    raise AssertionError(f"{target} never took the focus by Tab; passed {passed}")


def test_on_a_phone_by_keyboard_only_a_citizen_sends_a_complaint_and_reads_its_number(district):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser, page = launch(playwright)
        try:
            page.goto(f"http://127.0.0.1:{district.port}/complaint")
            assert page.evaluate(CONTRAST) == []
            assert page.evaluate(GEOMETRY) == []
            # Sent empty, by keyboard: the summary takes the focus and is an alert; each field says why.
            tab_to(page, "submit")
            page.keyboard.press("Enter")
            page.wait_for_function("() => document.activeElement?.id === 'error-summary'", timeout=5_000)
            expect(page.get_by_role("alert")).to_contain_text("表单有误")
            # No kind chosen yet: no business is required (complaints' rule), the rest is.
            for field in ("f-complainant-name", "f-complainant-phone", "f-category", "f-description"):
                expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
                expect(page.locator(f"#{field}")).to_have_accessible_description(re.compile("必填"))
            expect(page.locator("#f-kind-report")).to_have_attribute("aria-invalid", "true")
            expect(page.locator("#f-kind-report")).to_have_accessible_description(re.compile("必选"))
            assert page.evaluate(CONTRAST) == [] and page.evaluate(GEOMETRY) == []
            # The summary's first link leads to the kind, where the fixing starts.
            page.keyboard.press("Tab")
            assert page.evaluate("() => document.activeElement.getAttribute('href')") == "#f-kind-complaint"
            page.keyboard.press("Enter")
            assert page.evaluate(ACTIVE) == "f-kind-complaint"
            page.keyboard.press("Space")
            order = []
            for target, text in (("f-complainant-name", "欧阳娜娜"), ("f-complainant-phone", "139 1234 5678"),
                                 ("f-respondent-name", "手机上的超市"), ("f-respondent-address", "莘庄镇莘松路2号"),
                                 ("f-respondent-street", "莘庄镇"), ("f-category", "食品安全"),
                                 ("f-description", "手机上用键盘提交的投诉")):
                order += tab_to(page, target, limit=4)
                page.keyboard.type(text)
            # The anonymous box is out of the way for a complaint (it may not be anonymous).
            assert "f-complainant-anonymous" not in order
            tab_to(page, "submit", limit=4)
            page.keyboard.press("Enter")
            page.wait_for_function("() => document.activeElement?.id === 'receipt'", timeout=10_000)
            number = page.locator("#receipt-number").inner_text()
            assert stored(district, "手机上用键盘提交的投诉") == [number]
            expect(page.locator("#receipt")).to_contain_text("已收到您的投诉")
            assert page.locator("#complaint-form").is_hidden()
            assert page.evaluate(CONTRAST) == [] and page.evaluate(GEOMETRY) == []
            # The status lookup, by keyboard: a wrong digit first (the one answer to every miss), then
            # the phone's last four digits; the state and the acceptance clock's date, nothing personal.
            tab_to(page, "s-number")
            page.keyboard.type(number)
            tab_to(page, "s-last4", limit=2)
            page.keyboard.type("0000")
            page.keyboard.press("Enter")
            page.wait_for_function("() => document.activeElement?.id === 'status-answer'", timeout=10_000)
            expect(page.locator("#status-answer")).to_contain_text("未查到该投诉举报")
            page.locator("#s-last4").fill("5678")
            page.locator("#s-last4").press("Enter")
            expect(page.locator("#status-answer")).to_contain_text("状态：已登记")
            expect(page.locator("#status-answer")).to_contain_text("受理决定")
            expect(page.locator("#status-answer")).to_contain_text("办理时限规定尚待确认")
            assert "欧阳娜娜" not in page.locator("#status-answer").inner_text()
            assert page.evaluate(CONTRAST) == [] and page.evaluate(GEOMETRY) == []
            assert page.evaluate("() => window.cspViolations") == [] and page.problems == []
        finally:
            browser.close()


def test_on_a_phone_an_anonymous_report_needs_no_person_and_shows_its_number(district):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser, page = launch(playwright)
        try:
            page.goto(f"http://127.0.0.1:{district.port}/complaint/")
            page.get_by_label("举报").check()
            page.get_by_label("匿名提交").check()
            expect(page.locator("#f-complainant-name")).to_be_hidden()
            page.get_by_label("经营者名称").fill("匿名举报的饭店")
            page.get_by_label("经营地址").fill("七宝镇漕宝路9号")
            page.get_by_label("所在街镇").fill("七宝镇")
            page.get_by_label("问题类别").fill("食品安全")
            page.get_by_label("情况描述").fill("后厨卫生很差（匿名举报）")
            page.get_by_label("涉及金额（元）").fill("很多")
            # A page left open past its token's lifetime: once the form is right, the script fetches a
            # new token and sends it again by itself.
            page.evaluate("() => { document.querySelector('input[name=request_id]').value = 'f1.1.old.token'; }")
            page.get_by_role("button", name="提交").click()
            expect(page.locator("#e-amount-yuan")).to_contain_text("最多两位小数")
            expect(page.locator("#f-amount-yuan")).to_have_accessible_description(re.compile("金额"))
            assert stored(district, "后厨卫生很差（匿名举报）") == []
            page.get_by_label("涉及金额（元）").fill("120")
            page.get_by_role("button", name="提交").click()
            expect(page.locator("#receipt")).to_be_visible(timeout=10_000)
            expect(page.locator("#receipt-title")).to_have_text("已收到您的举报")
            expect(page.locator("#receipt-due")).to_contain_text("前决定是否立案")
            assert stored(district, "后厨卫生很差（匿名举报）") == [page.locator("#receipt-number").inner_text()]
            assert page.evaluate("() => document.querySelector('input[name=request_id]').value") != "f1.1.old.token"
            assert page.evaluate("() => window.cspViolations") == [] and page.problems == []
        finally:
            browser.close()
