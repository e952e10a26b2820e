"""The attachment store: the field app's photos, signatures and signed records, kept by content.

A file's key is "<office_id>/<sha256>": the office it belongs to (which decides who may read it) and
its own hash, so that the same file stored twice is one object and a repeated upload is a no-op.
Two stores: a directory (one file per key, written atomically) and S3 or any store speaking its API.
"""

from __future__ import annotations

from typing import Protocol

from services.gateway.attachments.keys import attachment_key
from services.gateway.upstream import UpstreamUnavailable

__all__ = ["AttachmentStore", "StoreUnavailable", "attachment_key", "open_store"]


class StoreUnavailable(UpstreamUnavailable):
    """The store did not answer or refused the gateway (a full disk, an object store down or denying
    its credentials): answered 503 with Retry-After, so the field app keeps the upload queued."""

    def __init__(self, cause: BaseException):
        super().__init__("附件存储暂时不可用，请稍后再试 / "
                         f"the attachment store is unavailable ({type(cause).__name__})")


class AttachmentStore(Protocol):
    """Where attachments are kept; every method may block (call it off the event loop)."""

    def exists(self, office_id: str, sha256: str) -> bool:
        """Whether the file is stored."""

    def put(self, office_id: str, sha256: str, content: bytes, content_type: str) -> bool:
        """Stores the file unless it is stored already; True when this call wrote it."""

    def get(self, office_id: str, sha256: str) -> tuple[bytes, str] | None:
        """The file and its content type, or None when it is not stored."""


def open_store(config) -> AttachmentStore:
    """The store GatewayConfig's ATTACHMENT_* settings name (nothing is touched until the first file)."""
    if config.attachment_store == "s3":
        from services.gateway.attachments.s3 import S3Store

        return S3Store(config.attachment_s3_bucket, endpoint_url=config.attachment_s3_endpoint,
                       region=config.attachment_s3_region)
    from services.gateway.attachments.directory import DirectoryStore

    return DirectoryStore(config.attachment_dir)
