"""Enforcement documents (执法文书) downloaded through the gateway's HTTP API (AUTH_MODE=jwt): real
command_center and mobile_enforcement gRPC servers and the gateway's real HTTP server. The caller's
token goes on to mobile_enforcement: its own office and district-wide roles get the PDF (the bytes
mobile_enforcement stored, checked by their hash and read back with pdftotext); another office's
officer is refused (403), so is a caller without a valid token (401), each in Chinese."""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import subprocess
import urllib.parse

import pytest
from google.type import latlng_pb2

from services.common.auth import issue_service_token, issue_token
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc
from tests.api.gateway.support import District
from tests.conftest import make_settings

SECRET = "gateway-documents-test-secret-32-bytes"
LEADER = issue_token(SECRET, subject="leader", roles=["bureau_leader"])
AUDITOR = issue_token(SECRET, subject="auditor", roles=["auditor"])
OFFICER_MH01 = issue_token(SECRET, subject="officer-mh01", roles=["officer"], office_id="MH01")
OFFICER_MH02 = issue_token(SECRET, subject="officer-mh02", roles=["officer"], office_id="MH02")
# Citizens hold no token of the services; one made up with a role of its own is refused as any other.
CITIZEN = issue_token(SECRET, subject="citizen", roles=["citizen"])
SYSTEM = [("authorization", f"Bearer {issue_service_token(SECRET, subject='test')}")]
CHINESE = re.compile(r"[\u4e00-\u9fff]")
USCC = "91310112MA1000001R"


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    """Three offices; at MH01 an entity whose inspection was started and its record issued."""
    base = tmp_path_factory.mktemp("documents")
    running = District(base, f"sqlite:///{base / 'gateway.db'}", make_settings(AUTH_MODE="jwt", JWT_SECRET=SECRET),
                       services=("command_center", "mobile_enforcement"))
    running.add_offices(metadata=SYSTEM)
    channel = running.sources["mobile_enforcement"].channel
    entities, inspections = pb_grpc.EntityServiceStub(channel), pb_grpc.InspectionServiceStub(channel)
    running.documents = pb_grpc.DocumentServiceStub(channel)
    entities.RegisterEntity(pb.RegisterEntityRequest(entity=pb.Entity(
        uscc=USCC, name="小杨生煎（莘庄店）", category=pb.ENTITY_CATEGORY_CATERING, address="莘松路1号",
        street="莘庄镇", risk_level=pb.RISK_LEVEL_LOW)), metadata=SYSTEM)
    inspection = inspections.ScheduleInspection(pb.ScheduleInspectionRequest(inspection=pb.Inspection(
        entity_id=USCC, kind=pb.INSPECTION_KIND_ROUTINE)), metadata=SYSTEM)
    inspections.StartInspection(pb.StartInspectionRequest(
        id=inspection.id, officer_ids=["MH01-01", "MH01-02"], location=pb.Location(
            point=latlng_pb2.LatLng(latitude=31.11, longitude=121.38), address="莘庄镇莘松路1号")), metadata=SYSTEM)
    running.document = running.documents.IssueDocument(pb.IssueDocumentRequest(
        subject=f"inspection/{inspection.id}", kind=pb.DOCUMENT_KIND_INSPECTION_RECORD), metadata=SYSTEM)
    yield running
    running.close()


def download(district, path: str, token: str = "") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", district.port, timeout=30)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        reply = connection.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        connection.close()


@pytest.mark.parametrize("token", [LEADER, AUDITOR, OFFICER_MH01])
def test_the_office_and_district_wide_roles_download_the_stored_pdf(district, token):
    document = district.document
    status, headers, body = download(district, f"/api/v1/documents/{document.id}", token)
    assert status == 200, body[:300]
    assert headers["content-type"] == "application/pdf" and body.startswith(b"%PDF")
    assert hashlib.sha256(body).hexdigest() == document.sha256 == headers["x-document-sha256"]
    assert len(body) == document.size_bytes
    assert urllib.parse.quote(f"{document.number}.pdf") in headers["content-disposition"]
    assert headers["cache-control"] == "no-store"
    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", "-layout", "-", "-"], input=body, capture_output=True,
                                             check=True).stdout.decode("utf-8"))
    for expected in ("现场检查笔录", document.number, "小杨生煎（莘庄店）", USCC, "莘庄镇莘松路1号"):
        assert expected in text, expected


def test_another_office_s_officer_is_refused_in_chinese(district):
    status, _, body = download(district, f"/api/v1/documents/{district.document.id}", OFFICER_MH02)
    assert status == 403, body[:300]
    message = json.loads(body)["error"]["message"]
    assert CHINESE.search(message) and "执法文书" in message
    assert b"%PDF" not in body


@pytest.mark.parametrize("token", ["", CITIZEN, "garbage"])
def test_a_caller_without_a_valid_token_is_refused_in_chinese(district, token):
    status, _, body = download(district, f"/api/v1/documents/{district.document.id}", token)
    assert status == 401, body[:300]
    assert "请先登录" in json.loads(body)["error"]["message"]


@pytest.mark.parametrize("document_id", ["00000000-0000-0000-0000-000000000000", "x" * 65])
def test_an_unknown_document_is_a_404_in_chinese_and_english(district, document_id):
    status, _, body = download(district, f"/api/v1/documents/{document_id}", LEADER)
    assert status == 404, body[:300]
    message = json.loads(body)["error"]["message"]
    assert "没有这份执法文书" in message and "no such document" in message


def test_the_route_is_in_the_api_document(district):
    spec = district.get("/api/v1/openapi.json").body
    operation = spec["paths"]["/api/v1/documents/{document_id}"]["get"]
    assert operation["operationId"] == "getDocument"
    assert set(operation["responses"]) == {"200", "401", "403", "404", "503"}
    assert "application/pdf" in operation["responses"]["200"]["content"]
