"""RecordFindings on SQLite and PostgreSQL, as its answer and its rows are built: the answer is the
inspection a read shows right after (findings new and corrected, in item order, evidence attached),
the trail record is byte for byte the one the service's trail writer makes and still verifies, and a
refused call changes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from services.common import hash_chain
from services.mobile_enforcement.domain.workspace import utc_text
from services.mobile_enforcement.models import AuditRecord, Finding
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement.support import (
    INVALID,
    Client,
    bearer,
    expect_error,
    location,
    uscc,
)

OFFICER = bearer("mh01-officer", ("officer",), "MH01")
PHOTO_SHA = hashlib.sha256(b"photo of the cold store").hexdigest()


@pytest.fixture
def client(field_service: Client) -> Client:
    return field_service


def started(client: Client) -> pb.Inspection:
    planned = client.routine(uscc(1))
    return client.inspections.StartInspection(pb.StartInspectionRequest(
        id=planned.id, officer_ids=["MH01-001", "MH01-002"], location=location()), metadata=OFFICER)


def record(client: Client, inspection_id: str, *given: pb.Finding) -> pb.Inspection:
    return client.inspections.RecordFindings(pb.RecordFindingsRequest(id=inspection_id, findings=list(given)),
                                             metadata=OFFICER)


def read(client: Client, inspection_id: str) -> pb.Inspection:
    return client.inspections.GetInspection(pb.GetInspectionRequest(id=inspection_id), metadata=OFFICER)


def trail(client: Client, inspection_id: str) -> list[AuditRecord]:
    with client.running.store.read() as session:
        return list(session.scalars(select(AuditRecord).where(AuditRecord.chain_key == f"inspection/{inspection_id}")
                                    .order_by(AuditRecord.sequence)))


def attach_photo(client: Client, inspection_id: str) -> pb.Inspection:
    photo = pb.Evidence(kind=pb.EVIDENCE_KIND_PHOTO, sha256=PHOTO_SHA, content_type="image/jpeg", size_bytes=90_000,
                        item_code="CAT-05")
    photo.capture_time.FromDatetime(client.clock.now() - dt.timedelta(minutes=1))
    return client.inspections.AttachEvidence(pb.AttachEvidenceRequest(inspection_id=inspection_id, evidence=photo),
                                             metadata=OFFICER)


def test_the_answer_is_the_inspection_a_read_shows_right_after(client):
    inspection = started(client)
    attach_photo(client, inspection.id)
    versions = [inspection.version]
    calls = [
        # New items, given out of order, a note and references to trim.
        [pb.Finding(item_code="CAT-10", result=pb.ITEM_RESULT_PASS),
         pb.Finding(item_code=" CAT-02 ", result=pb.ITEM_RESULT_FAIL, note=" 健康证过期 ",
                    evidence_refs=[" paper/1 "])],
        # A correction alone.
        [pb.Finding(item_code="CAT-10", result=pb.ITEM_RESULT_NOT_APPLICABLE, note="无此项")],
        # New items and a correction together, one of them citing the attached photo.
        [pb.Finding(item_code="CAT-05", result=pb.ITEM_RESULT_FAIL, note="原料过期",
                    evidence_refs=[f"evidence:{PHOTO_SHA}", "paper/2"]),
         pb.Finding(item_code="CAT-02", result=pb.ITEM_RESULT_PASS),
         pb.Finding(item_code="CAT-01", result=pb.ITEM_RESULT_PASS)],
    ]
    for given in calls:
        client.clock.advance(minutes=7)
        answered = record(client, inspection.id, *given)
        assert answered == read(client, inspection.id)
        versions.append(answered.version)
    assert versions == list(range(versions[0], versions[0] + len(calls) + 1))
    assert [f.item_code for f in answered.findings] == ["CAT-01", "CAT-02", "CAT-05", "CAT-10"]
    first = next(f for f in answered.findings if f.item_code == "CAT-10")
    assert (first.result, first.note, first.recorded_by) == (pb.ITEM_RESULT_NOT_APPLICABLE, "无此项", "mh01-officer")
    # Rows left alone keep the instant they were recorded at; the rows written carry this call's.
    assert first.record_time.ToDatetime(tzinfo=dt.UTC) == client.clock.now() - dt.timedelta(minutes=7)
    assert next(f for f in answered.findings if f.item_code == "CAT-05").record_time.ToDatetime(
        tzinfo=dt.UTC) == client.clock.now()
    assert [e.sha256 for e in answered.evidence] == [PHOTO_SHA]
    assert len(answered.unanswered_items) == 8 and "CAT-05" not in answered.unanswered_items
    with client.running.store.read() as session:
        stored = {f.item_code: (f.result, f.note, f.evidence_refs) for f in session.scalars(
            select(Finding).where(Finding.inspection_id == inspection.id))}
    assert stored == {"CAT-01": ("PASS", "", []), "CAT-02": ("PASS", "", []),
                      "CAT-05": ("FAIL", "原料过期", [f"evidence:{PHOTO_SHA}", "paper/2"]),
                      "CAT-10": ("NOT_APPLICABLE", "无此项", [])}


def test_the_trail_record_is_the_one_the_trail_writer_makes_and_verifies(client):
    inspection = started(client)
    client.clock.advance(minutes=3)
    record(client, inspection.id, pb.Finding(item_code="CAT-03", result=pb.ITEM_RESULT_FAIL, note=" 未戴口罩 ",
                                             evidence_refs=["paper/9"]),
           pb.Finding(item_code="CAT-01", result=pb.ITEM_RESULT_PASS))
    *before, written = trail(client, inspection.id)
    assert written.record == hash_chain.canonical_json({
        "action": "findings recorded", "at": utc_text(client.clock.now()), "by": "mh01-officer",
        "state": "IN_PROGRESS", "findings": [
            {"item": "CAT-03", "result": "FAIL", "note": "未戴口罩", "evidence": ["paper/9"]},
            {"item": "CAT-01", "result": "PASS", "note": "", "evidence": []}]})
    assert (written.sequence, written.previous_hash) == (before[-1].sequence + 1, before[-1].hash)
    assert written.key_id == before[-1].key_id
    verified = client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=f"inspection/{inspection.id}"))
    assert (verified.intact, verified.records_checked) == (True, len(before) + 1)


def test_a_refused_call_changes_nothing(client):
    inspection = started(client)
    record(client, inspection.id, pb.Finding(item_code="CAT-01", result=pb.ITEM_RESULT_PASS))
    before, length = client.counts(), len(trail(client, inspection.id))
    unknown = f"evidence:{hashlib.sha256(b'not attached').hexdigest()}"
    found = expect_error(lambda: record(client, inspection.id, pb.Finding(
        item_code="CAT-02", result=pb.ITEM_RESULT_FAIL, note="x", evidence_refs=[unknown])), INVALID)
    assert "findings[0].evidence_refs[0]" in found
    assert client.counts() == before and len(trail(client, inspection.id)) == length

