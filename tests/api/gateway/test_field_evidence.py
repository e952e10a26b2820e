"""Photos, signatures and the signed 现场检查笔录 through the gateway's real HTTP server, with real
command_center, mobile_enforcement and facilities behind it and the attachment store as a directory
of the real file system (AUTH_MODE=jwt). An upload is checked (type by header and first bytes, size
while read, SHA-256) before anything is kept; a repeated upload is stored once and attached once; a
file is read back by its office's people only."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import struct
import urllib.parse
import zlib

import pytest

from services.common.auth import issue_service_token, issue_token
from tests.api.gateway.support import field_district, schedule_inspection
from tests.conftest import make_settings

SECRET = "gateway-field-evidence-secret-32-bytes"
OFFICER = issue_token(SECRET, subject="MH01-01", roles=["officer"], office_id="MH01")
OTHER_OFFICE = issue_token(SECRET, subject="MH02-01", roles=["officer"], office_id="MH02")
SYSTEM = [("authorization", f"Bearer {issue_service_token(SECRET, subject='test')}")]
CHINESE = re.compile(r"[\u4e00-\u9fff]")
MAX_BYTES = 64 * 1024


def png(width: int = 8, height: int = 4) -> bytes:
    """A real PNG (black pixels), as a signature pad draws one."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def jpeg(size: int = 2000) -> bytes:
    return b"\xff\xd8\xff\xe0" + os.urandom(size)


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    base = tmp_path_factory.mktemp("field-evidence")
    running = field_district(base, make_settings(AUTH_MODE="jwt", JWT_SECRET=SECRET), SYSTEM,
                             gateway_env={"ATTACHMENT_MAX_BYTES": str(MAX_BYTES)})
    running.attachments = base / "attachments"
    yield running
    running.close()


@pytest.fixture
def started(district) -> str:
    """A new inspection of MH01, started by its officer."""
    inspection_id = schedule_inspection(district, SYSTEM)
    reply = district.request("POST", f"/api/v1/field/inspections/{inspection_id}/start", {
        "request_id": f"start-{inspection_id}", "officer_ids": ["MH01-01", "MH01-02"],
        "location": {"latitude": 31.11, "longitude": 121.38, "address": "莘庄镇莘松路1号"}}, token=OFFICER)
    assert reply.status == 200, reply.body
    return inspection_id


def upload(district, inspection_id: str, content: bytes, *, token: str = OFFICER, content_type: str = "image/jpeg",
           **query):
    params = {"request_id": f"photo-{hashlib.sha256(content).hexdigest()[:12]}", "kind": "PHOTO",
              "sha256": hashlib.sha256(content).hexdigest(),
              "capture_time": dt.datetime.now(dt.UTC).isoformat(), "latitude": "31.11", "longitude": "121.38",
              "accuracy": "12.5", **query}
    path = f"/api/v1/field/inspections/{inspection_id}/evidence?{urllib.parse.urlencode(params)}"
    return district.request("POST", path, token=token, raw=content, headers={"Content-Type": content_type})


def stored_files(district) -> list[str]:
    return sorted(str(p.relative_to(district.attachments)) for p in district.attachments.rglob("*")
                  if p.is_file() and not p.name.endswith(".type"))


def test_a_photo_is_stored_under_its_office_and_attached(district, started):
    photo = jpeg()
    reply = upload(district, started, photo)
    assert reply.status == 200, reply.body
    sha256 = hashlib.sha256(photo).hexdigest()
    assert reply.body["evidence"]["ref"] == f"evidence:{sha256}"
    assert reply.body["evidence"]["kind"] == "EVIDENCE_KIND_PHOTO"
    assert reply.body["evidence"]["position"] == {"latitude": 31.11, "longitude": 121.38}
    assert (district.attachments / "MH01" / sha256).read_bytes() == photo
    back = district.get(f"/api/v1/field/attachments/MH01/{sha256}", token=OFFICER)
    assert back.status == 200 and back.headers["content-type"] == "image/jpeg"
    assert back.headers["cache-control"] == "private, no-store"


def test_a_repeated_upload_is_stored_once_and_attached_once(district, started):
    photo, captured = jpeg(), dt.datetime.now(dt.UTC).isoformat()  # the app sends the same request again
    first = upload(district, started, photo, capture_time=captured)
    files = stored_files(district)
    again = upload(district, started, photo, capture_time=captured)
    assert first.status == again.status == 200, again.body
    assert stored_files(district) == files
    sha256 = hashlib.sha256(photo).hexdigest()
    assert [e["sha256"] for e in again.body["inspection"]["evidence"]].count(sha256) == 1


def test_a_cited_photo_is_accepted_in_a_finding(district, started):
    photo = jpeg()
    item = district.get(f"/api/v1/field/inspections/{started}", token=OFFICER).body["unanswered_items"][0]
    assert upload(district, started, photo, item_code=item).status == 200
    cited = {"item_code": item, "result": "FAIL", "note": "积水",
             "evidence_refs": [f"evidence:{hashlib.sha256(photo).hexdigest()}"]}
    reply = district.request("POST", f"/api/v1/field/inspections/{started}/findings",
                             {"request_id": f"cite-{started}", "findings": [cited]}, token=OFFICER)
    assert reply.status == 200, reply.body


@pytest.mark.parametrize(("content", "content_type", "query", "status", "field"), [
    (jpeg(), "image/jpeg", {"sha256": "0" * 64}, 400, "sha256"),
    (jpeg(), "image/jpeg", {"sha256": "not-a-hash"}, 400, "sha256"),
    (jpeg(MAX_BYTES), "image/jpeg", {}, 413, "body"),
    (b"GIF89a" + os.urandom(100), "image/png", {}, 415, "Content-Type"),
    (b"GIF89a" + os.urandom(100), "image/gif", {}, 415, None),
    (jpeg(), "image/jpeg", {"request_id": ""}, 400, "request_id"),
    (jpeg(), "image/jpeg", {"capture_time": "yesterday"}, 400, "capture_time"),
    (jpeg(), "image/jpeg", {"kind": "VIDEO"}, 400, "kind"),
    (jpeg(), "image/jpeg", {"latitude": "95"}, 400, "latitude"),
    (b"", "image/jpeg", {}, 400, "body"),
])
def test_bad_uploads_are_refused_and_nothing_is_kept(district, started, content, content_type, query, status, field):
    before = stored_files(district)
    reply = upload(district, started, content, content_type=content_type, **query)
    assert reply.status == status, reply.body
    assert CHINESE.search(reply.error["message"])
    if field:
        assert field in [d["field"] for d in reply.error.get("details", [])], reply.error
    assert stored_files(district) == before
    evidence = district.get(f"/api/v1/field/inspections/{started}", token=OFFICER).body["evidence"]
    assert evidence == []


def test_another_office_may_neither_upload_nor_read(district, started):
    photo = jpeg()
    before = stored_files(district)
    refused = upload(district, started, photo, token=OTHER_OFFICE)
    assert refused.status == 403 and CHINESE.search(refused.error["message"]), refused.body
    assert stored_files(district) == before
    mine = jpeg()
    assert upload(district, started, mine).status == 200
    sha256 = hashlib.sha256(mine).hexdigest()
    read = district.get(f"/api/v1/field/attachments/MH01/{sha256}", token=OTHER_OFFICE)
    assert read.status == 403 and CHINESE.search(read.error["message"])


@pytest.mark.parametrize("path", ["MH01/" + "0" * 64, "MH01/../etc", "..%2F..%2Fetc/" + "0" * 64, "MH01/ABC"])
def test_an_unknown_attachment_is_a_404(district, path):
    assert district.get(f"/api/v1/field/attachments/{path}", token=OFFICER).status == 404


def test_the_record_is_issued_signed_and_kept_as_evidence(district, started):
    issued = district.request("POST", f"/api/v1/field/inspections/{started}/record", {}, token=OFFICER)
    assert issued.status == 200, issued.body
    document = issued.body["document"]
    assert issued.body["download"] == f"/api/v1/documents/{document['id']}"
    signature = png()
    body = {"request_id": f"sign-{started}", "document_id": document["id"], "signer_name": "杨店长",
            "signature_png_base64": base64.b64encode(signature).decode(),
            "sign_time": dt.datetime.now(dt.UTC).isoformat()}
    signed = district.request("POST", f"/api/v1/field/inspections/{started}/record/sign", body, token=OFFICER)
    assert signed.status == 200, signed.body
    assert signed.body["document"]["signed_copy_of"] == document["id"]
    kinds = [e["kind"] for e in signed.body["inspection"]["evidence"]]
    assert kinds == ["EVIDENCE_KIND_SIGNATURE", "EVIDENCE_KIND_SIGNED_RECORD"]
    record = signed.body["inspection"]["evidence"][1]
    pdf = district.get(f"/api/v1/field/attachments/MH01/{record['sha256']}", token=OFFICER)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    again = district.request("POST", f"/api/v1/field/inspections/{started}/record/sign", body, token=OFFICER)
    assert again.status == 200, again.body
    assert again.body["document"]["id"] == signed.body["document"]["id"]
    assert len(again.body["inspection"]["evidence"]) == 2


@pytest.mark.parametrize(("change", "field"), [
    ({"signature_png_base64": "not base64!"}, "signature_png_base64"),
    ({"signature_png_base64": base64.b64encode(jpeg(100)).decode()}, "signature_png_base64"),
    ({"signer_name": ""}, "signer_name"), ({"sign_time": "2026-12-07 09:00"}, "sign_time"),
    ({"request_id": None}, "request_id")])
def test_a_bad_signature_is_refused(district, started, change, field):
    body = {"request_id": "bad-sign", "document_id": "d", "signer_name": "杨", "signature_png_base64":
            base64.b64encode(png()).decode(), "sign_time": dt.datetime.now(dt.UTC).isoformat(), **change}
    reply = district.request("POST", f"/api/v1/field/inspections/{started}/record/sign", body, token=OFFICER)
    assert reply.status == 400, reply.body
    assert field in [d["field"] for d in reply.error["details"]]
    assert district.get(f"/api/v1/field/inspections/{started}", token=OFFICER).body["evidence"] == []
