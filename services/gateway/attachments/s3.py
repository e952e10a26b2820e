"""Attachments as objects of an S3 bucket (AWS, or any store speaking its API: MinIO, Ceph, OSS...),
under the key "<office_id>/<sha256>" with their content type. A HEAD before the PUT makes a repeated
upload cost no transfer; two uploads at once write the same bytes, so either may win."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from services.gateway.attachments.keys import attachment_key


class S3Store:
    """The attachment store as an S3 bucket; credentials from boto3's usual chain (AWS_ACCESS_KEY_ID...)."""

    def __init__(self, bucket: str, *, endpoint_url: str = "", region: str = "", client: Any = None):
        self.bucket = bucket
        if client is None:
            import boto3  # only S3 deployments load it
            from botocore.config import Config

            client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None,
                                  config=Config(retries={"max_attempts": 3, "mode": "standard"},
                                                connect_timeout=5, read_timeout=30))
        self.client = client

    def exists(self, office_id: str, sha256: str) -> bool:
        """Whether the object is stored (a HEAD request)."""
        from botocore.exceptions import ClientError

        with _unavailable_on_failure():
            try:
                self.client.head_object(Bucket=self.bucket, Key=attachment_key(office_id, sha256))
            except ClientError as error:
                if _status(error) == 404:
                    return False
                raise
        return True

    def put(self, office_id: str, sha256: str, content: bytes, content_type: str) -> bool:
        """Stores the object unless it is stored already; True when this call wrote it."""
        if self.exists(office_id, sha256):
            return False
        import base64
        import hashlib

        # Content-MD5: the store refuses bytes damaged on the way rather than keeping them.
        with _unavailable_on_failure():
            self.client.put_object(Bucket=self.bucket, Key=attachment_key(office_id, sha256), Body=content,
                                   ContentType=content_type,
                                   ContentMD5=base64.b64encode(hashlib.md5(content, usedforsecurity=False).digest())
                                   .decode())
        return True

    def get(self, office_id: str, sha256: str) -> tuple[bytes, str] | None:
        """The object and its content type, or None when it is not stored."""
        from botocore.exceptions import ClientError

        with _unavailable_on_failure():
            try:
                answer = self.client.get_object(Bucket=self.bucket, Key=attachment_key(office_id, sha256))
            except ClientError as error:
                # A missing bucket answers 404 too: that is the store misconfigured, not a missing file.
                code = error.response.get("Error", {}).get("Code")
                if code == "NoSuchKey" or (_status(error) == 404 and code != "NoSuchBucket"):
                    return None
                raise
            return answer["Body"].read(), answer.get("ContentType") or "application/octet-stream"


@contextlib.contextmanager
def _unavailable_on_failure() -> Iterator[None]:
    """botocore's refusals and connection failures as the store being unavailable (503), not a fault."""
    from botocore.exceptions import BotoCoreError, ClientError

    from services.gateway.attachments import StoreUnavailable

    try:
        yield
    except (BotoCoreError, ClientError) as error:
        raise StoreUnavailable(error) from error


def _status(error: Any) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
