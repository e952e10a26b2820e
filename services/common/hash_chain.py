"""Hash-chained audit trails: append-only records where each one's hash covers the one before.

A trail is the sequence of records of one chain key (a custody item, a case). Each row stores the
record's canonical JSON, the previous record's hash and its own hash = SHA-256(previous hash +
canonical JSON), so changing, removing or reordering a past record breaks the chain at that
record. `verify` recomputes a chain and names the first record that does not match.

`append` runs inside the caller's transaction (the record exists if and only if the change it
records does) and is serialised per chain, so two concurrent appends can never both extend the
same head and fork the trail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint, event, select, text
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

GENESIS = "0" * 64

# What `verify` can find wrong with a record.
CONTENT = "content"  # the stored hash does not match the record and the hash before it
LINK = "link"  # the record does not point at the hash of the record before it
SEQUENCE = "sequence"  # a record is missing before this one, or records were renumbered
TRUNCATED = "truncated"  # the chain ends before the head its owner remembers


def canonical_json(record: Mapping[str, Any]) -> str:
    """Sorted keys, no whitespace, non-ASCII kept as is (hashed as UTF-8); NaN and infinities refused."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def chain_hash(previous_hash: str, canonical: str) -> str:
    return hashlib.sha256(previous_hash.encode("ascii") + canonical.encode("utf-8")).hexdigest()


class HashChainMixin:
    """An append-only trail table; the subclass names it with __tablename__."""

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    chain_key: Mapped[str] = mapped_column(String(64))
    # 1, 2, 3, ... within a chain.
    sequence: Mapped[int] = mapped_column(Integer)
    record: Mapped[str] = mapped_column(Text)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @declared_attr.directive
    def __table_args__(cls):
        # Also the last line of defence against a fork: a second record with the same sequence
        # cannot be stored, whatever the locking did.
        return (UniqueConstraint("chain_key", "sequence", name=f"ux_{cls.__tablename__}_chain_sequence"),)


class AppendOnly(RuntimeError):
    """Code tried to change or delete a trail record through the ORM."""


@event.listens_for(Session, "before_flush")
def _refuse_rewriting_trails(session: Session, _flush_context, _instances) -> None:
    """Trails are append-only for this code base: a changed or deleted record is refused before it
    reaches the store. (Whoever edits the table directly is what `verify` is for.)"""
    for record in session.deleted:
        if isinstance(record, HashChainMixin):
            raise AppendOnly(f"trail record {record.chain_key}#{record.sequence} cannot be deleted")
    for record in session.dirty:
        if isinstance(record, HashChainMixin) and session.is_modified(record):
            raise AppendOnly(f"trail record {record.chain_key}#{record.sequence} cannot be changed")


def append(session: Session, model: type[HashChainMixin], chain_key: str, record: Mapping[str, Any]) -> HashChainMixin:
    """Adds `record` at the head of the chain `chain_key`, in the caller's transaction."""
    canonical = canonical_json(record)
    _lock_chain(session, model, chain_key)
    head = session.scalars(select(model).where(model.chain_key == chain_key)
                           .order_by(model.sequence.desc()).limit(1)).first()
    previous_hash = head.hash if head is not None else GENESIS
    row = model(chain_key=chain_key, sequence=head.sequence + 1 if head is not None else 1, record=canonical,
                previous_hash=previous_hash, hash=chain_hash(previous_hash, canonical))
    session.add(row)
    session.flush()
    return row


def _lock_chain(session: Session, model: type[HashChainMixin], chain_key: str) -> None:
    """Holds the chain until the caller's transaction ends.

    PostgreSQL: a transaction-scoped advisory lock per (table, chain), taken before the head is
    read, so a second appender waits and then reads the first one's record (READ COMMITTED reads
    afresh per statement). A lock on the head row would not cover a chain's first record.
    SQLite has a single writer: the store begins every write transaction with BEGIN IMMEDIATE,
    so the transaction already holds the database's write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(f"{model.__tablename__}\x1f{chain_key}".encode()).digest()
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                        {"key": int.from_bytes(digest[:8], "big", signed=True)})


@dataclass(frozen=True)
class Break:
    """The first record of a chain that does not verify."""

    sequence: int
    # The row's primary key; 0 when the break is a record that is missing at the end.
    record_id: int
    problem: str
    detail: str


@dataclass(frozen=True)
class Verification:
    chain_key: str
    records_checked: int
    # The hash of the last record read (GENESIS for an empty chain).
    head: str
    first_break: Break | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


def verify(session: Session, model: type[HashChainMixin], chain_key: str, *,
           expected_head: str | None = None) -> Verification:
    """Recomputes the chain in sequence order and stops at the first record that does not match.

    `expected_head` is the head hash the chain's owner stored when it last appended: without it,
    removing the newest records leaves a shorter chain that still verifies.
    """
    previous_hash = GENESIS
    expected_sequence = 1
    checked = 0
    rows = session.scalars(select(model).where(model.chain_key == chain_key).order_by(model.sequence, model.id))
    for row in rows:
        found = _check(row, expected_sequence, previous_hash)
        if found is not None:
            return Verification(chain_key, checked, previous_hash, found)
        previous_hash = row.hash
        expected_sequence += 1
        checked += 1
    if expected_head is not None and previous_hash != expected_head:
        last = expected_sequence - 1
        return Verification(chain_key, checked, previous_hash, Break(
            expected_sequence, 0, TRUNCATED,
            f"the trail ends at record {last} but its owner last recorded head {expected_head[:12]}…: "
            "newer records are missing or the head was changed"))
    return Verification(chain_key, checked, previous_hash, None)


def _check(row: HashChainMixin, expected_sequence: int, previous_hash: str) -> Break | None:
    if row.sequence != expected_sequence:
        return Break(row.sequence, row.id, SEQUENCE,
                     f"record {row.sequence} stands where record {expected_sequence} should: "
                     "a record is missing or the records were renumbered")
    if row.previous_hash != previous_hash:
        before = f"record {row.sequence - 1}" if row.sequence > 1 else "the start of the trail"
        return Break(row.sequence, row.id, LINK,
                     f"record {row.sequence} does not link to {before}: "
                     f"{before} was altered or the records were reordered")
    if chain_hash(row.previous_hash, row.record) != row.hash:
        return Break(row.sequence, row.id, CONTENT,
                     f"record {row.sequence}'s stored hash does not match its content: "
                     "the record or its hash was altered")
    return None
