"""The party's signature on the inspection record (SignDocument) through a real gRPC server
(AUTH_MODE=jwt), on SQLite and PostgreSQL: the signed copy keeps the record's number, its PDF (read
back with pdftotext) carries the signer's name and time, its hash and the signature's are in the
inspection's trail, which still verifies; one signing per record; a request id repeated; every
malformed signature and another office's officer refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import subprocess

import grpc
import pytest
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from services.mobile_enforcement.models import AuditRecord, Document
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement.support import (
    INVALID,
    NOT_FOUND,
    PRECONDITION,
    Client,
    bearer,
    date,
    expect_error,
    uscc,
)

MH01 = bearer("mh01-officer", ("officer",), "MH01")
MH02 = bearer("mh02-officer", ("officer",), "MH02")
DENIED, EXISTS = grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.ALREADY_EXISTS
SIGNER = "张小杨"


def signature_png(width: int = 320, height: int = 120) -> bytes:
    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(10, 90), (80, 20), (150, 100), (300, 30)], fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


PNG = signature_png()


@pytest.fixture
def client(field_service: Client) -> Client:
    return field_service


def record_of(client: Client) -> tuple[pb.Inspection, pb.Document]:
    """An inspection started, every item answered, and its record issued."""
    started = client.started(uscc(1))
    client.answer_all(started)
    document = client.documents.IssueDocument(pb.IssueDocumentRequest(
        subject=f"inspection/{started.id}", kind=pb.DOCUMENT_KIND_INSPECTION_RECORD))
    return started, document


def sign(client: Client, document_id: str, request_id: str = "", signer: str = SIGNER, png: bytes = PNG,
         signed_at: dt.datetime | None = None, metadata=MH01, unset_time: bool = False) -> pb.Document:
    request = pb.SignDocumentRequest(request_id=request_id, document_id=document_id, signer_name=signer,
                                     signature_png=png)
    if not unset_time:
        request.sign_time.FromDatetime(signed_at or client.clock.now())
    return client.documents.SignDocument(request, metadata=metadata)


def pdf_text(client: Client, document: pb.Document) -> str:
    content = client.documents.GetDocumentContent(pb.GetDocumentContentRequest(id=document.id))
    assert content.content.startswith(b"%PDF") and hashlib.sha256(content.content).hexdigest() == document.sha256
    text = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], input=content.content,
                          capture_output=True, check=True).stdout.decode("utf-8")
    return re.sub(r"\s+", "", text)


def images_in(client: Client, document: pb.Document) -> int:
    """How many images the PDF holds (pdfimages): the signature is drawn in, not fetched from anywhere."""
    content = client.documents.GetDocumentContent(pb.GetDocumentContentRequest(id=document.id)).content
    listing = subprocess.run(["pdfimages", "-list", "-"], input=content, capture_output=True, check=True)
    return len(listing.stdout.decode().splitlines()) - 2


def trail(client: Client, subject: str) -> list[dict]:
    with client.running.store.read() as session:
        return [json.loads(row) for row in session.scalars(select(AuditRecord.record).where(
            AuditRecord.chain_key == subject).order_by(AuditRecord.sequence))]


def document_count(client: Client) -> int:
    with client.running.store.read() as session:
        return session.scalar(select(func.count()).select_from(Document))


def test_the_signed_record_keeps_the_number_and_shows_the_signature(client):
    _, original = record_of(client)
    client.clock.advance(minutes=20)
    signed_at = client.clock.now() - dt.timedelta(minutes=1)
    copy = sign(client, original.id, "sign-1", signed_at=signed_at)
    assert (copy.signed_copy_of, copy.signer_name, copy.signature_sha256, copy.sign_time.ToDatetime(tzinfo=dt.UTC)) == (
        original.id, SIGNER, hashlib.sha256(PNG).hexdigest(), signed_at)
    assert (copy.number, copy.year, copy.sequence, copy.subject, copy.kind) == (
        original.number, original.year, original.sequence, original.subject, original.kind)
    assert copy.id != original.id and copy.sha256 != original.sha256
    text = pdf_text(client, copy)
    assert f"签名人：{SIGNER}" in text and original.number in text and "签名时间：2026年11月2日10时19分" in text
    assert SIGNER not in pdf_text(client, original)  # the original is unchanged
    assert images_in(client, copy) > 0 and images_in(client, original) == 0
    [record] = [r for r in trail(client, original.subject) if r["action"] == "document signed"]
    assert (record["document_id"], record["sha256"], record["signature_sha256"], record["signed_copy_of"]) == (
        copy.id, copy.sha256, copy.signature_sha256, original.id)
    assert client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=original.subject)).intact
    # Issuing the record again still answers the original, not the copy.
    again = client.documents.IssueDocument(pb.IssueDocumentRequest(subject=original.subject,
                                                                   kind=pb.DOCUMENT_KIND_INSPECTION_RECORD))
    assert again == original

    # A repeat with the request id returns the copy; with another payload it is refused; a second signing too.
    count, length = document_count(client), len(trail(client, original.subject))
    assert sign(client, original.id, "sign-1", signed_at=signed_at) == copy
    expect_error(lambda: sign(client, original.id, "sign-1", signer="李四", signed_at=signed_at), EXISTS)
    found = expect_error(lambda: sign(client, original.id, "sign-2"), PRECONDITION)
    assert not found
    expect_error(lambda: sign(client, copy.id, "sign-3"), PRECONDITION)  # a copy is not signed again
    assert (document_count(client), len(trail(client, original.subject))) == (count, length)


def test_only_an_inspection_record_as_issued_is_signed(client):
    started, original = record_of(client)
    due = client.clock.today + dt.timedelta(days=10)
    failing = pb.Finding(item_code="CAT-07", result=pb.ITEM_RESULT_FAIL, note="消毒柜未通电")
    client.inspections.RecordFindings(pb.RecordFindingsRequest(id=started.id, findings=[failing]))
    # The inspection changed after the record was issued: the party would sign what it no longer says.
    with pytest.raises(grpc.RpcError) as info:
        sign(client, original.id)
    assert info.value.code() == PRECONDITION and "changed since record" in info.value.details()
    done = client.inspections.CompleteInspection(pb.CompleteInspectionRequest(id=started.id,
                                                                              rectification_due=date(due)))
    order = client.documents.IssueDocument(pb.IssueDocumentRequest(subject=f"inspection/{done.id}",
                                                                   kind=pb.DOCUMENT_KIND_RECTIFICATION_ORDER))
    expect_error(lambda: sign(client, order.id), PRECONDITION)
    expect_error(lambda: sign(client, "no-such-document"), NOT_FOUND)


def test_malformed_signatures_and_another_office_are_refused_and_change_nothing(client):
    _, original = record_of(client)
    count = document_count(client)
    now = client.clock.now()
    big = PNG + b"\x00" * (256 * 1024)
    jpeg = io.BytesIO()
    Image.new("RGB", (20, 20)).save(jpeg, "JPEG")
    cases = {
        "signer_name": [dict(signer=""), dict(signer="  "), dict(signer="张" * 51)],
        "signature_png": [dict(png=b""), dict(png=big), dict(png=jpeg.getvalue()), dict(png=PNG[:40]),
                          dict(png=b"\x89PNG\r\n\x1a\n" + b"not a png at all")],
        "sign_time": [dict(unset_time=True), dict(signed_at=now + dt.timedelta(minutes=6)),
                      dict(signed_at=now - dt.timedelta(minutes=1))],  # before the record was issued
        "request_id": [dict(request_id="x" * 129)],
    }
    for field, changes in cases.items():
        for change in changes:
            found = expect_error(lambda change=change: sign(client, original.id, **change), INVALID)
            assert field in found, (change, found)
    assert "document_id" in expect_error(lambda: sign(client, ""), INVALID)
    expect_error(lambda: sign(client, original.id, metadata=MH02), DENIED)
    assert document_count(client) == count
    assert not [r for r in trail(client, original.subject) if r["action"] == "document signed"]
