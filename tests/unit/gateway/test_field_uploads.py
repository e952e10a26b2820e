"""What the field app may upload: types by header and by first bytes, the size, the declared SHA-256."""

from __future__ import annotations

import hashlib

import pytest

from services.common.errors import InvalidArgument
from services.gateway.domain.uploads import (
    JPEG,
    PDF,
    PHOTO_TYPES,
    PNG,
    WEBP,
    TooLarge,
    UnsupportedType,
    check_file,
    check_sha256,
    declared_type,
    sniffed_type,
)

SAMPLES = {JPEG: b"\xff\xd8\xff\xe0rest", PNG: b"\x89PNG\r\n\x1a\nrest", WEBP: b"RIFF\x10\x00\x00\x00WEBPVP8 ",
           PDF: b"%PDF-1.7\n"}


@pytest.mark.parametrize("media", list(SAMPLES))
def test_each_type_is_recognised_by_its_first_bytes(media):
    assert sniffed_type(SAMPLES[media][:12]) == media


@pytest.mark.parametrize("head", [b"GIF89a", b"<svg", b"RIFF\x10\x00\x00\x00WAVE", b"", b"\xff\xd8"])
def test_anything_else_is_no_type(head):
    assert sniffed_type(head) is None


def test_the_declared_type_must_be_accepted():
    assert declared_type("image/JPEG; charset=binary", PHOTO_TYPES) == JPEG
    for header in (None, "", "image/gif", "application/pdf", "text/html"):
        with pytest.raises(UnsupportedType):
            declared_type(header, PHOTO_TYPES)


def test_a_good_file_is_its_hash():
    body = SAMPLES[PNG] * 10
    assert check_file(body, PNG, hashlib.sha256(body).hexdigest(), 1000) == hashlib.sha256(body).hexdigest()


def test_bad_files_are_refused_with_the_right_error():
    body = SAMPLES[JPEG] * 10
    digest = hashlib.sha256(body).hexdigest()
    with pytest.raises(TooLarge):
        check_file(body, JPEG, digest, len(body) - 1)
    with pytest.raises(UnsupportedType):
        check_file(body, PNG, digest, 1000)
    with pytest.raises(InvalidArgument) as wrong_hash:
        check_file(body, JPEG, "0" * 64, 1000)
    assert wrong_hash.value.violations[0].field == "sha256" and not isinstance(wrong_hash.value, UnsupportedType)
    with pytest.raises(InvalidArgument):
        check_file(b"", JPEG, digest, 1000)


@pytest.mark.parametrize("value", [None, "", "abc", "g" * 64, "0" * 63, "0" * 65])
def test_a_declared_hash_is_64_hex_digits(value):
    with pytest.raises(InvalidArgument):
        check_sha256(value)


def test_a_declared_hash_is_lowercased():
    assert check_sha256("AB" * 32) == "ab" * 32
