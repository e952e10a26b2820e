"""The hash-chained audit trail on a real SQLite file: every kind of tampering is detected and the record
it starts at is named. (Keys, rotation and rewrites by someone without the key: test_hash_chain_keys.py;
concurrent appends on PostgreSQL: tests/integration/test_hash_chain_postgres.py.)"""

from __future__ import annotations

import hashlib
import threading

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import DeclarativeBase

from services.common.db import Store
from services.common.hash_chain import (
    CONTENT,
    GENESIS,
    LINK,
    SEQUENCE,
    TRUNCATED,
    AppendOnly,
    HashChainMixin,
    TrailKeys,
    append,
    canonical_json,
    chain_hash,
    keyed_hash,
    verify,
)

KEYS = TrailKeys({"k1": b"k" * 32}, "k1")


class Base(DeclarativeBase):
    pass


class Trail(HashChainMixin, Base):
    __tablename__ = "trail"


@pytest.fixture
def trail_store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'trail.db'}")
    Base.metadata.create_all(store.engine)
    yield store
    store.dispose()


def write(store: Store, chain_key: str, *records: dict) -> list[Trail]:
    with store.transaction() as session:
        return [append(session, Trail, chain_key, record, KEYS) for record in records]


def check(store: Store, chain_key: str, **options):
    with store.read() as session:
        return verify(session, Trail, chain_key, KEYS, **options)


def steps(n: int) -> list[dict]:
    return [{"step": f"move-{i}", "location": f"货架{i}", "signed_by": ["MH01-01", "MH01-02"]} for i in range(1, n + 1)]


def test_canonical_json_is_sorted_compact_utf8():
    assert canonical_json({"b": 1, "a": {"z": [1.5, None], "y": "闵行"}}) == '{"a":{"y":"闵行","z":[1.5,null]},"b":1}'
    expected = hashlib.sha256(b"0" * 64 + '{"a":"闵行"}'.encode()).hexdigest()
    assert chain_hash(GENESIS, '{"a":"闵行"}') == expected
    # A fixed vector: the same record must hash the same in every version of this code.
    assert chain_hash(GENESIS, canonical_json({"b": 1, "a": "闵行"})) == \
        "4fef65526495e68d5b54970b8493192bd6d99cd9eddbb2f017583ce957e1227c"


@pytest.mark.parametrize("record", [{"reading": float("nan")}, {"at": object()}])
def test_records_that_have_no_canonical_form_are_refused(trail_store, record):
    with pytest.raises((ValueError, TypeError)):
        write(trail_store, "item-1", record)
    assert check(trail_store, "item-1").records_checked == 0


def test_appends_link_each_record_to_the_one_before(trail_store):
    rows = write(trail_store, "item-1", *steps(3))
    assert [r.sequence for r in rows] == [1, 2, 3]
    assert rows[0].previous_hash == GENESIS
    assert [r.previous_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert rows[1].hash == keyed_hash(b"k" * 32, rows[0].hash, canonical_json(steps(3)[1]))
    assert {r.key_id for r in rows} == {"k1"}
    result = check(trail_store, "item-1", expected_head=rows[-1].hash)
    assert result.intact and result.records_checked == 3 and result.head == rows[-1].hash


def test_chains_are_independent(trail_store):
    write(trail_store, "item-1", *steps(2))
    write(trail_store, "item-2", *steps(1))
    more = write(trail_store, "item-1", {"step": "dispose"})
    assert more[0].sequence == 3
    with trail_store.read() as session:
        assert session.scalars(select(Trail.sequence).where(Trail.chain_key == "item-2")).all() == [1]
    assert check(trail_store, "item-1").intact and check(trail_store, "item-2").intact


def test_an_append_rolls_back_with_the_callers_transaction(trail_store):
    write(trail_store, "item-1", *steps(1))
    with pytest.raises(RuntimeError), trail_store.transaction() as session:
        append(session, Trail, "item-1", {"step": "move"}, KEYS)
        raise RuntimeError("the change it records failed")
    assert check(trail_store, "item-1").records_checked == 1
    assert write(trail_store, "item-1", {"step": "move"})[0].sequence == 2


def test_the_orm_refuses_to_change_or_delete_a_record(trail_store):
    write(trail_store, "item-1", *steps(2))
    with pytest.raises(AppendOnly, match="cannot be changed"), trail_store.transaction() as session:
        row = session.scalar(select(Trail).where(Trail.sequence == 1))
        row.record = canonical_json({"step": "forged"})
    with pytest.raises(AppendOnly, match="cannot be deleted"), trail_store.transaction() as session:
        session.delete(session.scalar(select(Trail).where(Trail.sequence == 2)))
    assert check(trail_store, "item-1").intact and check(trail_store, "item-1").records_checked == 2


def tamper(store: Store, statement) -> None:
    """What the ORM guard cannot stop: someone with access to the table editing it directly."""
    with store.transaction() as session:
        session.execute(statement)


def row_id(store: Store, chain_key: str, sequence: int) -> int:
    with store.read() as session:
        return session.scalar(select(Trail.id).where(Trail.chain_key == chain_key, Trail.sequence == sequence))


def test_altered_content_is_named(trail_store):
    write(trail_store, "item-1", *steps(4))
    write(trail_store, "item-2", *steps(2))
    target = row_id(trail_store, "item-1", 2)
    tamper(trail_store, update(Trail).where(Trail.id == target)
           .values(record=canonical_json({**steps(4)[1], "location": "门外"})))
    result = check(trail_store, "item-1")
    assert not result.intact
    assert (result.first_break.sequence, result.first_break.record_id, result.first_break.problem) == \
        (2, target, CONTENT)
    assert result.records_checked == 1
    assert check(trail_store, "item-2").intact


def test_altered_hash_is_named(trail_store):
    write(trail_store, "item-1", *steps(3))
    target = row_id(trail_store, "item-1", 3)
    tamper(trail_store, update(Trail).where(Trail.id == target).values(hash="f" * 64))
    found = check(trail_store, "item-1").first_break
    assert (found.sequence, found.record_id, found.problem) == (3, target, CONTENT)


def test_altered_content_with_a_recomputed_hash_breaks_the_next_link(trail_store):
    """Even whoever holds the key cannot change one record alone: the next one links to the old hash."""
    rows = write(trail_store, "item-1", *steps(3))
    forged = canonical_json({"step": "move-2", "location": "门外"})
    tamper(trail_store, update(Trail).where(Trail.id == rows[1].id)
           .values(record=forged, hash=keyed_hash(b"k" * 32, rows[1].previous_hash, forged)))
    found = check(trail_store, "item-1").first_break
    assert (found.sequence, found.record_id, found.problem) == (3, rows[2].id, LINK)
    assert "record 2" in found.detail


def test_a_deleted_record_is_named_by_the_one_after_the_gap(trail_store):
    rows = write(trail_store, "item-1", *steps(4))
    tamper(trail_store, delete(Trail).where(Trail.id == rows[1].id))
    found = check(trail_store, "item-1").first_break
    assert (found.sequence, found.record_id, found.problem) == (3, rows[2].id, SEQUENCE)


def test_deleting_the_newest_records_is_found_against_the_owners_head(trail_store):
    rows = write(trail_store, "item-1", *steps(3))
    tamper(trail_store, delete(Trail).where(Trail.id == rows[2].id))
    assert check(trail_store, "item-1").intact  # the chain alone cannot know it was longer
    result = check(trail_store, "item-1", expected_head=rows[2].hash)
    assert (result.first_break.sequence, result.first_break.record_id, result.first_break.problem) == \
        (3, 0, TRUNCATED)
    assert result.records_checked == 2


def test_reordered_records_are_named(trail_store):
    rows = write(trail_store, "item-1", *steps(3))
    # Swap records 2 and 3 (through a free number: the pair is unique per chain).
    tamper(trail_store, update(Trail).where(Trail.id == rows[1].id).values(sequence=99))
    tamper(trail_store, update(Trail).where(Trail.id == rows[2].id).values(sequence=2))
    tamper(trail_store, update(Trail).where(Trail.id == rows[1].id).values(sequence=3))
    found = check(trail_store, "item-1").first_break
    assert (found.sequence, found.record_id, found.problem) == (2, rows[2].id, LINK)


def test_a_renumbered_first_record_is_named(trail_store):
    rows = write(trail_store, "item-1", *steps(2))
    tamper(trail_store, update(Trail).where(Trail.id == rows[0].id).values(sequence=0))
    found = check(trail_store, "item-1").first_break
    assert (found.sequence, found.problem) == (0, SEQUENCE)


def test_concurrent_appends_on_sqlite_never_fork(trail_store):
    errors: list[BaseException] = []

    def appender(worker: int) -> None:
        try:
            for n in range(10):
                write(trail_store, "item-1", {"worker": worker, "n": n})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=appender, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = check(trail_store, "item-1")
    assert result.intact and result.records_checked == 40
