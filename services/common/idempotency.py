"""Create methods with a request_id: a retry returns the first result, never a duplicate (AIP-155).

A request_id belongs to its caller: the same id sent by another caller is another request. Kept
unscoped, anyone who learnt an id (from a log, a shared device) could send it again and be
answered with the first caller's record, whatever their access to it.

A retry is the same request sent again. The key keeps a hash of the first request's message, so
an id reused for a different request is refused (ALREADY_EXISTS) rather than answered with the
first result: answered, the caller would believe its second request was carried out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from google.protobuf.message import Message
from sqlalchemy import Row, Select, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.context import current_caller, current_request
from services.common.db import Store, table_of, utcnow
from services.common.errors import AlreadyExists, FieldViolation, InvalidArgument
from services.common.events import RequestKeyMixin

T = TypeVar("T")

MAX_REQUEST_ID = 128


def stored_key(request_id: str) -> str:
    """The request key's row id: the caller's subject and the request_id, hashed to a fixed length."""
    return hashlib.sha256(f"{current_caller().subject}\n{request_id}".encode()).hexdigest()


def payload_hash(request: object | None) -> str:
    """SHA-256 of a request message without its request_id; '' when there is no message (a call
    made outside gRPC: demo loaders, domain tests), which no comparison can use."""
    if not isinstance(request, Message):
        return ""
    if "request_id" in request.DESCRIPTOR.fields_by_name:
        body = type(request)()
        body.CopyFrom(request)
        body.ClearField("request_id")
    else:
        body = request
    return hashlib.sha256(body.SerializeToString(deterministic=True)).hexdigest()


def earlier_request(session: Session, key_model: type[RequestKeyMixin], request_id: str) -> Row[str, str, str] | None:
    """The key this caller stored for `request_id` (method, resource_id, payload_hash), if the
    request was carried out before."""
    if not request_id:
        return None
    # Core on the session's connection: asked on every create, where the ORM's get (identity map,
    # an object loaded and tracked) cost several times the query.
    return session.connection().execute(_key_query(key_model), {"key": stored_key(request_id)}).first()


_KEY_QUERIES: dict[type[RequestKeyMixin], Select[str, str, str]] = {}


def _key_query(key_model: type[RequestKeyMixin]) -> Select[str, str, str]:
    """The query of a stored key, built once per service: building it costs a cache-key walk per call."""
    query = _KEY_QUERIES.get(key_model)
    if query is None:
        table = table_of(key_model)
        query = _KEY_QUERIES[key_model] = (select(table.c.method, table.c.resource_id, table.c.payload_hash)
                                           .where(table.c.request_id == bindparam("key")))
    return query


def earlier_result(session: Session, key_model: type[RequestKeyMixin], request_id: str, method: str,
                   payload: str | None = None) -> str | None:
    """The id of what the first request with `request_id` created, if this caller sent it before;
    refuses the id when that request was another method's or carried another payload (`payload`:
    the request's payload_hash, by default that of the gRPC call in progress)."""
    key = earlier_request(session, key_model, request_id)
    if key is None:
        return None
    if payload is None:
        payload = payload_hash(current_request())
    if key.method != method:
        raise InvalidArgument.of("request_id", f"already used for {key.method}")
    # A key without a hash (stored before payloads were kept, or outside a gRPC call) and a call
    # without a message cannot be compared: both answer as the retry they most likely are.
    if key.payload_hash and payload and key.payload_hash != payload:
        raise AlreadyExists(
            f"request_id {request_id!r} was already used for a different request; "
            "use a new request_id for a new request",
            [FieldViolation("request_id", "already used for a different request")])
    return str(key.resource_id)


def run_once(store: Store, key_model: type[RequestKeyMixin], request_id: str, method: str,
             create: Callable[[Session], str], load: Callable[[Session, str], T]) -> T:
    """Runs `create` (returning the new resource's id) once per request_id, then `load`s the result."""
    if len(request_id) > MAX_REQUEST_ID:
        raise InvalidArgument.of("request_id", f"at most {MAX_REQUEST_ID} characters")
    payload = payload_hash(current_request()) if request_id else ""
    for attempt in (1, 2):
        try:
            with store.transaction() as session:
                resource_id = earlier_result(session, key_model, request_id, method, payload)
                if resource_id is not None:
                    return load(session, resource_id)
                resource_id = create(session)
                session.flush()
                if request_id:
                    session.connection().execute(insert(table_of(key_model)), {
                        "request_id": stored_key(request_id), "method": method, "resource_id": resource_id,
                        "created_at": utcnow(), "payload_hash": payload})
                return load(session, resource_id)
        except IntegrityError:
            # A concurrent call with the same request_id (or the same natural key) committed
            # first; the second attempt sees its row and answers as a retry would.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
