"""Hash-chained, keyed audit trails: append-only records where each one's seal covers the one before.

A trail is the sequence of records of one chain key (a custody item, a case). Each row stores the
record's canonical JSON, the previous record's hash, the id of the key it was sealed with, and its
own hash = HMAC-SHA256(key, previous hash + canonical JSON). Changing, removing or reordering a past
record breaks the chain at that record, and because the key is held outside the database
(TRAIL_KEYS, or a key file under DATA_DIR: TrailKeys), someone who can write to the database cannot
re-hash the rest of the chain and the owner's head to make a rewritten record verify: they would
need the key. `verify` recomputes a chain and names the first record that does not match, that
names a key this process does not hold, or that carries no key id at all.

Keys rotate by id: new records are sealed with the active key, older ones verify with the key their
`key_id` names, so an old key stays listed (not active) for as long as records sealed with it exist.

Records written before trails were keyed (plain SHA-256, no key id) are sealed once, by the schema
migration that adds the key id column (`seal_legacy_records`): each such chain is first checked
under the old scheme, including the head its owner stored, and only a chain that verifies is
re-hashed with the active key (its owner's head updated). From then on a record without a key id is
refused as unkeyed, so writing records in the old unkeyed form is no way around the key.

`append` runs inside the caller's transaction (the record exists if and only if the change it
records does) and is serialised per chain, so two concurrent appends can never both extend the
same head and fork the trail.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Connection,
    Insert,
    Integer,
    Row,
    Select,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from services.common.config import ConfigError, Settings, parse_trail_keys
from services.common.db import TableMixin, table_of

log = logging.getLogger(__name__)

GENESIS = "0" * 64
# Where TrailKeys keeps its keys when TRAIL_KEYS is not set: a file under DATA_DIR, never the database.
KEY_FILE = "trail-keys"

# What `verify` can find wrong with a record.
CONTENT = "content"  # the stored hash does not match the record and the hash before it
LINK = "link"  # the record does not point at the hash of the record before it
SEQUENCE = "sequence"  # a record is missing before this one, or records were renumbered
TRUNCATED = "truncated"  # the chain ends before the head its owner remembers
UNKNOWN_KEY = "unknown_key"  # the record names a key id this process does not hold
UNKEYED = "unkeyed"  # the record carries no key id (the unkeyed scheme is no longer accepted)


def canonical_json(record: Mapping[str, Any]) -> str:
    """Sorted keys, no whitespace, non-ASCII kept as is (hashed as UTF-8); NaN and infinities refused."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def chain_hash(previous_hash: str, canonical: str) -> str:
    """The unkeyed hash of records written before trails were keyed: SHA-256(previous hash + JSON)."""
    return hashlib.sha256(previous_hash.encode("ascii") + canonical.encode("utf-8")).hexdigest()


def keyed_hash(key: bytes, previous_hash: str, canonical: str) -> str:
    """A record's seal: HMAC-SHA256(key, previous hash + canonical JSON), hex."""
    return hmac.new(key, previous_hash.encode("ascii") + canonical.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class TrailKeys:
    """The keys trails are sealed with, by id, and the id new records use. Held outside the database."""

    keys: Mapping[str, bytes] = field(repr=False)
    active_id: str

    def __post_init__(self) -> None:
        if self.active_id not in self.keys:
            raise ValueError(f"the active trail key id {self.active_id!r} is not among the keys")

    def seal(self, key_id: str, previous_hash: str, canonical: str) -> str:
        """The hash of a record sealed with the key `key_id` (KeyError when it is not held)."""
        return keyed_hash(self.keys[key_id], previous_hash, canonical)

    @classmethod
    def from_settings(cls, settings: Settings) -> TrailKeys:
        """TRAIL_KEYS / TRAIL_ACTIVE_KEY_ID when set, else the key file under DATA_DIR (made on first use)."""
        if settings.trail_keys:
            return cls(dict(settings.trail_keys), settings.trail_active_key_id)
        return cls.from_key_file(Path(settings.data_dir) / KEY_FILE)

    @classmethod
    def from_key_file(cls, path: Path) -> TrailKeys:
        """Keys from a file of `id:base64key` lines, the last line's key active; a missing file is created
        (mode 0600) with one new random key. For development and single-host installs: a production
        deployment gives TRAIL_KEYS from its secret store instead."""
        if not path.exists():
            try:
                _create_key_file(path)
            except OSError as exc:  # DATA_DIR missing and not creatable, or not writable
                raise ConfigError(f"configuration error: DATA_DIR: cannot create the trail key file {path} "
                                  f"({exc.strerror or exc}); expected a writable DATA_DIR, or set TRAIL_KEYS") from None
        try:
            raw = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"configuration error: cannot read the trail key file {path} ({exc})") from None
        keys = parse_trail_keys(raw, f"the trail key file {path}")
        if not keys:
            raise ConfigError(f"configuration error: the trail key file {path} holds no key; expected lines of "
                              "`id:base64key` (or set TRAIL_KEYS)")
        if path.stat().st_mode & 0o077:
            log.warning("the trail key file is readable by other users; it should be mode 0600",
                        extra={"path": str(path)})
        return cls(keys, list(keys)[-1])


def _create_key_file(path: Path) -> None:
    """Writes a new key file atomically: two processes starting at once end up with the same key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A key id of its own: records sealed under another installation's key file are then reported as
    # sealed with an unknown key, not as altered.
    line = f"local-{secrets.token_hex(4)}:{base64.b64encode(secrets.token_bytes(32)).decode('ascii')}\n"
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(line)
        try:
            os.link(scratch, path)  # fails if another process created the file first: theirs wins
            log.warning("created a trail key file; keep it safe and back it up with the data",
                        extra={"path": str(path)})
        except FileExistsError:
            pass
    finally:
        scratch.unlink(missing_ok=True)


class HashChainMixin(TableMixin):
    """An append-only trail table; the subclass names it with __tablename__."""

    __tablename__: ClassVar[str]

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    chain_key: Mapped[str] = mapped_column(String(64))
    # 1, 2, 3, ... within a chain.
    sequence: Mapped[int] = mapped_column(Integer)
    record: Mapped[str] = mapped_column(Text)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # The id of the key the hash was sealed with (TrailKeys); never NULL for records written now.
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[UniqueConstraint]:
        # Also the last line of defence against a fork: a second record with the same sequence
        # cannot be stored, whatever the locking did.
        return (UniqueConstraint("chain_key", "sequence", name=f"ux_{cls.__tablename__}_chain_sequence"),)


class AppendOnly(RuntimeError):
    """Code tried to change or delete a trail record through the ORM."""


@event.listens_for(Session, "before_flush")
def _refuse_rewriting_trails(session: Session, _flush_context: object, _instances: object) -> None:
    """Trails are append-only for this code base: a changed or deleted record is refused before it
    reaches the store. (Whoever edits the table directly is what `verify` is for.)"""
    for record in session.deleted:
        if isinstance(record, HashChainMixin):
            raise AppendOnly(f"trail record {record.chain_key}#{record.sequence} cannot be deleted")
    for record in session.dirty:
        if isinstance(record, HashChainMixin) and session.is_modified(record):
            raise AppendOnly(f"trail record {record.chain_key}#{record.sequence} cannot be changed")


@dataclass(frozen=True)
class Appended:
    """A record as appended: the trail row's values; `hash` is the chain's new head."""

    id: int
    chain_key: str
    sequence: int
    record: str
    previous_hash: str
    hash: str
    key_id: str


def append(session: Session, model: type[HashChainMixin], chain_key: str, record: Mapping[str, Any],
           keys: TrailKeys) -> Appended:
    """Adds `record` at the head of the chain `chain_key`, sealed with the active key, in the caller's
    transaction."""
    canonical = canonical_json(record)
    _lock_chain(session, model, chain_key)
    head_query, insert_record = _statements(model)
    # Core on the session's connection, not the ORM: loading the head as an object and flushing a
    # new one cost some 0.64 ms of CPU per append against 0.14 ms for these two statements.
    connection = session.connection()
    head = connection.execute(head_query, {"chain_key": chain_key}).first()
    previous_hash = head.hash if head is not None else GENESIS
    sequence = head.sequence + 1 if head is not None else 1
    sealed = keys.seal(keys.active_id, previous_hash, canonical)
    values = {"chain_key": chain_key, "sequence": sequence, "record": canonical, "previous_hash": previous_hash,
              "hash": sealed, "key_id": keys.active_id}
    inserted = connection.execute(insert_record, values).inserted_primary_key
    assert inserted is not None  # a single-row insert always has its key
    return Appended(id=int(inserted[0]), chain_key=chain_key, sequence=sequence, record=canonical,
                    previous_hash=previous_hash, hash=sealed, key_id=keys.active_id)


_STATEMENTS: dict[type[HashChainMixin], tuple[Select[int, str], Insert]] = {}


def _statements(model: type[HashChainMixin]) -> tuple[Select[int, str], Insert]:
    """A chain's head and a record's insert for one trail table, built once."""
    statements = _STATEMENTS.get(model)
    if statements is None:
        table = table_of(model)
        head = (select(table.c.sequence, table.c.hash).where(table.c.chain_key == bindparam("chain_key"))
                .order_by(table.c.sequence.desc()).limit(1))
        statements = _STATEMENTS[model] = (head, insert(table))
    return statements


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
    """What verifying one chain found: how many records were read, the head, the first break if any."""

    chain_key: str
    records_checked: int
    # The hash of the last record read (GENESIS for an empty chain).
    head: str
    first_break: Break | None

    @property
    def intact(self) -> bool:
        """Whether every record of the chain verified."""
        return self.first_break is None


def verify(session: Session, model: type[HashChainMixin], chain_key: str, keys: TrailKeys, *,
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
        found = _check(row, expected_sequence, previous_hash, keys)
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


def _check(row: HashChainMixin, expected_sequence: int, previous_hash: str, keys: TrailKeys) -> Break | None:
    if row.sequence != expected_sequence:
        return Break(row.sequence, row.id, SEQUENCE,
                     f"record {row.sequence} stands where record {expected_sequence} should: "
                     "a record is missing or the records were renumbered")
    if row.previous_hash != previous_hash:
        before = f"record {row.sequence - 1}" if row.sequence > 1 else "the start of the trail"
        return Break(row.sequence, row.id, LINK,
                     f"record {row.sequence} does not link to {before}: "
                     f"{before} was altered or the records were reordered")
    if row.key_id is None:
        return Break(row.sequence, row.id, UNKEYED,
                     f"record {row.sequence} carries no key id: unkeyed records are not accepted since trails "
                     "were keyed (it was forged, or it was written before and did not verify when sealed)")
    if row.key_id not in keys.keys:
        return Break(row.sequence, row.id, UNKNOWN_KEY,
                     f"record {row.sequence} is sealed with key id {row.key_id!r}, which is not among this "
                     "process's trail keys: the key was retired too early, or the key id was altered")
    if not hmac.compare_digest(keys.seal(row.key_id, row.previous_hash, row.record), row.hash):
        return Break(row.sequence, row.id, CONTENT,
                     f"record {row.sequence}'s stored hash does not match its content under key "
                     f"{row.key_id!r}: the record or its hash was altered")
    return None


@dataclass(frozen=True)
class Trail:
    """One kind of trail a service keeps: its table, and the heads its owners stored when they last
    appended (chain key -> head), so that a trail cut short or removed entirely is found too."""

    model: type[HashChainMixin]
    heads: Callable[[Session], Mapping[str, str]]


def verify_trails(session: Session, trail: Trail, keys: TrailKeys, chain_key: str | None = None) -> list[Verification]:
    """Every chain of the trail (or the one named), in chain key order: each in the table, and each an
    owner remembers a head for although its records are gone."""
    heads = trail.heads(session)
    stored = set(session.scalars(select(trail.model.chain_key).distinct()))
    owned = {key for key, head in heads.items() if head != GENESIS}
    keys_to_check = sorted(stored | owned) if chain_key is None else [chain_key] if chain_key in stored | owned else []
    return [verify(session, trail.model, key, keys, expected_head=heads.get(key)) for key in keys_to_check]


def seal_legacy_records(connection: Connection, table: str, owners: list[tuple[str, str]],
                        load_keys: Callable[[], TrailKeys]) -> None:
    """Seals a trail's unkeyed records with the active key, once, when the key id column is added.

    `owners`: (table, chain key prefix) of each table whose rows store a chain's head in `trail_head`
    (the chain key is prefix + the owner's id). A chain is sealed only if it verifies under the old
    unkeyed scheme, its head included; a chain that does not is left unkeyed, so verification keeps
    reporting it broken. The keys are loaded only when there is something to seal.
    """
    rows = connection.execute(text(
        f'SELECT id, chain_key, sequence, record, previous_hash, hash FROM "{table}" WHERE key_id IS NULL '
        "ORDER BY chain_key, sequence, id")).all()
    if not rows:
        return
    keys = load_keys()
    heads: dict[str, tuple[str, str, str]] = {}  # chain key -> (owner table, owner id, stored head)
    for owner_table, prefix in owners:
        for owner_id, head in connection.execute(text(f'SELECT id, trail_head FROM "{owner_table}"')):
            heads[f"{prefix}{owner_id}"] = (owner_table, owner_id, head)
    chains: dict[str, list[Row[Any]]] = {}
    for row in rows:
        chains.setdefault(row.chain_key, []).append(row)
    sealed, refused = 0, []
    for chain_key, chain in chains.items():
        owner = heads.get(chain_key)
        if not _legacy_intact(chain, owner[2] if owner else None):
            refused.append(chain_key)
            continue
        previous = GENESIS
        for row in chain:
            digest = keys.seal(keys.active_id, previous, row.record)
            connection.execute(text(f'UPDATE "{table}" SET previous_hash = :previous, hash = :hash, '
                                    "key_id = :key_id WHERE id = :id"),
                               {"previous": previous, "hash": digest, "key_id": keys.active_id, "id": row.id})
            previous = digest
        if owner:
            connection.execute(text(f'UPDATE "{owner[0]}" SET trail_head = :head WHERE id = :id'),
                               {"head": previous, "id": owner[1]})
        sealed += 1
    log.warning("sealed the unkeyed trail records written before trails were keyed", extra={
        "table": table, "key_id": keys.active_id, "chains_sealed": sealed, "records": len(rows),
        "chains_not_verifying": len(refused), "not_verifying": refused[:20]})


def _legacy_intact(chain: list[Row[Any]], expected_head: str | None) -> bool:
    previous = GENESIS
    for expected_sequence, row in enumerate(chain, start=1):
        if row.sequence != expected_sequence or row.previous_hash != previous or \
                chain_hash(row.previous_hash, row.record) != row.hash:
            return False
        previous = row.hash
    return expected_head is None or previous == expected_head
