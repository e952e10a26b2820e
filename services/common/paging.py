"""Paging and filtering for List methods (AIP-158 page tokens, a small subset of AIP-160 filters).

Page tokens are opaque to clients: the last key returned, so a page is a keyset query (no OFFSET
that slows down deep pages) and stays stable while rows are added. A token is sealed with an
HMAC-SHA256 over that key and the request it continues (the method's request message and every
parameter but page_size and page_token), so a client can neither forge one, nor edit one, nor
carry one over to another method or another filter: AIP-158 makes a token valid only with the
request parameters it was issued for.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, cast

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from services.common.errors import InvalidArgument

if TYPE_CHECKING:
    from services.common.config import Settings

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
MAX_FILTER_LENGTH = 1000
# Keys are ids and timestamps; a longer token is not ours, and refusing it first keeps parsing cheap.
MAX_TOKEN_LENGTH = 1024
NOT_OURS = "is not a token this service issued for this request"

_TERM = re.compile(r'\s*([a-z_][a-z0-9_]*)\s*=\s*("(?:[^"\\]|\\.)*"|[A-Za-z0-9_.:\-]+)\s*')
_AND = re.compile(r"AND\s+")
_ESCAPE = re.compile(r"\\(.)")
# Whitespace outside quoted values: it never changes what a filter means, so tokens ignore it.
_QUOTED_OR_SPACE = re.compile(r'("(?:[^"\\]|\\.)*")|\s+')

_VERSION = b"\x01"  # first byte of a token: lets a later format be told apart from this one
_MAC_BYTES = 16  # HMAC-SHA256 cut to 128 bits: unforgeable, and keeps tokens short
_PAGING_FIELDS = frozenset({"page_size", "page_token"})  # may change between pages (AIP-158)
_KEY_LABEL = b"supervision-cloud page tokens v1"
# Scopes of parameters longer than this are not cached: a client sending many huge filters must
# not fill the cache with megabytes each.
_MAX_CACHED_PARAMETERS = 2 * MAX_FILTER_LENGTH


class _Sealer:
    """HMAC-SHA256 under one key, its inner and outer pads hashed once: four times cheaper per
    token than hmac.digest, which sets the key up again on every call."""

    def __init__(self, key: bytes):
        block = key.ljust(64, b"\x00")  # keys here are 32 bytes, within SHA-256's 64-byte block
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def mac(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:_MAC_BYTES]


# The key when no secret is set: one per process, so every service hosted here agrees on it.
_PROCESS_KEY = secrets.token_bytes(32)
# Replaced at start-up by use_page_token_key(page_token_key(settings)).
_sealer = _Sealer(_PROCESS_KEY)


@dataclass(frozen=True)
class Page:
    """The page a List call serves: how many records, after which key, and what its tokens are bound to."""

    size: int
    after: str  # the key after which this page starts; "" for the first page
    # What the next page's token is bound to: the method and its request parameters. Empty for
    # pages a service makes for itself, whose tokens nobody reads.
    scope: bytes = b""


def page_token_key(settings: Settings) -> bytes:
    """The key page tokens are sealed with: from PAGE_TOKEN_SECRET, else JWT_SECRET, else random."""
    secret = settings.page_token_secret or settings.jwt_secret
    if not secret:
        # Good for this process only: replicas behind one Service then refuse each other's tokens.
        return _PROCESS_KEY
    # Derived, not the secret itself: a page token's MAC must never be an HS256 signature under
    # the JWT key (that would let anyone who pages mint bearer tokens).
    return hmac.digest(secret.encode(), _KEY_LABEL, "sha256")


def use_page_token_key(key: bytes) -> None:
    """Seal and check this process's page tokens with `key` (all replicas of a service need the same)."""
    if len(key) > 64:
        raise ValueError("a page token key is at most 64 bytes")
    global _sealer
    _sealer = _Sealer(key)


def request_scope(request: Message) -> bytes:
    """What a token of `request` is bound to: its message type and every field but the paging ones."""
    descriptor = request.DESCRIPTOR
    fields = _BOUND_FIELDS.get(descriptor.full_name)
    if fields is None:
        fields = _BOUND_FIELDS[descriptor.full_name] = tuple(
            (field.name, field.message_type is None and not _repeated(field))
            for field in descriptor.fields if field.name not in _PAGING_FIELDS)
    parameters = tuple((name, getattr(request, name) if plain else _hashable(getattr(request, name)))
                       for name, plain in fields)
    if sum(len(value) for _, value in parameters if isinstance(value, (str, bytes))) > _MAX_CACHED_PARAMETERS:
        return _scope(descriptor.full_name, parameters)
    return collection_scope(descriptor.full_name, *parameters)


# Request message name -> (field name, whether its value is a plain hashable scalar); read once.
_BOUND_FIELDS: dict[str, tuple[tuple[str, bool], ...]] = {}


def _repeated(field: object) -> bool:
    # FieldDescriptor.label is deprecated in newer protobuf releases (gone from 7 and its type
    # stubs); is_repeated replaces it. The descriptor is the pure-Python or the upb one.
    repeated = getattr(field, "is_repeated", None)
    if repeated is None:
        return getattr(field, "label", None) == FieldDescriptor.LABEL_REPEATED
    return bool(repeated)


@functools.lru_cache(maxsize=1024)  # clients page on with the same parameters: most calls are hits
def collection_scope(collection: str, *parameters: tuple[str, object]) -> bytes:
    """A scope from a collection's name and the (name, value) parameters that choose its records."""
    return _scope(collection, parameters)


def _scope(collection: str, parameters: tuple[tuple[str, object], ...]) -> bytes:
    canonical = tuple((name, normalized_filter(value) if name == "filter" and isinstance(value, str)
                       and len(value) <= MAX_FILTER_LENGTH else value) for name, value in parameters)
    # repr() quotes strings and escapes NUL, so no two different parameter lists give the same
    # bytes, and a scope never holds the NUL that ends it in a sealed message.
    return repr((collection, canonical)).encode()


def _hashable(value: Message | Iterable[object]) -> object:
    if isinstance(value, Message):
        return value.SerializeToString(deterministic=True)
    return tuple(_hashable(each) if isinstance(each, Message) else each for each in value)  # repeated


def normalized_filter(text: str) -> str:
    """The filter without whitespace outside quoted values: `a = "x  y"` and `a="x  y"` are one filter."""
    return _QUOTED_OR_SPACE.sub(lambda m: m.group(1) or "", text)


class _PagedRequest(Protocol):
    page_size: int
    page_token: str


def page_size_of(requested: int, *, max_size: int = MAX_PAGE_SIZE, default_size: int = DEFAULT_PAGE_SIZE) -> int:
    """The size of the page to return: the default for 0, at most `max_size`; INVALID_ARGUMENT when negative."""
    if requested < 0:
        raise InvalidArgument.of("page_size", "must not be negative")
    # AIP-158: a size above the maximum is served at the maximum, not refused; the client pages on
    # with the token like after any page, so asking for "everything" still works.
    return min(requested, max_size) or default_size


def parse_page(request: Message, *, max_size: int = MAX_PAGE_SIZE, default_size: int = DEFAULT_PAGE_SIZE) -> Page:
    """The page a List request asks for (its size capped at `max_size`); INVALID_ARGUMENT for a negative
    size or a token not issued for it."""
    # Every List request has these two fields (AIP-158); Message's type cannot say so.
    paged = cast(_PagedRequest, request)
    size = page_size_of(paged.page_size, max_size=max_size, default_size=default_size)
    scope = request_scope(request)
    after = open_token(paged.page_token, scope) if paged.page_token else ""
    return Page(size=size, after=after, scope=scope)


def next_token(last_key: str | None, returned: int, page: Page) -> str:
    """A token for the page after `last_key`, or "" when this page was not full (the last one)."""
    if last_key is None or returned < page.size:
        return ""
    return seal_token(last_key, page.scope)


def seal_token(key: str, scope: bytes) -> str:
    """An opaque token carrying `key`, valid only with `scope` and this deployment's key."""
    data = key.encode()
    mac = _sealer.mac(scope + b"\x00" + data)
    return base64.urlsafe_b64encode(_VERSION + mac + data).rstrip(b"=").decode("ascii")


def open_token(token: str, scope: bytes) -> str:
    """The key inside a token sealed for `scope`; INVALID_ARGUMENT on page_token for anything else."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidArgument.of("page_token", NOT_OURS)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise InvalidArgument.of("page_token", NOT_OURS) from None
    # The decoder skips characters outside the alphabet and ignores a last character's spare
    # bits: only the one spelling we issue is accepted, so a token cannot be varied either.
    if base64.urlsafe_b64encode(raw).rstrip(b"=") != token.encode():
        raise InvalidArgument.of("page_token", NOT_OURS)
    version, mac, data = raw[:1], raw[1:1 + _MAC_BYTES], raw[1 + _MAC_BYTES:]
    if version != _VERSION or not hmac.compare_digest(mac, _sealer.mac(scope + b"\x00" + data)):
        raise InvalidArgument.of("page_token", NOT_OURS)
    try:
        return data.decode()
    except UnicodeError:  # cannot happen for a token we sealed: it held a str
        raise InvalidArgument.of("page_token", NOT_OURS) from None


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


Item = TypeVar("Item")


@dataclass(frozen=True)
class ListResult(Generic[Item]):
    """What a list use case answers: one page of records and the token of the next page ("" after
    the last)."""

    items: Sequence[Item]
    next_page_token: str
