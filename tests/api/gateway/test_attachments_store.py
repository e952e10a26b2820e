"""The attachment stores against what they really write to: DirectoryStore on the real file system,
S3Store over real HTTP against moto's standalone S3 server (a fake at a boundary we do not own: the
bureau's object store; the same requests go to AWS, MinIO or Ceph). The gateway's HTTP API with the
S3 store is checked too: an upload lands in the bucket once and is read back."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import socket
import urllib.parse

import pytest

from services.common.auth import issue_service_token, issue_token
from services.gateway.attachments.directory import DirectoryStore
from services.gateway.attachments.s3 import S3Store
from tests.api.gateway.support import field_district, schedule_inspection
from tests.conftest import make_settings

BUCKET = "field-attachments"
SECRET = "gateway-attachments-secret-32-bytes!!"
OFFICER = issue_token(SECRET, subject="MH01-01", roles=["officer"], office_id="MH01")
SYSTEM = [("authorization", f"Bearer {issue_service_token(SECRET, subject='test')}")]
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "cn-east-1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 over HTTP on a free port, with the bucket made; boto3 reads the fake credentials."""
    from moto.server import ThreadedMotoServer

    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    S3Store(BUCKET, endpoint_url=endpoint, region="cn-east-1").client.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "cn-east-1"})
    yield endpoint
    server.stop()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def stores(tmp_path, endpoint: str):
    return {"directory": DirectoryStore(tmp_path / "attachments"),
            "s3": S3Store(BUCKET, endpoint_url=endpoint, region="cn-east-1")}


@pytest.mark.parametrize("kind", ["directory", "s3"])
def test_a_file_is_kept_once_by_its_content(tmp_path, s3_endpoint, kind):
    store = stores(tmp_path, s3_endpoint)[kind]
    content = b"\xff\xd8\xff" + os.urandom(5000)
    sha256 = hashlib.sha256(content).hexdigest()
    assert not store.exists("MH01", sha256) and store.get("MH01", sha256) is None
    assert store.put("MH01", sha256, content, "image/jpeg") is True
    assert store.put("MH01", sha256, content, "image/jpeg") is False
    assert store.exists("MH01", sha256)
    assert store.get("MH01", sha256) == (content, "image/jpeg")
    assert store.get("MH02", sha256) is None  # another office's key is another file


@pytest.mark.parametrize("kind", ["directory", "s3"])
@pytest.mark.parametrize(("office_id", "sha256"), [("..", "0" * 64), ("MH01/../MH02", "0" * 64), ("MH01", "../x"),
                                                   ("MH01", "A" * 64), ("", "0" * 64)])
def test_no_key_leaves_its_office(tmp_path, s3_endpoint, kind, office_id, sha256):
    store = stores(tmp_path, s3_endpoint)[kind]
    with pytest.raises(ValueError):
        store.put(office_id, sha256, b"x", "image/png")


def test_the_directory_store_writes_whole_files_only(tmp_path):
    store = DirectoryStore(tmp_path / "attachments")
    content = os.urandom(100_000)
    sha256 = hashlib.sha256(content).hexdigest()
    store.put("MH01", sha256, content, "application/pdf")
    folder = tmp_path / "attachments" / "MH01"
    assert sorted(p.name for p in folder.iterdir()) == [sha256, f"{sha256}.type"]  # no temporary file left
    assert (folder / sha256).read_bytes() == content


def test_an_upload_through_the_gateway_lands_in_the_bucket(tmp_path, s3_endpoint):
    district = field_district(tmp_path, make_settings(AUTH_MODE="jwt", JWT_SECRET=SECRET), SYSTEM, gateway_env={
        "ATTACHMENT_STORE": "s3", "ATTACHMENT_S3_BUCKET": BUCKET, "ATTACHMENT_S3_ENDPOINT": s3_endpoint,
        "ATTACHMENT_S3_REGION": "cn-east-1"})
    try:
        inspection_id = schedule_inspection(district, SYSTEM)
        assert district.request("POST", f"/api/v1/field/inspections/{inspection_id}/start", {
            "request_id": "s3-start", "officer_ids": ["MH01-01", "MH01-02"],
            "location": {"latitude": 31.1, "longitude": 121.4}}, token=OFFICER).status == 200
        photo = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)
        sha256 = hashlib.sha256(photo).hexdigest()
        query = urllib.parse.urlencode({"request_id": "s3-photo", "sha256": sha256,
                                        "capture_time": dt.datetime.now(dt.UTC).isoformat()})
        path = f"/api/v1/field/inspections/{inspection_id}/evidence?{query}"
        for _ in range(2):
            reply = district.request("POST", path, token=OFFICER, raw=photo, headers={"Content-Type": "image/png"})
            assert reply.status == 200, reply.body
        bucket = S3Store(BUCKET, endpoint_url=s3_endpoint, region="cn-east-1").client
        keys = [o["Key"] for o in bucket.list_objects_v2(Bucket=BUCKET, Prefix="MH01/").get("Contents", [])]
        assert keys.count(f"MH01/{sha256}") == 1
        back = district.get(f"/api/v1/field/attachments/MH01/{sha256}", token=OFFICER)
        assert back.status == 200 and back.headers["content-type"] == "image/png"
    finally:
        district.close()


def test_a_store_that_fails_is_unavailable_never_an_internal_error(tmp_path, s3_endpoint):
    """A bucket that is not there, an object store nobody answers at and a directory that cannot be
    written are the store being unavailable (503 with Retry-After: the app keeps the upload queued)."""
    from services.gateway.attachments import StoreUnavailable

    content = b"\xff\xd8\xff" + b"photo" * 10
    sha256 = hashlib.sha256(content).hexdigest()
    missing_bucket = S3Store("no-such-bucket", endpoint_url=s3_endpoint, region="cn-east-1")
    nobody = S3Store(BUCKET, endpoint_url=f"http://127.0.0.1:{free_port()}", region="cn-east-1")
    for store in (missing_bucket, nobody):
        with pytest.raises(StoreUnavailable, match="附件存储暂时不可用"):
            store.put("MH01", sha256, content, "image/jpeg")
        with pytest.raises(StoreUnavailable):
            store.get("MH01", sha256)
    (tmp_path / "attachments").write_text("a file where the directory should be")
    with pytest.raises(StoreUnavailable):
        DirectoryStore(tmp_path / "attachments").put("MH01", sha256, content, "image/jpeg")
