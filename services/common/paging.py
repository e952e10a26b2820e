"""Paging and filtering for List methods (AIP-158 page tokens, a small subset of AIP-160 filters).

Page tokens are opaque to clients: base64 of the last key returned, so a page is a keyset
query (no OFFSET that slows down deep pages) and stays stable while rows are added.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from services.common.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_FILTER_LENGTH = 1000

_TERM = re.compile(r'\s*([a-z_][a-z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*"|[A-Za-z0-9_.:\-]+)\s*')
_AND = re.compile(r"AND\s+")
_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class Page:
    size: int
    after: str  # the key after which this page starts; "" for the first page


def parse_page(page_size: int, page_token: str) -> Page:
    if page_size < 0:
        raise InvalidArgument.of("page_size", "must not be negative")
    if page_size > MAX_PAGE_SIZE:
        raise InvalidArgument.of("page_size", f"must be at most {MAX_PAGE_SIZE}")
    after = ""
    if page_token:
        try:
            after = base64.urlsafe_b64decode(page_token.encode("ascii")).decode("utf-8")
        except (UnicodeError, binascii.Error, ValueError):
            raise InvalidArgument.of("page_token", "is not a token this service issued") from None
        if not after.startswith("k:"):
            raise InvalidArgument.of("page_token", "is not a token this service issued")
        after = after[2:]
    return Page(size=page_size or DEFAULT_PAGE_SIZE, after=after)


def next_token(last_key: str | None, returned: int, page: Page) -> str:
    """A token for the page after `last_key`, or "" when this page was not full (the last one)."""
    if last_key is None or returned < page.size:
        return ""
    return base64.urlsafe_b64encode(f"k:{last_key}".encode()).decode("ascii")


def parse_filter(text: str, allowed: dict[str, type]) -> dict[str, object]:
    """`a = "x" AND b = true` -> {"a": "x", "b": True}; unknown fields or syntax -> INVALID_ARGUMENT."""
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidArgument.of("filter", f"longer than {MAX_FILTER_LENGTH} characters")
    result: dict[str, object] = {}
    text = text.strip()
    position = 0
    while position < len(text):
        match = _TERM.match(text, position)
        if not match:
            raise InvalidArgument.of("filter", f"cannot read {text[position:]!r}; expected field = value joined by AND")
        field, raw = match.groups()
        if field not in allowed:
            raise InvalidArgument.of("filter", f"unknown field {field!r}; allowed: {', '.join(sorted(allowed))}")
        if field in result:
            raise InvalidArgument.of("filter", f"field {field!r} given twice")
        value = _ESCAPE.sub(r"\1", raw[1:-1]) if raw.startswith('"') else raw
        if allowed[field] is bool:
            if value not in ("true", "false"):
                raise InvalidArgument.of("filter", f"{field} must be true or false")
            result[field] = value == "true"
        else:
            result[field] = value
        position = match.end()
        if position < len(text):
            joiner = _AND.match(text, position)
            if not joiner:
                raise InvalidArgument.of("filter", f"cannot read {text[position:]!r}; terms are joined by AND")
            position = joiner.end()
    return result
