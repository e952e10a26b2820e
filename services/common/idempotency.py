"""Create methods with a request_id: a retry returns the first result, never a duplicate (AIP-155).

A request_id belongs to its caller: the same id sent by another caller is another request. Kept
unscoped, anyone who learnt an id (from a log, a shared device) could send it again and be
answered with the first caller's record, whatever their access to it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.common.context import current_caller
from services.common.db import Store, utcnow
from services.common.errors import InvalidArgument
from services.common.events import RequestKeyMixin

T = TypeVar("T")

MAX_REQUEST_ID = 128


def stored_key(request_id: str) -> str:
    """The request key's row id: the caller's subject and the request_id, hashed to a fixed length."""
    return hashlib.sha256(f"{current_caller().subject}\n{request_id}".encode()).hexdigest()


def earlier_request(session: Session, key_model: type[RequestKeyMixin], request_id: str) -> RequestKeyMixin | None:
    """The key this caller stored for `request_id`, if the request was carried out before."""
    return session.get(key_model, stored_key(request_id)) if request_id else None


def run_once(store: Store, key_model: type[RequestKeyMixin], request_id: str, method: str,
             create: Callable[[Session], str], load: Callable[[Session, str], T]) -> T:
    """Runs `create` (returning the new resource's id) once per request_id, then `load`s the result."""
    if len(request_id) > MAX_REQUEST_ID:
        raise InvalidArgument.of("request_id", f"at most {MAX_REQUEST_ID} characters")
    for attempt in (1, 2):
        try:
            with store.transaction() as session:
                key = earlier_request(session, key_model, request_id)
                if key is not None:
                    if key.method != method:
                        raise InvalidArgument.of("request_id", f"already used for {key.method}")
                    return load(session, key.resource_id)
                resource_id = create(session)
                if request_id:
                    session.add(key_model(request_id=stored_key(request_id), method=method,
                                          resource_id=resource_id, created_at=utcnow()))
                session.flush()
                return load(session, resource_id)
        except IntegrityError:
            # A concurrent call with the same request_id (or the same natural key) committed
            # first; the second attempt sees its row and answers as a retry would.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
