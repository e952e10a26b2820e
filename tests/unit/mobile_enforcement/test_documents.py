"""Enforcement documents (执法文书) in plain Python and on a SQLite store: the bureau's numbering,
which document a subject may have at its step, the content assembled from the records, the
templates' escaping and the renderer that fetches nothing. (The PDFs read back with pdftotext, the
rights and the gRPC calls are in tests/api/mobile_enforcement/test_mobile_enforcement_documents_api.py.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from services.common import hash_chain
from services.common.context import SYSTEM_CALLER, Caller
from services.common.db import Store
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from services.common.paging import Page
from services.common.rulebook import RuleDataError
from services.common.working_days import WorkingDayCalendar
from services.mobile_enforcement.documents.render import PdfRenderer, RefuseEveryUrl
from services.mobile_enforcement.domain import documents as d
from services.mobile_enforcement.domain.case_rules import (
    LeadInput,
    PenaltyInput,
    SanctionInput,
    penalty_json,
    sanctions_json,
)
from services.mobile_enforcement.domain.cases import Cases
from services.mobile_enforcement.domain.checklists import Catalog
from services.mobile_enforcement.domain.document_content import DocumentContent, FindingLine, Person, sanction_text
from services.mobile_enforcement.domain.document_settings import (
    KINDS,
    SETTINGS_FILE,
    SUBJECT_KINDS,
    TITLES,
    read_settings,
)
from services.mobile_enforcement.domain.rules import RuleBook
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.models import AuditRecord, Base, Case, Inspection, Office, Officer

SETTINGS = read_settings()
RULES = RuleBook.load()
KEYS = hash_chain.TrailKeys({"k1": b"k" * 32}, "k1")
# 10:00 on Monday 2 November 2026 in Shanghai.
START = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
OFFICER_MH02 = Caller(subject="officer-mh02", roles=frozenset({"officer"}), office_id="MH02")
HOSTILE = '<img src="file:///etc/passwd">小杨生煎</td><script>alert(1)</script>'


class Clock:
    def __init__(self, instant: dt.datetime) -> None:
        self.instant = instant

    def now(self) -> dt.datetime:
        return self.instant

    def today(self) -> dt.date:
        return (self.instant + dt.timedelta(hours=8)).date()


def fake_render(content: DocumentContent) -> bytes:
    """Fast stand-in for the PDF: the content itself, so a test can see what went in."""
    return repr(content).encode()


@pytest.fixture
def world(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'documents.db'}")
    Base.metadata.create_all(store.engine)
    clock = Clock(START)
    workspace = Workspace(store, RULES, Catalog.load(), WorkingDayCalendar.load(), clock.today, clock.now, KEYS)
    with store.transaction() as session:
        for office_id in ("MH01", "MH02"):
            session.add(Office(id=office_id, name=f"{office_id}市场监督管理所", district="闵行区"))
        for number in (1, 2, 3):
            session.add(Officer(id=f"MH01-00{number}", name=f"执法员{number}", office_id="MH01", group="CASE_HANDLING",
                                certificate_no=f"SH0100{number}", certificate_expires=dt.date(2030, 1, 1)))
    world = World(store, clock, workspace)
    yield world
    store.dispose()


class World:
    def __init__(self, store: Store, clock: Clock, workspace: Workspace) -> None:
        self.store, self.clock, self.workspace = store, clock, workspace
        self.rendered: list[DocumentContent] = []

        def render(content: DocumentContent) -> bytes:
            self.rendered.append(content)
            return fake_render(content)

        self.documents = d.Documents(workspace, SETTINGS, render)

    def case(self, party_name: str = "小杨生煎（莘庄店）", **fields: object) -> str:
        """A lead of MH01, then whatever columns the test sets (the procedure itself is tested elsewhere)."""
        with self.store.transaction() as session:
            case = Cases(self.workspace).open_lead_in(session, LeadInput(
                office_id="MH01", entity_id="", party_name=party_name, party_uscc="", party_address="莘松路1号",
                source="REFERRAL", source_ref="", description="涉嫌销售过期食品", received_at=self.clock.now()))
            for name, value in fields.items():
                setattr(case, name, value)
            return case.id

    def change(self, case_id: str, **fields: object) -> None:
        with self.store.transaction() as session:
            case = session.get(Case, case_id)
            for name, value in fields.items():
                setattr(case, name, value)

    def trail(self, subject: str) -> list[dict]:
        import json

        with self.store.read() as session:
            return [json.loads(r.record) for r in session.scalars(
                select(AuditRecord).where(AuditRecord.chain_key == subject).order_by(AuditRecord.sequence))]


FILED = {"state": "FILED", "filed_on": dt.date(2026, 11, 2), "officer_ids": "MH01-001,MH01-002",
         "closing_due": dt.date(2027, 1, 31)}
FINE_5000 = SanctionInput("FINE", Decimal("5000.00"), "", 0)
PROPOSED = PenaltyInput("ORGANISATION", False, (SanctionInput("WARNING", None, "", 0), FINE_5000))
NOTIFIED = {**FILED, "state": "NOTIFIED", "facts": "2026年10月28日销售超过保质期的食品。",
            "legal_basis": "《中华人民共和国食品安全法》",
            "proposed_penalty": penalty_json(PROPOSED), "party_kind": "ORGANISATION",
            "notified_on": dt.date(2026, 11, 2), "statement_due": dt.date(2026, 11, 9), "hearing_eligible": True}
DECIDED = {**NOTIFIED, "state": "DECIDED", "decided_on": dt.date(2026, 11, 10),
           "sanctions": sanctions_json(PROPOSED.sanctions), "penalty_kind": "WARNING", "fine_yuan": Decimal("5000")}


# ---------------------------------------------------------------- the bureau's configuration


def test_numbers_follow_the_kind_s_format_with_the_year_and_the_sequence():
    assert SETTINGS.number("PENALTY_DECISION", 2026, 12) == "闵市监案处字〔2026〕第12号"
    assert set(SETTINGS.formats) == set(KINDS)
    assert len({SETTINGS.number(kind, 2026, 1) for kind in KINDS}) == len(KINDS)


@pytest.mark.parametrize(("change", "message"), [
    ({"formats": {**SETTINGS.formats, "PENALTY_DECISION": "闵市监案处字〔{year}〕"}}, "PENALTY_DECISION must contain"),
    ({"formats": {**SETTINGS.formats, "PENALTY_DECISION": "{year}{n}{office}"}}, "may use only"),
    ({"formats": {k: v for k, v in SETTINGS.formats.items() if k != "HEARING_NOTICE"}}, "HEARING_NOTICE"),
    ({"formats": {**SETTINGS.formats, "SUMMONS": "{year}{n}"}}, "unknown kinds SUMMONS"),
    ({"review_days": 0}, "review_days must be a whole number"),
    ({"authority": " "}, "authority must be a non-empty text"),
])
def test_a_wrong_settings_file_is_refused_naming_the_key(tmp_path: Path, change, message):
    raw = yaml.safe_load(SETTINGS_FILE.read_text(encoding="utf-8"))
    raw.update(change)
    path = tmp_path / "documents.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RuleDataError, match=message):
        read_settings(path)


# ---------------------------------------------------------------- requests and guards


@pytest.mark.parametrize(("subject", "kind", "fields"), [
    ("", "PENALTY_DECISION", {"subject"}),
    ("case/abc", "PENALTY_DECISION", {"request_id"}),
    ("plan/abc", "PENALTY_DECISION", {"subject"}),
    ("case/", "PENALTY_DECISION", {"subject"}),
    ("case/" + "x" * 80, "PENALTY_DECISION", {"subject"}),
    ("case/abc", "", {"kind"}),
    ("case/abc", "SUMMONS", {"kind"}),
    ("case/abc", "INSPECTION_RECORD", {"kind"}),
    ("inspection/abc", "PENALTY_NOTICE", {"kind"}),
    ("plan/abc", "", {"subject", "kind"}),
])
def test_a_malformed_request_names_every_bad_field(subject, kind, fields):
    with pytest.raises(InvalidArgument) as refused:
        d.check_request(subject, kind, "r" * 129 if fields == {"request_id"} else "r")
    assert {v.field for v in refused.value.violations} == fields


def case_with(**fields: object) -> Case:
    case = Case(id="c1", state="LEAD", simplified=False, hearing_at=None, hearing_notified_on=None, filed_on=None,
                notified_on=None, decided_on=None)
    for name, value in fields.items():
        setattr(case, name, value)
    return case


@pytest.mark.parametrize(("kind", "too_early", "in_time", "step"), [
    ("FILING_APPROVAL", {}, FILED, "not filed"),
    ("PENALTY_NOTICE", FILED, NOTIFIED, "advance notice"),
    ("HEARING_NOTICE", NOTIFIED, {**NOTIFIED, "state": "HEARING", "hearing_at": START + dt.timedelta(days=8),
                                  "hearing_notified_on": dt.date(2026, 11, 2)}, "no hearing"),
    ("PENALTY_DECISION", NOTIFIED, DECIDED, "not decided"),
    ("DELIVERY_RECEIPT", NOTIFIED, {**DECIDED, "state": "CLOSED"}, "not decided"),
])
def test_a_case_document_waits_for_its_step(kind, too_early, in_time, step):
    with pytest.raises(FailedPrecondition, match=step):
        d.check_issuable(kind, case_with(**too_early))
    d.check_issuable(kind, case_with(**in_time))


@pytest.mark.parametrize("kind", ["PENALTY_DECISION", "DELIVERY_RECEIPT"])
def test_a_decision_on_the_spot_has_no_ordinary_decision_documents(kind):
    with pytest.raises(FailedPrecondition, match="simplified procedure"):
        d.check_issuable(kind, case_with(state="CLOSED", decided_on=dt.date(2026, 11, 2), simplified=True))


def test_inspection_documents_wait_for_the_start_and_an_order_to_rectify():
    planned = Inspection(id="i1", state="PLANNED", started_at=None, outcome=None)
    with pytest.raises(FailedPrecondition, match="not started"):
        d.check_issuable("INSPECTION_RECORD", planned)
    started = Inspection(id="i1", state="IN_PROGRESS", started_at=START, outcome=None)
    d.check_issuable("INSPECTION_RECORD", started)
    for outcome in (None, "ADVISED", "CASE_LEAD"):
        with pytest.raises(FailedPrecondition, match="ordered no rectification"):
            d.check_issuable("RECTIFICATION_ORDER", Inspection(id="i1", state="COMPLETED", started_at=START,
                                                               outcome=outcome))
    d.check_issuable("RECTIFICATION_ORDER", Inspection(id="i1", state="COMPLETED", started_at=START,
                                                       outcome="RECTIFICATION_ORDERED"))


# ---------------------------------------------------------------- content


@pytest.mark.parametrize(("sanction", "text"), [
    (FINE_5000, "罚款人民币5,000.00元"),
    (SanctionInput("CONFISCATE_GAINS", Decimal("1234.5"), "", 0), "没收违法所得人民币1,234.50元"),
    (SanctionInput("CONFISCATE_GOODS", Decimal("300"), "过期奶粉12罐", 0),
     "没收非法财物：过期奶粉12罐（估值人民币300.00元）"),
    (SanctionInput("CONFISCATE_GOODS", None, "过期奶粉12罐", 0), "没收非法财物：过期奶粉12罐"),
    (SanctionInput("SUSPEND_BUSINESS", None, "", 30), "责令停产停业，期限30日"),
    (SanctionInput("REVOKE_LICENCE", None, "食品经营许可证JY131", 0), "吊销许可证件：食品经营许可证JY131"),
    (SanctionInput("WARNING", None, "", 0), "警告"),
])
def test_sanctions_are_stated_in_the_documents_words(sanction, text):
    assert sanction_text(sanction) == text


def test_the_decision_states_facts_basis_penalties_and_the_configured_figures(world):
    case_id = world.case(**DECIDED)
    world.documents.issue(SYSTEM_CALLER, "", f"case/{case_id}", "PENALTY_DECISION")
    content = world.rendered[-1]
    rules = RULES.in_force(dt.date(2026, 11, 2))
    assert (content.title, content.number) == ("行政处罚决定书", "闵市监案处字〔2026〕第1号")
    assert content.facts == DECIDED["facts"] and content.legal_basis == "《中华人民共和国食品安全法》"
    assert content.sanctions == ("警告", "罚款人民币5,000.00元") and content.fine_total == "人民币5,000.00元"
    assert (content.payment_days, content.surcharge_percent_per_day) == (rules.payment_days,
                                                                         rules.surcharge_percent_per_day)
    assert (content.review_days, content.litigation_months, content.review_body) == (
        SETTINGS.review_days, SETTINGS.litigation_months, SETTINGS.review_body)
    assert [p.name for p in content.officers] == ["执法员1", "执法员2"]
    assert content.decided_on == dt.date(2026, 11, 10) and content.party_kind == "法人或者其他组织"


def test_a_decision_not_to_penalise_has_its_own_title_and_no_payment(world):
    case_id = world.case(**{**DECIDED, "sanctions": sanctions_json([SanctionInput("NONE", None, "", 0)]),
                            "penalty_kind": "NONE", "fine_yuan": None})
    world.documents.issue(SYSTEM_CALLER, "", f"case/{case_id}", "PENALTY_DECISION")
    content = world.rendered[-1]
    assert content.title == "不予行政处罚决定书" and content.no_penalty and content.fine_total == ""


def test_the_notice_states_both_rights_and_their_last_days(world):
    case_id = world.case(**NOTIFIED)
    world.documents.issue(SYSTEM_CALLER, "", f"case/{case_id}", "PENALTY_NOTICE")
    content = world.rendered[-1]
    assert content.title == "行政处罚听证告知书"
    assert content.proposed == ("警告", "罚款人民币5,000.00元")
    assert content.statement_due == dt.date(2026, 11, 9)
    rules = RULES.in_force(dt.date(2026, 11, 2))
    expected = WorkingDayCalendar.load().add_working_days(dt.date(2026, 11, 2),
                                                          rules.hearing_request_working_days).date
    assert content.hearing_request_due == expected
    no_hearing = world.case(**{**NOTIFIED, "hearing_eligible": False})
    world.documents.issue(SYSTEM_CALLER, "", f"case/{no_hearing}", "PENALTY_NOTICE")
    assert (world.rendered[-1].title, world.rendered[-1].hearing_request_due) == ("行政处罚告知书", None)


def test_the_receipt_names_the_decision_it_delivers_and_how_once_delivered(world):
    case_id = world.case(**DECIDED)
    before = world.documents.issue(SYSTEM_CALLER, "", f"case/{case_id}", "DELIVERY_RECEIPT")
    assert world.rendered[-1].delivered_document == "《行政处罚决定书》" and world.rendered[-1].delivered_on is None
    assert before.number == "闵市监送字〔2026〕第1号"
    other = world.case(**{**DECIDED, "state": "DELIVERED", "delivered_on": dt.date(2026, 11, 11),
                          "delivery_method": "MAIL"})
    decision = world.documents.issue(SYSTEM_CALLER, "", f"case/{other}", "PENALTY_DECISION")
    world.documents.issue(SYSTEM_CALLER, "", f"case/{other}", "DELIVERY_RECEIPT")
    content = world.rendered[-1]
    assert content.delivered_document == f"《行政处罚决定书》{decision.number}"
    assert (content.delivered_on, content.delivery_method) == (dt.date(2026, 11, 11), "邮寄送达")


# ---------------------------------------------------------------- numbering and the trail


def test_numbers_run_per_kind_and_year_and_a_second_issue_is_the_first(world):
    first = world.documents.issue(SYSTEM_CALLER, "r1", f"case/{world.case(**FILED)}", "FILING_APPROVAL")
    second_case = world.case(**DECIDED)
    second = world.documents.issue(SYSTEM_CALLER, "r2", f"case/{second_case}", "FILING_APPROVAL")
    decision = world.documents.issue(SYSTEM_CALLER, "r3", f"case/{second_case}", "PENALTY_DECISION")
    assert [first.sequence, second.sequence, decision.sequence] == [1, 2, 1]
    assert second.number == "闵市监立字〔2026〕第2号"
    again = world.documents.issue(SYSTEM_CALLER, "another request", f"case/{second_case}", "FILING_APPROVAL")
    assert (again.id, again.number) == (second.id, second.number)
    assert len(world.rendered) == 3  # the second issue rendered nothing


def test_the_pdf_is_rendered_before_the_write_and_again_only_when_its_number_was_taken(world):
    first, second = world.case(**FILED), world.case(**FILED)
    issued = world.documents.issue(SYSTEM_CALLER, "", f"case/{first}", "FILING_APPROVAL")
    assert [c.number for c in world.rendered] == ["闵市监立字〔2026〕第1号"]  # once, ahead of the transaction
    world.rendered.clear()
    nested: list[d.Document] = []
    plain = world.documents.render

    def render_while_another_takes_the_number(content: DocumentContent) -> bytes:
        if not nested:  # the draft's render: meanwhile another issue commits first
            world.documents.render = plain
            nested.append(world.documents.issue(SYSTEM_CALLER, "", f"case/{world.case(**FILED)}", "FILING_APPROVAL"))
        return plain(content)

    world.documents.render = render_while_another_takes_the_number
    late = world.documents.issue(SYSTEM_CALLER, "", f"case/{second}", "FILING_APPROVAL")
    assert (issued.sequence, nested[0].sequence, late.sequence) == (1, 2, 3)
    with world.store.read() as session:
        stored = d.get_document(session, late.id, with_content=True).content
    assert "闵市监立字〔2026〕第3号" in stored.decode() and "第2号" not in stored.decode()
    assert [c.number for c in world.rendered] == ["闵市监立字〔2026〕第2号", "闵市监立字〔2026〕第2号",
                                                  "闵市监立字〔2026〕第3号"]


def test_the_year_is_shanghai_s_and_a_new_year_starts_at_one(world):
    world.documents.issue(SYSTEM_CALLER, "", f"case/{world.case(**FILED)}", "FILING_APPROVAL")
    # 00:30 on 1 January 2027 in Shanghai is still 31 December in UTC.
    world.clock.instant = dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)
    issued = world.documents.issue(SYSTEM_CALLER, "", f"case/{world.case(**FILED)}", "FILING_APPROVAL")
    assert (issued.year, issued.sequence, issued.number) == (2027, 1, "闵市监立字〔2027〕第1号")


def test_the_trail_records_the_hash_and_still_verifies(world):
    import hashlib

    case_id = world.case(**FILED)
    document = world.documents.issue(SYSTEM_CALLER, "", f"case/{case_id}", "FILING_APPROVAL")
    with world.store.read() as session:
        stored = d.get_document(session, document.id, with_content=True)
        case = session.get(Case, case_id)
        verification = hash_chain.verify(session, AuditRecord, f"case/{case_id}", KEYS, expected_head=case.trail_head)
    assert stored.sha256 == hashlib.sha256(stored.content).hexdigest() == document.sha256
    assert document.size_bytes == len(stored.content)
    record = world.trail(f"case/{case_id}")[-1]
    assert record["action"] == "document issued"
    assert (record["sha256"], record["number"], record["document_id"]) == (document.sha256, document.number,
                                                                           document.id)
    assert verification.intact and verification.records_checked == 2


def test_a_refused_issue_takes_no_number_and_writes_nothing(world):
    case_id = world.case(**FILED)
    with pytest.raises(FailedPrecondition):
        world.documents.issue(SYSTEM_CALLER, "", f"case/{case_id}", "PENALTY_DECISION")
    with pytest.raises(PermissionDenied):
        world.documents.issue(OFFICER_MH02, "", f"case/{case_id}", "FILING_APPROVAL")
    with pytest.raises(NotFound):
        world.documents.issue(SYSTEM_CALLER, "", "case/nobody", "FILING_APPROVAL")
    assert len(world.trail(f"case/{case_id}")) == 1
    issued = world.documents.issue(SYSTEM_CALLER, "", f"case/{case_id}", "FILING_APPROVAL")
    assert issued.sequence == 1


def test_reads_are_scoped_to_the_office_and_bad_ids_are_not_found(world):
    document = world.documents.issue(SYSTEM_CALLER, "", f"case/{world.case(**FILED)}", "FILING_APPROVAL")
    assert world.documents.content(SYSTEM_CALLER, document.id).content == fake_render(world.rendered[-1])
    for read in (world.documents.get, world.documents.content):
        with pytest.raises(PermissionDenied):
            read(OFFICER_MH02, document.id)
        with pytest.raises(NotFound):
            read(SYSTEM_CALLER, "")
    assert world.documents.list(OFFICER_MH02, Page(size=10, after="", scope=b""), d.DocumentFilter()).items == []
    listed = world.documents.list(SYSTEM_CALLER, Page(size=10, after="", scope=b""),
                                  d.DocumentFilter(subject=document.subject, kind="FILING_APPROVAL"))
    assert [x.id for x in listed.items] == [document.id]
    with pytest.raises(InvalidArgument):
        world.documents.list(SYSTEM_CALLER, Page(size=10, after="", scope=b""), d.DocumentFilter(subject="plan/x"))
    with pytest.raises(PermissionDenied):
        world.documents.list(OFFICER_MH02, Page(size=10, after="", scope=b""), d.DocumentFilter(office_id="MH01"))


# ---------------------------------------------------------------- templates and the renderer


def test_user_input_is_escaped_in_every_template(world):
    renderer = PdfRenderer()
    case_id = world.case(party_name=HOSTILE, **{**DECIDED, "facts": HOSTILE, "statement": HOSTILE,
                                                "hearing_at": START + dt.timedelta(days=9), "hearing_place": HOSTILE,
                                                "hearing_host_id": "MH01-003",
                                                "hearing_notified_on": dt.date(2026, 11, 2)})
    for kind in SUBJECT_KINDS["case"]:
        world.documents.issue(SYSTEM_CALLER, "", f"case/{case_id}", kind)
        html = renderer.html(world.rendered[-1])
        assert "<img" not in html and "<script" not in html, kind
        assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;小杨生煎" in html, kind


def test_the_renderer_fetches_no_url_whatever_the_html_says():
    from weasyprint import HTML

    fetcher = RefuseEveryUrl()
    pdf = HTML(string='<p>x</p><img src="file:///etc/passwd"><img src="http://127.0.0.1:9/x.png">'
                      '<link rel="stylesheet" href="file:///etc/hostname">'
                      '<style>@import url("data:text/css,p{color:red}");</style>',
               url_fetcher=fetcher).write_pdf()
    assert pdf.startswith(b"%PDF")
    assert {"file:///etc/passwd", "http://127.0.0.1:9/x.png", "file:///etc/hostname"} <= set(fetcher.refused)


def test_every_kind_renders_a_pdf_and_fetches_nothing(world):
    renderer = PdfRenderer()
    case_id = world.case(**{**DECIDED, "hearing_at": START + dt.timedelta(days=9),
                            "hearing_place": "沪闵路6258号听证室", "hearing_host_id": "MH01-003",
                            "hearing_notified_on": dt.date(2026, 11, 2)})
    for kind in SUBJECT_KINDS["case"]:
        world.documents.issue(SYSTEM_CALLER, "", f"case/{case_id}", kind)
        pdf = renderer(world.rendered[-1])
        assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF"), kind
        assert renderer.last_refused == [], kind


@pytest.mark.parametrize("kind", SUBJECT_KINDS["inspection"])
def test_inspection_templates_escape_the_entity_and_the_inspectors_notes(kind):
    renderer = PdfRenderer()
    content = DocumentContent(
        kind=kind, title=TITLES[kind], number=SETTINGS.number(kind, 2026, 1), authority=SETTINGS.authority,
        authority_address=SETTINGS.authority_address, issued_on=dt.date(2026, 11, 2), subject="inspection/i1",
        party_name=HOSTILE, party_uscc="", party_address=HOSTILE, office_name="MH01所",
        officers=(Person(HOSTILE, "SH001"),), location=HOSTILE, summary=HOSTILE, outcome="发现问题，责令限期改正",
        findings=(FindingLine("CAT-07", "餐具消毒", "《食品安全法》", "不符合", HOSTILE),),
        rectification_due=dt.date(2026, 11, 12), started_at="2026年11月2日 10时00分")
    html = renderer.html(content)
    assert "<img" not in html and "<script" not in html
    assert html.count("&lt;img src=&#34;file:///etc/passwd&#34;&gt;") >= 4
    assert renderer(content).startswith(b"%PDF") and renderer.last_refused == []
