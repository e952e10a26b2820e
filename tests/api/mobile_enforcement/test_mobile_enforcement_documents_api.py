"""Enforcement documents (执法文书) through a real gRPC server (AUTH_MODE=jwt), on SQLite and
PostgreSQL: every kind issued at its step of an inspection and of a case that walks the whole
procedure, each PDF read back with pdftotext (party, facts, legal basis, penalties, dates, number),
its SHA-256 in the subject's trail (which still verifies), one number per subject and kind,
sequential per kind and year; another office's officer refused; malformed requests refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
from collections.abc import Iterator

import grpc
import pytest
from sqlalchemy import select

from services.common.auth import issue_token
from services.mobile_enforcement.models import AuditRecord, Document, DocumentCounter
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc
from tests.api.mobile_enforcement.support import (
    FACTS,
    INVALID,
    LEGAL_BASIS,
    NOT_FOUND,
    OFFICES,
    PRECONDITION,
    TODAY,
    Client,
    InstantClock,
    connect,
    date,
    expect_error,
    filed_case,
    host_mobile_enforcement,
    notified,
    penalty,
    sanction,
    uscc,
)

SECRET = "documents-api-test-secret-32-bytes!!"
LEADER = (("authorization", f"Bearer {issue_token(SECRET, subject='leader', roles=['bureau_leader'])}"),)
MH02 = (("authorization", f"Bearer {issue_token(SECRET, subject='mh02', roles=['officer'], office_id='MH02')}"),)
MH01 = (("authorization", f"Bearer {issue_token(SECRET, subject='mh01', roles=['officer'], office_id='MH01')}"),)
DENIED = grpc.StatusCode.PERMISSION_DENIED
HOSTILE = '<img src="file:///etc/passwd">'
HEARING_ROOM = "闵行区市场监督管理局第一听证室"
# An individual fined 20,000 yuan: legal review, and a hearing on request (not a collective discussion).
PROPOSED = penalty(sanction(pb.PENALTY_KIND_WARNING), sanction(pb.PENALTY_KIND_FINE, 20_000),
                   party=pb.PARTY_KIND_INDIVIDUAL)


class AsLeader(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Calls without metadata go as the bureau leader, so the shared helpers work under AUTH_MODE=jwt."""

    def _with_token(self, details):
        if details.metadata:
            return details
        return details._replace(metadata=list(LEADER))

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)


@pytest.fixture
def client(store_url: str, tmp_path) -> Iterator[Client]:
    """The service with AUTH_MODE=jwt, two offices, five certified officers at MH01 and one at MH02."""
    running = host_mobile_enforcement(store_url, InstantClock(), AUTH_MODE="jwt", JWT_SECRET=SECRET)
    running.channel = grpc.intercept_channel(running.channel, AsLeader())
    client = connect(running, tmp_path)
    try:
        for office_id, street in OFFICES.items():
            client.office(office_id, [street])
        for number in range(1, 6):
            client.officer(f"MH01-{number:03d}")
        client.officer("MH02-001", "MH02")
        client.documents = pb_grpc.DocumentServiceStub(running.channel)
        client.entity(1)
        yield client
    finally:
        client.close()


def issue(client: Client, subject: str, kind: int, request_id: str = "", metadata=None) -> pb.Document:
    return client.documents.IssueDocument(pb.IssueDocumentRequest(request_id=request_id, subject=subject, kind=kind),
                                          metadata=metadata)


def pdf_text(client: Client, document: pb.Document) -> str:
    """The document's PDF as pdftotext reads it, whitespace removed (lines wrap anywhere in Chinese)."""
    content = client.documents.GetDocumentContent(pb.GetDocumentContentRequest(id=document.id))
    assert content.content_type == "application/pdf" and content.content.startswith(b"%PDF")
    assert content.document == document
    assert hashlib.sha256(content.content).hexdigest() == document.sha256
    assert len(content.content) == document.size_bytes
    text = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=content.content,
                          capture_output=True, check=True).stdout.decode("utf-8")
    return re.sub(r"\s+", "", text)


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def trail(client: Client, subject: str) -> list[dict]:
    with client.running.store.read() as session:
        return [json.loads(row.record) for row in session.scalars(
            select(AuditRecord).where(AuditRecord.chain_key == subject).order_by(AuditRecord.sequence))]


def verified(client: Client, subject: str) -> pb.AuditTrailVerification:
    return client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=subject))


def assert_in_trail(client: Client, document: pb.Document) -> None:
    records = [r for r in trail(client, document.subject) if r["action"] == "document issued"]
    mine = [r for r in records if r["document_id"] == document.id]
    assert len(mine) == 1 and (mine[0]["sha256"], mine[0]["number"]) == (document.sha256, document.number)
    assert verified(client, document.subject).intact


def on(client: Client, day: dt.date, hour: int = 10) -> None:
    client.clock.instant = dt.datetime(day.year, day.month, day.day, hour - 8, tzinfo=dt.UTC)


def test_every_kind_is_issued_at_its_step_and_reads_back_from_the_pdf(client):
    # The inspection: its record once started, the order once it ordered rectification.
    started = client.started(uscc(1))
    subject = f"inspection/{started.id}"
    expect_error(lambda: issue(client, subject, pb.DOCUMENT_KIND_RECTIFICATION_ORDER), PRECONDITION)
    record = issue(client, subject, pb.DOCUMENT_KIND_INSPECTION_RECORD)
    assert (record.number, record.year, record.sequence, record.office_id, record.subject) == (
        "闵市监检字〔2026〕第1号", 2026, 1, "MH01", subject)
    assert record.issued_by == "leader" and record.content_type == "application/pdf"
    text = pdf_text(client, record)
    for expected in ("现场检查笔录", "闵市监检字〔2026〕第1号", "小杨生煎（1店）", uscc(1), "莘庄镇莘松路1号",
                     "2026年11月2日10时00分", "SH001", "SH002", "检查进行中"):
        assert expected in text, expected
    assert_in_trail(client, record)
    client.answer_all(started, {"CAT-07": ("消毒柜未通电", ["evidence/1.jpg"])})
    client.inspections.CompleteInspection(pb.CompleteInspectionRequest(
        id=started.id, summary="消毒设施未正常运转", rectification_due=date(TODAY + dt.timedelta(days=10))))
    order = issue(client, subject, pb.DOCUMENT_KIND_RECTIFICATION_ORDER)
    text = pdf_text(client, order)
    for expected in ("责令改正通知书", "闵市监责改字〔2026〕第1号", "小杨生煎（1店）", "消毒柜未通电",
                     "餐具、饮具和盛放直接入口食品", "2026年11月12日前改正"):
        assert expected in text, expected
    assert_in_trail(client, order)

    # The case: filing, notice, hearing notice, decision and delivery receipt, each at its step.
    case = filed_case(client, uscc(1), "documents")
    subject = f"case/{case.id}"
    for kind in (pb.DOCUMENT_KIND_PENALTY_NOTICE, pb.DOCUMENT_KIND_HEARING_NOTICE,
                 pb.DOCUMENT_KIND_PENALTY_DECISION, pb.DOCUMENT_KIND_DELIVERY_RECEIPT):
        expect_error(lambda kind=kind: issue(client, subject, kind), PRECONDITION)
    filing = issue(client, subject, pb.DOCUMENT_KIND_FILING_APPROVAL)
    text = pdf_text(client, filing)
    for expected in ("立案审批表", "闵市监立字〔2026〕第1号", "涉嫌销售过期食品", "立案日期2026年11月2日",
                     "2027年1月31日前作出处理决定", "SH001"):
        assert expected in text, expected

    notice_case = notified(client, case.id, PROPOSED, reviewer="MH01-004", waive=False)
    assert notice_case.hearing_eligible and notice_case.statement_due == date(dt.date(2026, 11, 9))
    notice = issue(client, subject, pb.DOCUMENT_KIND_PENALTY_NOTICE)
    text = pdf_text(client, notice)
    # Open to a hearing: the notice is the 行政处罚听证告知书.
    for expected in ("行政处罚听证告知书", "闵市监罚告字〔2026〕第1号", flat(FACTS), flat(LEGAL_BASIS), "警告",
                     "罚款人民币20,000.00元", "请于2026年11月9日前向本局提出", "有权要求举行听证",
                     # Hearing requests are due five working days after the notice too.
                     "如要求听证，请于2026年11月9日前"):
        assert expected in text, expected

    client.cases.RequestHearing(pb.RequestHearingRequest(id=case.id))
    expect_error(lambda: issue(client, subject, pb.DOCUMENT_KIND_HEARING_NOTICE), PRECONDITION)
    when = dt.datetime(2026, 11, 12, 1, 30, tzinfo=dt.UTC)
    schedule = pb.ScheduleHearingRequest(id=case.id, host_id="MH01-005", place=HEARING_ROOM)
    schedule.hearing_time.FromDatetime(when)
    client.cases.ScheduleHearing(schedule)
    hearing_notice = issue(client, subject, pb.DOCUMENT_KIND_HEARING_NOTICE)
    text = pdf_text(client, hearing_notice)
    for expected in ("听证通知书", "2026年11月12日09时30分", HEARING_ROOM, "SH005", "申请回避"):
        assert expected in text, expected

    on(client, dt.date(2026, 11, 12), 15)
    client.cases.RecordHearing(pb.RecordHearingRequest(id=case.id, record="当事人对事实无异议"))
    client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=PROPOSED))
    decision = issue(client, subject, pb.DOCUMENT_KIND_PENALTY_DECISION)
    text = pdf_text(client, decision)
    for expected in ("行政处罚决定书", "闵市监案处字〔2026〕第1号", "小杨生煎（1店）", flat(FACTS), flat(LEGAL_BASIS),
                     "警告", "罚款人民币20,000.00元", "2026年11月2日告知", "2026年11月12日依法举行了听证",
                     # The rule set's payment term and surcharge, the configuration's rights.
                     "15日内", "每日按罚款数额的3%加处罚款", "60日内向上海市闵行区人民政府申请行政复议", "6个月内",
                     "2026年11月12日"):
        assert expected in text, expected

    on(client, dt.date(2026, 11, 13))
    client.cases.RecordDelivery(pb.RecordDeliveryRequest(id=case.id, method=pb.DELIVERY_METHOD_MAIL))
    receipt = issue(client, subject, pb.DOCUMENT_KIND_DELIVERY_RECEIPT)
    text = pdf_text(client, receipt)
    for expected in ("送达回证", "闵市监送字〔2026〕第1号", "《行政处罚决定书》闵市监案处字〔2026〕第1号", "邮寄送达",
                     "2026年11月13日", "小杨生煎（1店）"):
        assert expected in text, expected

    for document in (filing, notice, hearing_notice, decision, receipt):
        assert_in_trail(client, document)
    listed = client.documents.ListDocuments(pb.ListDocumentsRequest(filter=f'subject = "{subject}"'))
    assert [d.kind for d in sorted(listed.documents, key=lambda d: d.kind)] == [
        pb.DOCUMENT_KIND_FILING_APPROVAL, pb.DOCUMENT_KIND_PENALTY_NOTICE, pb.DOCUMENT_KIND_HEARING_NOTICE,
        pb.DOCUMENT_KIND_PENALTY_DECISION, pb.DOCUMENT_KIND_DELIVERY_RECEIPT]
    kinds = client.documents.ListDocuments(pb.ListDocumentsRequest(filter='kind = "PENALTY_DECISION"')).documents
    assert [d.id for d in kinds] == [decision.id]


def test_one_number_per_subject_and_kind_sequential_per_kind_and_year(client):
    first = filed_case(client, uscc(1), "first")
    second = filed_case(client, uscc(1), "second")
    issued = issue(client, f"case/{first.id}", pb.DOCUMENT_KIND_FILING_APPROVAL, "r1")
    again = issue(client, f"case/{first.id}", pb.DOCUMENT_KIND_FILING_APPROVAL, "r2")
    retried = issue(client, f"case/{first.id}", pb.DOCUMENT_KIND_FILING_APPROVAL, "r1")
    assert again == issued == retried
    following = issue(client, f"case/{second.id}", pb.DOCUMENT_KIND_FILING_APPROVAL)
    assert (issued.sequence, following.sequence) == (1, 2)
    assert following.number == "闵市监立字〔2026〕第2号"
    # Another kind counts on its own.
    inspection = client.started(uscc(1))
    assert issue(client, f"inspection/{inspection.id}", pb.DOCUMENT_KIND_INSPECTION_RECORD).sequence == 1
    # The year is Shanghai's: 00:30 on 1 January 2027 there is still 2026 in UTC.
    client.clock.instant = dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)
    third = filed_case(client, uscc(1), "third")
    new_year = issue(client, f"case/{third.id}", pb.DOCUMENT_KIND_FILING_APPROVAL)
    assert (new_year.year, new_year.sequence, new_year.number) == (2027, 1, "闵市监立字〔2027〕第1号")
    with client.running.store.read() as session:
        assert session.get(DocumentCounter, ("FILING_APPROVAL", 2026)).last == 2
        assert len(list(session.scalars(select(Document)))) == 4
    # One record per issue in the trail: the repeats wrote nothing.
    assert len([r for r in trail(client, f"case/{first.id}") if r["action"] == "document issued"]) == 1


def test_a_party_s_markup_is_printed_as_text_and_nothing_is_fetched(client):
    lead = client.cases.OpenLead(pb.OpenLeadRequest(lead=pb.Case(
        office_id="MH01", source=pb.LEAD_SOURCE_REFERRAL, description=f"举报材料 {HOSTILE}",
        party=pb.Party(name=f"{HOSTILE}某某商行", address="莘庄镇")), request_id="hostile"))
    client.cases.FileCase(pb.FileCaseRequest(id=lead.id, officer_ids=["MH01-001", "MH01-002"]))
    text = pdf_text(client, issue(client, f"case/{lead.id}", pb.DOCUMENT_KIND_FILING_APPROVAL))
    assert flat(f"{HOSTILE}某某商行") in text and flat(f"举报材料 {HOSTILE}") in text
    assert "root:" not in text


def test_another_office_may_neither_issue_nor_read_a_document(client):
    case = filed_case(client, uscc(1), "scoped")
    subject = f"case/{case.id}"
    expect_error(lambda: issue(client, subject, pb.DOCUMENT_KIND_FILING_APPROVAL, metadata=MH02), DENIED)
    document = issue(client, subject, pb.DOCUMENT_KIND_FILING_APPROVAL, metadata=MH01)
    assert document.issued_by == "mh01"
    for call in (lambda: client.documents.GetDocument(pb.GetDocumentRequest(id=document.id), metadata=MH02),
                 lambda: client.documents.GetDocumentContent(pb.GetDocumentContentRequest(id=document.id),
                                                             metadata=MH02),
                 lambda: client.documents.ListDocuments(pb.ListDocumentsRequest(filter='office_id = "MH01"'),
                                                        metadata=MH02),
                 # A second issue is a write too.
                 lambda: issue(client, subject, pb.DOCUMENT_KIND_FILING_APPROVAL, metadata=MH02)):
        expect_error(call, DENIED)
    assert client.documents.ListDocuments(pb.ListDocumentsRequest(), metadata=MH02).documents == []
    assert client.documents.GetDocument(pb.GetDocumentRequest(id=document.id), metadata=MH01) == document


@pytest.mark.parametrize(("request_", "fields"), [
    (pb.IssueDocumentRequest(kind=pb.DOCUMENT_KIND_FILING_APPROVAL), {"subject"}),
    (pb.IssueDocumentRequest(subject="plan/1", kind=pb.DOCUMENT_KIND_FILING_APPROVAL), {"subject"}),
    (pb.IssueDocumentRequest(subject="case/1"), {"kind"}),
    (pb.IssueDocumentRequest(subject="case/1", kind=99), {"kind"}),
    (pb.IssueDocumentRequest(subject="case/1", kind=pb.DOCUMENT_KIND_INSPECTION_RECORD), {"kind"}),
    (pb.IssueDocumentRequest(subject="inspection/1", kind=pb.DOCUMENT_KIND_PENALTY_DECISION), {"kind"}),
    (pb.IssueDocumentRequest(request_id="x" * 129, subject="case/1", kind=pb.DOCUMENT_KIND_FILING_APPROVAL),
     {"request_id"}),
])
def test_a_malformed_issue_is_invalid_argument(client, request_, fields):
    found = expect_error(lambda: client.documents.IssueDocument(request_), INVALID)
    assert set(found) == fields


def test_unknown_subjects_and_documents_are_not_found_and_lists_refuse_bad_input(client):
    expect_error(lambda: issue(client, "case/nobody", pb.DOCUMENT_KIND_FILING_APPROVAL), NOT_FOUND)
    expect_error(lambda: issue(client, "inspection/nobody", pb.DOCUMENT_KIND_INSPECTION_RECORD), NOT_FOUND)
    for document_id in ("", "nobody"):
        expect_error(lambda i=document_id: client.documents.GetDocument(pb.GetDocumentRequest(id=i)), NOT_FOUND)
        expect_error(lambda i=document_id: client.documents.GetDocumentContent(
            pb.GetDocumentContentRequest(id=i)), NOT_FOUND)
    for request_ in (pb.ListDocumentsRequest(filter='colour = "red"'), pb.ListDocumentsRequest(filter='kind = "X"'),
                     pb.ListDocumentsRequest(filter='subject = "plan/1"'), pb.ListDocumentsRequest(page_size=-1),
                     pb.ListDocumentsRequest(page_token="nonsense")):
        expect_error(lambda r=request_: client.documents.ListDocuments(r), INVALID)


def test_a_request_id_reused_for_another_document_is_refused(client):
    first = filed_case(client, uscc(1), "first")
    second = filed_case(client, uscc(1), "second")
    issue(client, f"case/{first.id}", pb.DOCUMENT_KIND_FILING_APPROVAL, "same")
    expect_error(lambda: issue(client, f"case/{second.id}", pb.DOCUMENT_KIND_FILING_APPROVAL, "same"),
                 grpc.StatusCode.ALREADY_EXISTS)
    assert client.documents.ListDocuments(pb.ListDocumentsRequest()).documents[0].subject == f"case/{first.id}"


def test_listing_pages_through_the_documents(client):
    cases = [filed_case(client, uscc(1), f"page-{n}") for n in range(3)]
    issued = {issue(client, f"case/{c.id}", pb.DOCUMENT_KIND_FILING_APPROVAL).id for c in cases}
    page = client.documents.ListDocuments(pb.ListDocumentsRequest(page_size=2))
    rest = client.documents.ListDocuments(pb.ListDocumentsRequest(page_size=2, page_token=page.next_page_token))
    assert len(page.documents) == 2 and {d.id for d in [*page.documents, *rest.documents]} == issued
    assert rest.next_page_token == ""


def test_concurrent_issues_never_share_a_number_and_a_subject_keeps_one_document(client):
    from concurrent.futures import ThreadPoolExecutor

    cases = [filed_case(client, uscc(1), f"concurrent-{n}") for n in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        # Each case twice at once: six numbers, the second of each pair the first's document.
        issued = list(pool.map(lambda c: issue(client, f"case/{c.id}", pb.DOCUMENT_KIND_FILING_APPROVAL),
                               [c for c in cases for _ in range(2)]))
    by_case: dict[str, set[str]] = {}
    for document in issued:
        by_case.setdefault(document.subject, set()).add(document.number)
    assert all(len(numbers) == 1 for numbers in by_case.values()) and len(by_case) == 6
    assert sorted(d.sequence for d in {d.id: d for d in issued}.values()) == [1, 2, 3, 4, 5, 6]
    for case in cases:
        assert verified(client, f"case/{case.id}").intact
