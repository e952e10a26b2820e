"""The inspector's field app (/field/) in a real headless Chromium emulating a phone held on site in
Minhang, against a real gateway with real mobile_enforcement, command_center and facilities
services: an inspection done offline and sent once when the network is back; a conflict with
someone else's change that the officer decides; the party's signature on the 现场检查笔录."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import re
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from supervision.facilities.v1 import facilities_pb2 as facilities_pb
from supervision.facilities.v1 import facilities_pb2_grpc as facilities_grpc
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc
from tests.api.gateway.support import CHROMIUM, CHROMIUM_ARGS, District, date
from tests.api.mobile_enforcement.support import uscc
from tests.conftest import make_settings
from tests.integration.test_citizen_page import CONTRAST

# 莘庄镇, Minhang: where the phone says it is.
MINHANG = {"latitude": 31.1129, "longitude": 121.3816}
ITEMS = ["CS-01", "CS-02", "CS-03", "CS-04", "CS-05", "CS-06", "CS-07"]  # the convenience store checklist
SENT = "() => document.getElementById('sync').textContent === '已全部发送'"
# Every control a finger can reach is at least 44px each way and within the screen; text of controls
# 16px+ so the phone does not zoom (the bottom tabs' captions are under their icons, 14px).
TARGETS = """() => {
  const problems = [];
  if (document.documentElement.scrollWidth > window.innerWidth) problems.push("horizontal scroll");
  const selector = "button, a.button, .tabs a, label.check, .photo-label, select, textarea, "
    + "input:not([type=hidden]):not([type=file]):not([type=checkbox]):not([type=radio])";
  for (const element of document.querySelectorAll(selector)) {
    if (!element.checkVisibility()) continue;
    const box = element.getBoundingClientRect();
    const name = element.id || element.textContent.trim().slice(0, 12);
    if (box.left < 0 || box.right > window.innerWidth) problems.push(`${name} outside`);
    if (box.height < 44 || box.width < 44) problems.push(`${name} small`);
    const font = parseFloat(getComputedStyle(element).fontSize);
    if (!element.matches(".tabs a") && font < 16) problems.push(`${name} font`);
  }
  return problems;
}"""
APP = Path(__file__).resolve().parents[2] / "services/gateway/static/field"
# The keys of the phone's IndexedDB `kv` store (the answers and inspections the app kept).
KV_KEYS = """async () => {
  const db = await new Promise((resolve, reject) => {
    const opening = indexedDB.open("field");
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
  const keys = await new Promise((resolve) => {
    const reading = db.transaction("kv").objectStore("kv").getAllKeys();
    reading.onsuccess = () => resolve(reading.result);
  });
  db.close();
  return keys;
}"""
# The field API answers in the service worker's Cache Storage, but those anyone signing in needs.
CACHED_ANSWERS = """async () => {
  const found = [];
  for (const name of (await caches.keys()).filter((name) => name.startsWith("field-data"))) {
    for (const request of await (await caches.open(name)).keys()) found.push(new URL(request.url).pathname);
  }
  return found.filter((path) => !/\\/(config|development-officers)$/.test(path));
}"""
# A blob: URL still gives its image, or was revoked.
ALIVE = """(url) => new Promise((resolve) => {
  const image = new Image();
  image.onload = () => resolve(true);
  image.onerror = () => resolve(false);
  image.src = url;
})"""


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    root = tmp_path_factory.mktemp("field-app")
    running = District(root, f"sqlite:///{root / 'gateway.db'}", make_settings(),
                       services=("command_center", "mobile_enforcement", "facilities"),
                       gateway_env={"ATTACHMENT_DIR": str(root / "attachments")})
    running.add_offices(("MH01",))
    channel = running.sources["mobile_enforcement"].channel
    running.entities = pb_grpc.EntityServiceStub(channel)
    running.inspections = pb_grpc.InspectionServiceStub(channel)
    running.documents = pb_grpc.DocumentServiceStub(channel)
    running.root = root
    running.rapid_tests = facilities_grpc.RapidTestServiceStub(running.sources["facilities"].channel)
    running.reader = facilities_grpc.EquipmentServiceStub(running.sources["facilities"].channel).RegisterEquipment(
        facilities_pb.RegisterEquipmentRequest(request_id="reader", equipment=facilities_pb.Equipment(
            office_id="MH01", category="pesticide_reader", model="NY-12", serial_no="SN-FIELD-1",
            last_calibrated_on=date(running.clock.today - dt.timedelta(days=30)))))
    yield running
    running.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        launched.devices = playwright.devices
        yield launched
        launched.close()


def schedule(district, number: int, name: str) -> str:
    """A convenience store of 莘庄镇 with a routine inspection due today: the inspection's id."""
    district.entities.RegisterEntity(pb.RegisterEntityRequest(request_id=f"entity-{number}", entity=pb.Entity(
        uscc=uscc(number), name=name, category=pb.ENTITY_CATEGORY_CONVENIENCE_STORE,
        address=f"莘庄镇莘松路{number}号", street="莘庄镇", risk_level=pb.RISK_LEVEL_HIGH)))
    district.settle()
    return district.inspections.ScheduleInspection(pb.ScheduleInspectionRequest(
        request_id=f"inspection-{number}", inspection=pb.Inspection(
            entity_id=uscc(number), kind=pb.INSPECTION_KIND_ROUTINE, due_date=date(district.clock.today)))).id


def photo(folder: Path, index: int) -> Path:
    """A camera-sized JPEG of its own (each photo a different file, so each is its own evidence)."""
    image = Image.new("RGB", (2400, 1800), (40 + index * 25, 120, 200 - index * 20))
    for x in range(0, 2400, 97):
        image.putpixel((x, index * 10), (255, 255, 255))
    path = folder / f"photo-{index}.jpg"
    image.save(path, quality=85)
    return path


def phone(browser, port: int):
    """A Pixel 7 in Minhang with the location allowed, signed in as MH01-01 (development login)."""
    context = browser.new_context(**browser.devices["Pixel 7"], geolocation=MINHANG, permissions=["geolocation"],
                                  locale="zh-CN")
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on("console", lambda message: page.problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    page.goto(f"http://127.0.0.1:{port}/field/")
    page.get_by_text("开发登录").wait_for()
    page.locator("[data-officer='MH01-01']").click()
    page.get_by_role("heading", name="今日任务", exact=False).wait_for()
    return context, page


def start_inspection(page, inspection_id: str, sent: str = "已全部发送") -> None:
    page.locator(f"a[href='#/inspection/{inspection_id}']").click()
    page.get_by_text("已定位").wait_for()
    assert page.is_checked("#officer-MH01-01")  # the acting officer is preselected
    page.check("#officer-MH01-02")
    page.click("#start")
    page.wait_for_selector("#checklist")
    page.wait_for_function(f"() => document.getElementById('sync').textContent === '{sent}'")


def stored_files(district) -> dict[str, int]:
    """The attachment store's files by name: size."""
    return {path.name: path.stat().st_size for path in (district.root / "attachments").rglob("*")
            if path.is_file() and len(path.name) == 64}


def completions(district, inspection_id: str) -> int:
    with sqlite3.connect(district.root / "mobile_enforcement.db") as db:
        return db.execute("SELECT count(*) FROM outbox WHERE event_type LIKE '%InspectionCompleted' "
                          "AND envelope LIKE ?", (f'%"subject": "inspection/{inspection_id}"%',)).fetchone()[0]


def test_an_inspection_done_offline_with_photos_is_sent_once_when_the_network_is_back(district, browser, tmp_path):
    inspection_id = schedule(district, 1, "好邻居便利店")
    context, page = phone(browser, district.port)
    try:
        card = page.locator("#assignments li").filter(has_text="好邻居便利店")
        for shown in ("莘庄镇莘松路1号", "便利店", "高风险", "上次检查：无记录"):
            assert shown in card.text_content()
        assert (page.evaluate(CONTRAST), page.evaluate(TARGETS)) == ([], [])
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        page.wait_for_load_state("networkidle")  # the checklists, officers and directory kept for offline use
        context.set_offline(True)
        start_inspection(page, inspection_id, sent="1 项操作等待发送")  # started offline
        assert (page.evaluate(CONTRAST), page.evaluate(TARGETS)) == ([], [])
        page.reload()  # the app shell and the inspection come from the phone
        page.wait_for_selector("#checklist")
        assert page.is_visible("#network")
        for index, code in enumerate(ITEMS):
            page.set_input_files(f"#photo-{code}", photo(tmp_path, index))
            page.wait_for_function(f"() => document.getElementById('photo-status-{code}').textContent"
                                   ".startsWith('照片 1 张')")
            page.click(f"#result-{code}-PASS")
            page.wait_for_selector(f"#result-{code}-PASS[aria-pressed=true]")
        # Each item shows its photo from the phone itself; the ones on screen are loaded, the rest when scrolled to.
        assert page.evaluate("() => document.querySelectorAll('.thumbs [data-sha256]').length") == len(ITEMS)
        waiting = page.get_attribute(f"#thumbs-{ITEMS[-1]} img", "src")
        assert waiting.startswith("blob:") and page.evaluate(ALIVE, waiting)
        page.click("#complete")
        page.wait_for_selector("#completed")
        assert page.text_content("#sync") == f"{2 * len(ITEMS) + 2} 项操作等待发送"
        assert district.inspections.GetInspection(pb.GetInspectionRequest(id=inspection_id)).findings == []

        context.set_offline(False)
        page.wait_for_function(SENT, timeout=30_000)
        done = district.inspections.GetInspection(pb.GetInspectionRequest(id=inspection_id))
        assert done.state == pb.INSPECTION_STATE_COMPLETED and done.outcome == pb.INSPECTION_OUTCOME_COMPLIANT
        assert completions(district, inspection_id) == 1
        assert sorted(f.item_code for f in done.findings) == ITEMS
        assert {f.result for f in done.findings} == {pb.ITEM_RESULT_PASS}
        assert len(done.evidence) == len(ITEMS) and {e.kind for e in done.evidence} == {pb.EVIDENCE_KIND_PHOTO}
        assert done.location.point.latitude == pytest.approx(MINHANG["latitude"])
        assert sorted(done.inspector_ids) == ["MH01-01", "MH01-02"]
        by_item = {e.item_code: e for e in done.evidence}
        files = stored_files(district)
        for finding in done.findings:
            evidence = by_item[finding.item_code]
            assert list(finding.evidence_refs) == [f"evidence:{evidence.sha256}"]
            assert evidence.position.latitude == pytest.approx(MINHANG["latitude"])
            assert files[evidence.sha256] == evidence.size_bytes
            shrunk = Image.open(io.BytesIO((next((district.root / "attachments").rglob(evidence.sha256))).read_bytes()))
            assert shrunk.format == "JPEG" and max(shrunk.size) == 1600
        page.wait_for_selector("#issue-record")  # the outcome is the service's now: the record can be issued
        assert page.text_content("#outcome") == "合规"
        assert not page.evaluate(ALIVE, waiting)  # the waiting photo's URL went with the view it was shown in
        # Uploaded photos come back from the attachment store (with the officer's headers) under their item.
        for code in (ITEMS[0], ITEMS[-1]):
            page.locator(f"#thumbs-{code} [data-sha256='{by_item[code].sha256}']").scroll_into_view_if_needed()
            uploaded = page.locator(f"#thumbs-{code} img[data-sha256='{by_item[code].sha256}']")
            page.wait_for_function("(img) => img.complete && img.naturalWidth === 1600", arg=uploaded.element_handle())
            assert uploaded.get_attribute("src").startswith("blob:") and "已上传" in uploaded.get_attribute("alt")
        assert page.problems == []
    finally:
        context.close()


def test_a_shared_phone_sends_each_officers_actions_only_as_that_officer_and_forgets_what_they_saw(
        district, browser):
    first = schedule(district, 4, "罗森便利店")
    second = schedule(district, 5, "喜士多便利店")
    others = "2 项属于其他人员（王伟/MH01-01），需其本人登录后发送"
    context, page = phone(browser, district.port)
    try:
        page.wait_for_function("() => navigator.serviceWorker.controller !== null")
        page.wait_for_load_state("networkidle")
        context.set_offline(True)
        start_inspection(page, first, sent="1 项操作等待发送")  # MH01-01 acts offline...
        page.click("#result-CS-01-FAIL")
        page.wait_for_function("() => document.getElementById('sync').textContent === '2 项操作等待发送'")
        assert "get:work" in page.evaluate(KV_KEYS)
        page.click("a[data-tab='me']")
        page.click("#sign-out")  # ...and hands the phone over before the network is back
        page.wait_for_selector("#development-officers")
        assert set(page.evaluate(KV_KEYS)) <= {"get:config", "get:development-officers"}
        assert page.evaluate(CACHED_ANSWERS) == []
        assert page.text_content("#sync") == f"未登录；另有 {others}"

        context.set_offline(False)
        page.locator("[data-officer='MH01-02']").click()
        page.get_by_role("heading", name="今日任务", exact=False).wait_for()
        page.click("a[data-tab='queue']")
        page.click("#send-now")
        assert page.text_content("#queue-others") == others
        assert page.text_content("#sync") == f"已全部发送；另有 {others}"
        # MH01-02's own work goes at once; MH01-01's waits for them, never sent as MH01-02's.
        page.click("a[data-tab='work']")
        page.locator(f"a[href='#/inspection/{second}']").click()
        page.get_by_text("已定位").wait_for()
        assert page.is_checked("#officer-MH01-02")
        page.check("#officer-MH01-01")
        page.click("#start")
        page.wait_for_selector("#checklist")
        page.wait_for_function(f"() => document.getElementById('sync').textContent === '已全部发送；另有 {others}'")
        assert district.inspections.GetInspection(pb.GetInspectionRequest(id=second)).state == (
            pb.INSPECTION_STATE_IN_PROGRESS)
        assert district.inspections.GetInspection(pb.GetInspectionRequest(id=first)).state == (
            pb.INSPECTION_STATE_PLANNED)

        page.click("a[data-tab='me']")
        page.click("#sign-out")
        page.locator("[data-officer='MH01-01']").click()  # back in their own name: theirs go now
        page.wait_for_function(SENT, timeout=15_000)
        sent = district.inspections.GetInspection(pb.GetInspectionRequest(id=first))
        assert sent.state == pb.INSPECTION_STATE_IN_PROGRESS
        assert [(f.item_code, f.result) for f in sent.findings] == [("CS-01", pb.ITEM_RESULT_FAIL)]
        assert page.problems == []
    finally:
        context.close()


def test_a_conflict_stops_the_officers_actions_and_the_other_persons_finding_stays_until_they_decide(
        district, browser):
    inspection_id = schedule(district, 2, "快客便利店")
    context, page = phone(browser, district.port)
    try:
        start_inspection(page, inspection_id)
        context.set_offline(True)
        page.fill("#note-CS-02", "冷柜内发现过期酸奶")
        page.click("#result-CS-02-FAIL")
        page.wait_for_function("() => document.getElementById('sync').textContent === '1 项操作等待发送'")
        # Meanwhile the other inspector records the same item from their own phone.
        other = district.inspections.RecordFindings(pb.RecordFindingsRequest(id=inspection_id, findings=[
            pb.Finding(item_code="CS-02", result=pb.ITEM_RESULT_PASS, note="另一位检查人员：未见过期食品")]))
        context.set_offline(False)
        page.wait_for_selector("#conflict")
        panel = page.text_content("#conflict")
        assert f"服务器当前为版本 {other.version}" in panel and "另一位检查人员" in panel
        assert "冷柜内发现过期酸奶" in page.text_content("#conflict-mine")
        assert "冲突" in page.text_content("#sync")
        page.wait_for_timeout(1500)  # the queue goes on trying: nothing of this inspection is sent
        kept = district.inspections.GetInspection(pb.GetInspectionRequest(id=inspection_id))
        assert kept.version == other.version
        assert [(f.item_code, f.result, f.note) for f in kept.findings] == [
            ("CS-02", pb.ITEM_RESULT_PASS, "另一位检查人员：未见过期食品")]

        page.click("#conflict-reapply")  # the officer decides: theirs, on top of the new version
        page.wait_for_function(SENT, timeout=15_000)
        now = district.inspections.GetInspection(pb.GetInspectionRequest(id=inspection_id))
        assert [(f.item_code, f.result, f.note) for f in now.findings] == [
            ("CS-02", pb.ITEM_RESULT_FAIL, "冷柜内发现过期酸奶")]
        page.wait_for_selector("#conflict", state="detached")

        # Completed as compliant although a key item failed: the service refuses, the phone says why.
        for code in ITEMS[:1] + ITEMS[2:]:
            page.click(f"#result-{code}-PASS")
            page.wait_for_selector(f"#result-{code}-PASS[aria-pressed=true]")
        assert page.is_checked("#outcome-CASE_LEAD")  # what the failed item implies is proposed
        page.check("#outcome-COMPLIANT")
        page.click("#complete")
        page.wait_for_function("() => document.getElementById('complete-refused')?.textContent"
                               ".includes('完成检查被退回')")
        assert "1 项操作被退回" in page.text_content("#sync")
        assert district.inspections.GetInspection(pb.GetInspectionRequest(id=inspection_id)).state == (
            pb.INSPECTION_STATE_IN_PROGRESS)
        page.check("#outcome-CASE_LEAD")
        page.click("#complete")
        page.wait_for_selector("#lead")
        lead = district.inspections.GetInspection(pb.GetInspectionRequest(id=inspection_id)).lead_case_id
        assert lead and lead in page.text_content("#lead")
        assert page.text_content("#sync") == "已全部发送"  # acting again replaced the refused action
        assert page.problems == []
    finally:
        context.close()


def test_the_party_signs_the_record_on_the_phone_and_the_signed_copy_is_kept_as_evidence(district, browser):
    inspection_id = schedule(district, 3, "全家便利店")
    context, page = phone(browser, district.port)
    try:
        start_inspection(page, inspection_id)
        for code in ITEMS:
            page.click(f"#result-{code}-PASS")
            page.wait_for_selector(f"#result-{code}-PASS[aria-pressed=true]")
        page.fill("#summary", "现场检查未发现问题")
        page.click("#complete")
        page.click("#issue-record")
        page.wait_for_selector("#sign")
        record_id = page.text_content("#record-title + p").split("文书 ")[1].split("）")[0]
        page.click("#open-record")
        page.wait_for_selector("#record-link:not([hidden])")
        assert page.get_attribute("#record-link", "href").startswith("blob:")

        page.click("#sign")  # nothing drawn, no name: refused on the phone
        assert page.text_content("#record-error") == "请填写当事人姓名"
        page.fill("#signer-name", "张三")
        box = page.locator("canvas.pad").bounding_box()
        page.mouse.move(box["x"] + 30, box["y"] + 60)
        page.mouse.down()
        for step in range(1, 30):
            page.mouse.move(box["x"] + 30 + step * 8, box["y"] + 60 + (step % 6) * 10)
        page.mouse.up()
        page.click("#sign")
        page.wait_for_selector("#signed.ok", timeout=15_000)
        signed_id = page.text_content("#signed").split("文书 ")[1].split("）")[0]
        signed = district.documents.GetDocument(pb.GetDocumentRequest(id=signed_id))
        assert signed.signed_copy_of == record_id and signed.signer_name == "张三"
        evidence = district.inspections.GetInspection(pb.GetInspectionRequest(id=inspection_id)).evidence
        kinds = [e.kind for e in evidence]
        assert kinds.count(pb.EVIDENCE_KIND_SIGNATURE) == 1 and kinds.count(pb.EVIDENCE_KIND_SIGNED_RECORD) == 1
        assert all(e.sha256 in stored_files(district) for e in evidence)
        assert page.problems == []
    finally:
        context.close()


def test_a_rapid_test_recorded_offline_is_sent_when_back_and_a_positive_is_said_to_go_to_enforcement(
        district, browser):
    context, page = phone(browser, district.port)
    try:
        page.click("a[data-tab='rapid']")
        page.wait_for_selector("#rapid-form")
        assert page.locator(f"#equipment option[value='{district.reader.id}']").count() == 1
        context.set_offline(True)
        page.click("#rapid-submit")  # empty: refused on the phone, nothing queued
        assert "请填写" in page.text_content("#rapid-error")
        for field, value in {"#sample-name": "豇豆", "#vendor": "王记蔬菜", "#market": "莘庄农贸市场", "#stall": "12号",
                             "#item": "pesticide_residue", "#method": "enzyme_inhibition", "#reading": "72.5"}.items():
            page.fill(field, value)
        page.select_option("#equipment", district.reader.id)
        page.click("#rapid-submit")
        page.wait_for_function("() => document.getElementById('sync').textContent === '1 项操作等待发送'")
        context.set_offline(False)
        page.wait_for_function(SENT, timeout=15_000)
        page.wait_for_selector("#rapid-results")
        assert "阳性：结果将转执法处理" in page.text_content("#rapid-results")
        tests = district.rapid_tests.ListTests(facilities_pb.ListTestsRequest(filter='office_id = "MH01"')).tests
        assert [(t.sample.name, t.reading, t.result) for t in tests] == [
            ("豇豆", 72.5, facilities_pb.TEST_RESULT_POSITIVE)]
        assert page.problems == []
    finally:
        context.close()


def test_the_app_shell_is_small_has_no_inline_code_and_the_service_worker_keeps_every_file_of_it():
    files = [path for path in APP.iterdir() if path.is_file()]
    shell = [path for path in files if path.suffix in (".html", ".js", ".css", ".webmanifest")]
    assert sum(len(gzip.compress(path.read_bytes())) for path in shell) < 200 * 1024
    page = (APP / "index.html").read_text()
    assert '<html lang="zh-CN">' in page and "<style" not in page
    assert re.findall(r"<script[^>]*>", page) == ['<script type="module" src="/field/app.js">']
    kept = set(re.findall(r'"(/field/[^"]*)"', (APP / "sw.js").read_text()))
    modules = {f"/field/{path.name}" for path in files if path.suffix in (".js", ".css") and path.name != "sw.js"}
    assert modules <= kept, f"not kept for offline use: {modules - kept}"
