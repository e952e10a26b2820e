"""Attachment keys: "<office_id>/<sha256>", checked so that no key can leave its office's folder."""

from __future__ import annotations

import re

_OFFICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def attachment_key(office_id: str, sha256: str) -> str:
    """The key of a file; ValueError for an office id or hash that could name another place."""
    if not _OFFICE.match(office_id):
        raise ValueError(f"not an office id: {office_id[:70]!r}")
    if not _SHA256.match(sha256):
        raise ValueError(f"not a SHA-256 in lowercase hex: {sha256[:70]!r}")
    return f"{office_id}/{sha256}"
