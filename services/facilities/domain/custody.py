"""Custody of confiscated goods (罚没物品库): checked in against a case, moved, disposed of.

Every step is signed by at least two different officers of the office holding valid certificates
(双人), and is appended to the item's hash-chained trail in the same transaction as the change,
so VerifyCustody can show that no past step was altered. Goods are evidence until their case is
closed: disposal waits for mobile_enforcement's CaseClosed.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common import hash_chain
from services.common.access import office_scope, require_read, require_write
from services.common.context import Caller
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound, Violations
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from services.facilities.domain import fields
from services.facilities.domain.directory import case_open, check_signatures
from services.facilities.domain.workspace import Workspace, get_office, utc_text
from services.facilities.models import CustodyItem, CustodyRecord, RequestKey
from supervision.facilities.v1 import events_pb2

IN_STORE, DISPOSED = "IN_STORE", "DISPOSED"
CHECK_IN, MOVE, DISPOSAL = "CHECK_IN", "MOVE", "DISPOSAL"
DISPOSAL_METHODS = ("DESTROYED", "AUCTIONED", "RETURNED", "TRANSFERRED")
CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")
MAX_DESCRIPTION = 500
MAX_UNIT = 16
MAX_LOCATION = 100
MAX_QUANTITY = 1e9


@dataclass
class CheckInInput:
    """Confiscated goods checked into the store (罚没物品入库) against a case, signed by two officers."""

    office_id: str
    case_id: str
    description: str
    quantity: float
    unit: str
    location: str
    signed_by: list[str]
    note: str


@dataclass(frozen=True)
class TrailEntry:
    """One step of an item's custody trail: the stored, hash-chained row and the record it holds."""

    row: CustodyRecord
    # The record as parsed from its JSON; empty when it was altered into something unreadable.
    record: dict[str, Any]


@dataclass(frozen=True)
class CustodyView:
    """A custody item, with its trail when read on its own."""

    item: CustodyItem
    # Filled by get only.
    trail: list[TrailEntry]


def _validate_check_in(data: CheckInInput) -> None:
    violations = Violations()
    if not data.office_id:
        violations.add("office_id", "must not be empty")
    if not CASE_ID.match(data.case_id):
        violations.add("case_id", "1-64 letters, digits or . _ / -, starting with a letter or digit")
    fields.check_text(violations, "description", data.description, MAX_DESCRIPTION, required=True)
    if not math.isfinite(data.quantity) or not 0 < data.quantity <= MAX_QUANTITY:
        violations.add("quantity", f"a number above 0 and at most {MAX_QUANTITY:g}")
    fields.check_text(violations, "unit", data.unit, MAX_UNIT, required=True)
    fields.check_text(violations, "location", data.location, MAX_LOCATION, required=True)
    fields.check_text(violations, "note", data.note, fields.MAX_TEXT, required=False)
    violations.raise_if_any("invalid check-in")


class Custody:
    """Custody of confiscated goods (罚没物品库): check-in, moves and disposal, each a signed step of the trail."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def check_in(self, caller: Caller, request_id: str, data: CheckInInput) -> CustodyView:
        """Takes goods of a case into the store (once per request id), the first step of their trail."""
        require_write(caller, data.office_id or None)
        _validate_check_in(data)

        def create(session: Session) -> str:
            get_office(session, data.office_id)
            signers = check_signatures(session, data.office_id, data.signed_by, self.workspace.today())
            now = self.workspace.now()
            item = CustodyItem(id=str(uuid.uuid4()), office_id=data.office_id, case_id=data.case_id,
                               description=data.description.strip(), quantity=data.quantity, unit=data.unit.strip(),
                               location=data.location.strip(), state=IN_STORE, created_at=now, trail_length=0,
                               trail_head=hash_chain.GENESIS, version=0)
            session.add(item)
            session.flush()
            self._step(session, item, CHECK_IN, signers, data.note,
                       {"description": item.description, "quantity": item.quantity, "unit": item.unit})
            return item.id

        return run_once(self.workspace.store, RequestKey, request_id, "CheckIn", create,
                        lambda session, item_id: CustodyView(_get(session, item_id), []))

    def move(self, caller: Caller, item_id: str, to_location: str, signed_by: list[str], note: str) -> CustodyView:
        """Moves goods in store to another place, a signed step of their trail."""
        violations = Violations()
        fields.check_text(violations, "to_location", to_location, MAX_LOCATION, required=True)
        fields.check_text(violations, "note", note, fields.MAX_TEXT, required=False)
        violations.raise_if_any("invalid move")
        with self.workspace.store.transaction() as session:
            item = _get(session, item_id)
            require_write(caller, item.office_id)
            signers = check_signatures(session, item.office_id, signed_by, self.workspace.today())
            if item.state != IN_STORE:
                raise FailedPrecondition(f"item {item.id} is {item.state}; only goods in store are moved")
            if to_location.strip() == item.location:
                raise InvalidArgument.of("to_location", f"the goods are already at {item.location}")
            previous, item.location = item.location, to_location.strip()
            self._step(session, item, MOVE, signers, note, {"from_location": previous})
            return CustodyView(item, [])

    def dispose(self, caller: Caller, item_id: str, method: str, signed_by: list[str], note: str) -> CustodyView:
        """Disposes of goods whose case is closed (destroyed, auctioned, returned, transferred): their last step."""
        violations = Violations()
        if method not in DISPOSAL_METHODS:
            violations.add("method", f"one of {', '.join(DISPOSAL_METHODS)}")
        fields.check_text(violations, "note", note, fields.MAX_TEXT, required=False)
        violations.raise_if_any("invalid disposal")
        with self.workspace.store.transaction() as session:
            item = _get(session, item_id)
            require_write(caller, item.office_id)
            signers = check_signatures(session, item.office_id, signed_by, self.workspace.today())
            if item.state != IN_STORE:
                raise FailedPrecondition(f"item {item.id} is {item.state}")
            if case_open(session, item.case_id):
                raise FailedPrecondition(f"case {item.case_id} is open: its goods are evidence until the case is "
                                         "closed")
            item.state, item.disposal_method, item.disposed_at = DISPOSED, method, self.workspace.now()
            self._step(session, item, DISPOSAL, signers, note, {"method": method})
            return CustodyView(item, [])

    def _step(self, session: Session, item: CustodyItem, step: str, signers: list[str], note: str,
              details: Mapping[str, object]) -> None:
        record = {"item_id": item.id, "office_id": item.office_id, "case_id": item.case_id, "step": step,
                  "location": item.location, "signed_by": signers, "note": note.strip(),
                  "at": utc_text(self.workspace.now()), **details}
        row = hash_chain.append(session, CustodyRecord, item.id, record, self.workspace.trail_keys)
        item.trail_length, item.trail_head = row.sequence, row.hash
        item.version += 1
        self.workspace.events.record(
            session, events_pb2.CustodyChanged(
                item_id=item.id, version=item.version, office_id=item.office_id, case_id=item.case_id, step=step,
                state=item.state, location=item.location, signed_by=signers, sequence=row.sequence, hash=row.hash),
            aggregate_type="custody_item", aggregate_id=item.id, version=item.version, office_id=item.office_id)

    def get(self, caller: Caller, item_id: str) -> CustodyView:
        """One item with its whole trail, for a caller who may read its office."""
        with self.workspace.store.read() as session:
            item = _get(session, item_id)
            require_read(caller, item.office_id)
            rows = session.scalars(select(CustodyRecord).where(CustodyRecord.chain_key == item.id)
                                   .order_by(CustodyRecord.sequence))
            trail = [TrailEntry(row, _parse(row.record)) for row in rows]
        return CustodyView(item, trail)

    def list(self, caller: Caller, page: Page, office_id: str | None, case_id: str | None,
             state: str | None) -> ListResult[CustodyView]:
        """A page of the items in the caller's scope, by case and state (without their trails)."""
        scope = office_scope(caller, office_id)
        query = select(CustodyItem).where(CustodyItem.id > page.after).order_by(CustodyItem.id).limit(page.size)
        if scope:
            query = query.where(CustodyItem.office_id == scope)
        if case_id:
            query = query.where(CustodyItem.case_id == case_id)
        if state:
            query = query.where(CustodyItem.state == state)
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
        return ListResult([CustodyView(row, []) for row in rows], next_token(rows[-1].id if rows else None, len(rows),
                                                                            page))

    def verify(self, caller: Caller, item_id: str) -> hash_chain.Verification:
        """Recomputes the item's trail and says whether any step was altered, removed or reordered, and which."""
        with self.workspace.store.read() as session:
            item = _get(session, item_id)
            require_read(caller, item.office_id)
            return hash_chain.verify(session, CustodyRecord, item.id, self.workspace.trail_keys,
                                     expected_head=item.trail_head)


def _parse(record: str) -> dict[str, Any]:
    """A trail record as stored; a record altered into something unreadable shows up as empty
    here and is named by VerifyCustody."""
    try:
        parsed = json.loads(record)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _get(session: Session, item_id: str) -> CustodyItem:
    item = session.get(CustodyItem, item_id) if item_id else None
    if item is None:
        raise NotFound(f"custody item {item_id!r} not found")
    return item
