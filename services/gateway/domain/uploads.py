"""What the field app may upload to the attachment store: the accepted types (checked by the declared
Content-Type and by the file's own first bytes, so a renamed file is refused), the declared SHA-256
and the size. Plain Python: the HTTP layer reads the body, this decides whether it is acceptable."""

from __future__ import annotations

import hashlib
import re

from services.common.errors import FieldViolation, InvalidArgument

JPEG, PNG, WEBP, PDF = "image/jpeg", "image/png", "image/webp", "application/pdf"
CONTENT_TYPES = (JPEG, PNG, WEBP, PDF)
# What a phone photographs or draws: the images; the signed record's PDF is the gateway's own upload.
PHOTO_TYPES = (JPEG, PNG, WEBP)
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# The longest first bytes any type below is recognised by.
MAGIC_LENGTH = 12


def sniffed_type(head: bytes) -> str | None:
    """The type the file's first bytes say it is, among CONTENT_TYPES; None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def declared_type(header: str | None, accepted: tuple[str, ...]) -> str:
    """The Content-Type header's media type when it is one of `accepted`; InvalidArgument otherwise
    (the HTTP layer answers 415)."""
    media = (header or "").split(";")[0].strip().lower()
    if media not in accepted:
        raise UnsupportedType(f"不支持的文件类型：{media or '（未声明）'}；只接受 {', '.join(accepted)} / "
                              f"unsupported content type {media or '(none)'!r}; accepted: {', '.join(accepted)}")
    return media


class UnsupportedType(InvalidArgument):
    """The file is not of an accepted type (HTTP 415)."""


class TooLarge(InvalidArgument):
    """The file is larger than the store accepts (HTTP 413)."""

    @classmethod
    def limit(cls, max_bytes: int) -> TooLarge:
        """The refusal naming the limit in both languages."""
        return cls(f"文件不能超过 {_size(max_bytes)} / the file is larger than {max_bytes} bytes",
                   [FieldViolation("body", f"larger than {max_bytes} bytes")])


def _size(count: int) -> str:
    if count >= 1024 * 1024 and count % (1024 * 1024) == 0:
        return f"{count // (1024 * 1024)} MB"
    if count >= 1024 and count % 1024 == 0:
        return f"{count // 1024} KB"
    return f"{count} 字节"


def check_sha256(declared: str | None) -> str:
    """The declared hash, lowercased; InvalidArgument naming `sha256` unless it is 64 hex digits."""
    value = (declared or "").strip().lower()
    if not SHA256_PATTERN.match(value):
        raise InvalidArgument("sha256 必须是 64 位十六进制数字 / sha256 must be 64 hex digits",
                              [FieldViolation("sha256", "must be the file's SHA-256 as 64 hex digits")])
    return value


def check_file(body: bytes, declared_media: str, declared_sha256: str, max_bytes: int) -> str:
    """The body's SHA-256 after checking that it is not empty nor too large, that its first bytes are of
    the declared type and that it hashes to the declared value; the matching error otherwise."""
    if len(body) > max_bytes:
        raise TooLarge.limit(max_bytes)
    if not body:
        raise InvalidArgument("文件为空 / the file is empty", [FieldViolation("body", "empty")])
    actual = sniffed_type(body[:MAGIC_LENGTH])
    if actual != declared_media:
        raise UnsupportedType(
            f"文件内容不是声明的类型 {declared_media} / the file's content is not {declared_media}"
            + (f" (it looks like {actual})" if actual else ""),
            [FieldViolation("Content-Type", f"the body is not {declared_media}")])
    digest = hashlib.sha256(body).hexdigest()
    if digest != declared_sha256:
        raise InvalidArgument("文件的 SHA-256 与声明的不一致，可能传输不完整，请重新上传 / the file's SHA-256 "
                              "does not match the declared sha256",
                              [FieldViolation("sha256", f"the body's SHA-256 is {digest}")])
    return digest
