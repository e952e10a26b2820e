"""Keyed trails: records are sealed with HMAC-SHA256 under a key held outside the database, so someone
who can write to the database but lacks the key cannot rewrite a record, re-hash the rest and move
the owner's head without the rewritten record being named. Also: key rotation, unknown key ids, the
one-time sealing of records written before trails were keyed, the key settings and key file, and what
the `verify-trails` command runs (the command as a process: tests/integration/test_verify_trails_command.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import String, create_engine, delete, select, text, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common import migrate, trail_check
from services.common.config import ConfigError, Settings
from services.common.db import Store
from services.common.hash_chain import (
    CONTENT,
    GENESIS,
    KEY_FILE,
    TRUNCATED,
    UNKEYED,
    UNKNOWN_KEY,
    HashChainMixin,
    Trail,
    TrailKeys,
    append,
    canonical_json,
    chain_hash,
    keyed_hash,
    seal_legacy_records,
    verify,
    verify_trails,
)

OLD_KEY, NEW_KEY = b"o" * 32, b"n" * 32
KEYS = TrailKeys({"2025": OLD_KEY}, "2025")
ROTATED = TrailKeys({"2025": OLD_KEY, "2026": NEW_KEY}, "2026")


class Base(DeclarativeBase):
    pass


class Ledger(HashChainMixin, Base):
    __tablename__ = "ledger"


class Owner(Base):
    """What owns a trail and remembers its head (a custody item, a case)."""

    __tablename__ = "owners"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    trail_head: Mapped[str] = mapped_column(String(64))


@pytest.fixture
def store(tmp_path):
    opened = Store(f"sqlite:///{tmp_path / 'ledger.db'}")
    Base.metadata.create_all(opened.engine)
    yield opened
    opened.dispose()


def write(store: Store, chain_key: str, keys: TrailKeys, *records: dict) -> list[Ledger]:
    """Appends the records and, like a trail's owner, stores the new head."""
    with store.transaction() as session:
        rows = [append(session, Ledger, chain_key, record, keys) for record in records]
        owner = session.get(Owner, chain_key) or Owner(id=chain_key, trail_head=GENESIS)
        owner.trail_head = rows[-1].hash
        session.add(owner)
        return rows


def head(store: Store, chain_key: str) -> str:
    with store.read() as session:
        return session.get(Owner, chain_key).trail_head


def check(store: Store, chain_key: str, keys: TrailKeys = KEYS):
    with store.read() as session:
        return verify(session, Ledger, chain_key, keys, expected_head=session.get(Owner, chain_key).trail_head)


def steps(n: int) -> list[dict]:
    return [{"step": f"move-{i}", "location": f"货架{i}", "signed_by": ["MH01-01", "MH01-02"]} for i in range(1, n + 1)]


def test_a_record_is_sealed_with_hmac_sha256_of_the_previous_hash_and_its_json(store):
    expected = hmac.new(b"o" * 32, b"0" * 64 + '{"a":"闵行"}'.encode(), hashlib.sha256).hexdigest()
    assert keyed_hash(OLD_KEY, GENESIS, '{"a":"闵行"}') == expected
    # A fixed vector: the same record must seal the same in every version of this code.
    assert keyed_hash(OLD_KEY, GENESIS, canonical_json({"b": 1, "a": "闵行"})) == \
        "68e12508a0de4f6f39c86a78069219209521b523590d617e0b89d625e1d679f0"
    rows = write(store, "item-1", KEYS, *steps(2))
    assert [r.key_id for r in rows] == ["2025", "2025"]
    assert rows[1].hash == keyed_hash(OLD_KEY, rows[0].hash, canonical_json(steps(2)[1]))
    assert rows[1].hash != chain_hash(rows[0].hash, canonical_json(steps(2)[1]))
    assert check(store, "item-1").intact


def test_records_under_a_retired_key_and_the_active_one_verify_together(store):
    write(store, "item-1", KEYS, *steps(2))
    rows = write(store, "item-1", ROTATED, *steps(2))
    with store.read() as session:
        key_ids = session.scalars(select(Ledger.key_id).order_by(Ledger.sequence)).all()
    assert key_ids == ["2025", "2025", "2026", "2026"]
    result = check(store, "item-1", ROTATED)
    assert result.intact and result.records_checked == 4 and result.head == rows[-1].hash
    # Without the key a record names, that record cannot be confirmed, and it is said why.
    found = check(store, "item-1", TrailKeys({"2026": NEW_KEY}, "2026")).first_break
    assert (found.sequence, found.problem) == (1, UNKNOWN_KEY) and "'2025'" in found.detail
    found = check(store, "item-1", KEYS).first_break
    assert (found.sequence, found.record_id, found.problem) == (3, rows[0].id, UNKNOWN_KEY)


def test_a_record_naming_a_key_id_no_one_holds_is_reported_as_such(store):
    rows = write(store, "item-1", KEYS, *steps(3))
    with store.transaction() as session:
        session.execute(update(Ledger).where(Ledger.id == rows[1].id).values(key_id="2099"))
    found = check(store, "item-1").first_break
    assert (found.sequence, found.record_id, found.problem) == (2, rows[1].id, UNKNOWN_KEY)
    assert "2099" in found.detail


def _sha256(previous: str, record: str, _key_id: str | None) -> tuple[str, str | None]:
    return chain_hash(previous, record), _key_id


def _sha256_without_key_id(previous: str, record: str, _key_id: str | None) -> tuple[str, str | None]:
    return chain_hash(previous, record), None


def _guessed_key(previous: str, record: str, key_id: str | None) -> tuple[str, str | None]:
    return keyed_hash(b"\0" * 32, previous, record), key_id


def _guessed_key_and_id(previous: str, record: str, _key_id: str | None) -> tuple[str, str | None]:
    return keyed_hash(b"guess" * 8, previous, record), "attacker"


@pytest.mark.parametrize(("rehash", "problem"), [
    (_sha256, CONTENT), (_sha256_without_key_id, UNKEYED), (_guessed_key, CONTENT),
    (_guessed_key_and_id, UNKNOWN_KEY)],
    ids=["plain sha-256", "plain sha-256, key id removed", "hmac with a guessed key", "guessed key under its own id"])
def test_a_rewritten_record_with_the_rest_rehashed_and_the_head_moved_is_named(store, rehash, problem):
    """The attack the key exists for: change record 2 of 5, recompute every later hash and link the way
    someone without the key can, and store the forged head in the owner."""
    rows = write(store, "item-1", KEYS, *steps(5))
    write(store, "item-2", KEYS, *steps(2))
    with store.transaction() as session:
        chain = session.scalars(select(Ledger).where(Ledger.chain_key == "item-1").order_by(Ledger.sequence)).all()
        forged = [(r.id, r.record, r.key_id) for r in chain]
        forged[1] = (forged[1][0], canonical_json({**steps(5)[1], "location": "门外"}), forged[1][2])
    previous = rows[0].hash
    with store.transaction() as session:
        for row_id, record, key_id in forged[1:]:
            digest, new_key_id = rehash(previous, record, key_id)
            session.execute(update(Ledger).where(Ledger.id == row_id).values(
                record=record, previous_hash=previous, hash=digest, key_id=new_key_id))
            previous = digest
        session.execute(update(Owner).where(Owner.id == "item-1").values(trail_head=previous))
    result = check(store, "item-1")
    assert not result.intact
    assert (result.first_break.sequence, result.first_break.record_id, result.first_break.problem) == \
        (2, rows[1].id, problem)
    assert result.records_checked == 1
    assert check(store, "item-2").intact


def _legacy_chain(connection, chain_key: str, records: list[dict]) -> str:
    """Rows as written before trails were keyed: SHA-256 and no key id; returns the head."""
    previous = GENESIS
    for sequence, record in enumerate(records, start=1):
        canonical = canonical_json(record)
        digest = chain_hash(previous, canonical)
        connection.execute(text("INSERT INTO ledger (chain_key, sequence, record, previous_hash, hash) "
                                "VALUES (:k, :s, :r, :p, :h)"),
                           {"k": chain_key, "s": sequence, "r": canonical, "p": previous, "h": digest})
        previous = digest
    return previous


def test_legacy_records_are_sealed_once_and_unkeyed_ones_refused_afterwards(store):
    with store.engine.begin() as connection:
        for key, n in (("item-1", 3), ("item-2", 2), ("item-3", 2)):
            connection.execute(text("INSERT INTO owners (id, trail_head) VALUES (:id, :h)"),
                               {"id": key, "h": _legacy_chain(connection, key, steps(n))})
        # A legacy chain that no longer verifies (record changed, head not) must not be sealed.
        connection.execute(text("UPDATE ledger SET record = :r WHERE chain_key = 'item-2' AND sequence = 2"),
                           {"r": canonical_json({"step": "forged"})})
        # Nor one whose owner remembers a longer trail.
        connection.execute(text("DELETE FROM ledger WHERE chain_key = 'item-3' AND sequence = 2"))
    found = check(store, "item-1").first_break
    assert (found.sequence, found.problem) == (1, UNKEYED)

    loads = []
    with store.engine.begin() as connection:
        seal_legacy_records(connection, "ledger", [("owners", "")], lambda: loads.append(1) or KEYS)
    assert loads == [1]
    sealed = check(store, "item-1")
    assert sealed.intact and sealed.records_checked == 3 and sealed.head == head(store, "item-1")
    with store.read() as session:
        assert set(session.scalars(select(Ledger.key_id).where(Ledger.chain_key == "item-1"))) == {"2025"}
    for refused in ("item-2", "item-3"):
        assert (check(store, refused).first_break.sequence, check(store, refused).first_break.problem) == \
            (1, UNKEYED)
    # A chain extended after sealing still verifies.
    write(store, "item-1", KEYS, {"step": "dispose"})
    assert check(store, "item-1").intact

    # After sealing, writing records in the old unkeyed form is refused, however consistent they are.
    with store.engine.begin() as connection:
        connection.execute(delete(Ledger).where(Ledger.chain_key == "item-1"))
        forged_head = _legacy_chain(connection, "item-1", [{"step": "forged"}, *steps(3)])
        connection.execute(update(Owner).where(Owner.id == "item-1").values(trail_head=forged_head))
    found = check(store, "item-1").first_break
    assert (found.sequence, found.problem) == (1, UNKEYED)
    # Sealing has nothing to do without unkeyed records, and never needs the keys then.
    with store.engine.begin() as connection:
        connection.execute(delete(Ledger).where(Ledger.key_id.is_(None)))
        seal_legacy_records(connection, "ledger", [("owners", "")], lambda: pytest.fail("keys loaded"))


def test_the_trail_migration_seals_the_custody_records_written_before_it(tmp_path, monkeypatch):
    """facilities' migration 0004 on a store holding a custody trail written by the unkeyed code."""
    url = f"sqlite:///{tmp_path / 'facilities.db'}"
    migrations = Path(__file__).resolve().parents[3] / "services" / "facilities" / "migrations"
    migrate.upgrade("facilities", migrations, url, "0003")
    engine = create_engine(url)
    with engine.begin() as connection:
        previous = GENESIS
        for sequence, record in enumerate(steps(3), start=1):
            canonical = canonical_json(record)
            digest = chain_hash(previous, canonical)
            connection.execute(text("INSERT INTO custody_trail (chain_key, sequence, record, previous_hash, hash) "
                                    "VALUES ('item-1', :s, :r, :p, :h)"),
                               {"s": sequence, "r": canonical, "p": previous, "h": digest})
            previous = digest
        connection.execute(text(
            "INSERT INTO custody_items (id, office_id, case_id, description, quantity, unit, location, state, "
            "created_at, trail_length, trail_head, version) VALUES ('item-1', 'MH01', 'C1', '货', 1, '件', "
            "'A', 'IN_STORE', '2026-12-01 00:00:00.000000', 3, :head, 3)"), {"head": previous})
    engine.dispose()
    monkeypatch.setenv("TRAIL_KEYS", f"2025:{base64.b64encode(OLD_KEY).decode()}")
    monkeypatch.delenv("TRAIL_ACTIVE_KEY_ID", raising=False)
    migrate.upgrade("facilities", migrations, url)

    from services.facilities.models import CustodyItem, CustodyRecord

    opened = Store(url)
    try:
        with opened.read() as session:
            item = session.get(CustodyItem, "item-1")
            assert item.trail_head != previous
            result = verify(session, CustodyRecord, "item-1", KEYS, expected_head=item.trail_head)
            assert result.intact and result.records_checked == 3
            assert set(session.scalars(select(CustodyRecord.key_id))) == {"2025"}
    finally:
        opened.dispose()


# ---------------------------------------------------------------------------------- keys and settings


def encoded(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_trail_keys_come_from_the_environment():
    settings = Settings.from_env({"TRAIL_KEYS": f"2025:{encoded(OLD_KEY)}, 2026:{encoded(NEW_KEY)}",
                                  "TRAIL_ACTIVE_KEY_ID": "2026"})
    keys = TrailKeys.from_settings(settings)
    assert keys.keys == {"2025": OLD_KEY, "2026": NEW_KEY} and keys.active_id == "2026"
    assert encoded(OLD_KEY) not in repr(settings) and encoded(OLD_KEY) not in repr(keys)
    single = Settings.from_env({"TRAIL_KEYS": f"only:{encoded(OLD_KEY)}"})
    assert single.trail_active_key_id == "only"


@pytest.mark.parametrize(("env", "named"), [
    ({"TRAIL_KEYS": "2025:not*base64"}, "not valid base64"),
    ({"TRAIL_KEYS": f"2025:{encoded(b'short' * 4)}"}, "20 bytes"),
    ({"TRAIL_KEYS": encoded(OLD_KEY)}, "is not `id:base64key`"),
    ({"TRAIL_KEYS": f"a:{encoded(OLD_KEY)},a:{encoded(NEW_KEY)}"}, "twice"),
    ({"TRAIL_KEYS": f"a:{encoded(OLD_KEY)}", "TRAIL_ACTIVE_KEY_ID": "b"}, "TRAIL_ACTIVE_KEY_ID='b' is not among"),
    ({"TRAIL_KEYS": f"a:{encoded(OLD_KEY)},b:{encoded(NEW_KEY)}"}, "TRAIL_ACTIVE_KEY_ID must name"),
    ({"TRAIL_ACTIVE_KEY_ID": "a"}, "TRAIL_KEYS is empty"),
])
def test_bad_trail_keys_stop_the_process_naming_the_variable(env, named):
    with pytest.raises(ConfigError, match="TRAIL_") as raised:
        Settings.from_env(env)
    assert named in str(raised.value)
    assert encoded(OLD_KEY) not in str(raised.value) and encoded(NEW_KEY) not in str(raised.value)


def test_without_trail_keys_a_key_file_is_made_once_under_the_data_dir(tmp_path):
    settings = Settings.from_env({"DATA_DIR": str(tmp_path / "data")})
    first = TrailKeys.from_settings(settings)
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.keys[first.active_id]) == 32
    assert TrailKeys.from_settings(settings) == first  # read back, not made again
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE]
    # Rotation by hand: a line appended becomes the active key; the old one still verifies.
    with path.open("a") as handle:
        handle.write(f"local-2:{encoded(NEW_KEY)}\n")
    rotated = TrailKeys.from_settings(settings)
    assert rotated.active_id == "local-2" and rotated.keys[first.active_id] == first.keys[first.active_id]
    path.write_text("local-1:short\n")
    with pytest.raises(ConfigError, match=str(path)):
        TrailKeys.from_settings(settings)


def test_a_key_file_readable_by_others_is_warned_about(tmp_path, caplog):
    path = tmp_path / KEY_FILE
    path.write_text(f"k:{encoded(OLD_KEY)}\n")
    os.chmod(path, 0o644)
    assert TrailKeys.from_key_file(path).active_id == "k"
    assert "mode 0600" in caplog.text


# ---------------------------------------------------------------------------------- verify-trails


def runtime_for(store: Store, keys: TrailKeys = KEYS) -> SimpleNamespace:
    heads = Trail(Ledger, lambda session: dict(session.execute(select(Owner.id, Owner.trail_head)).all()))
    return SimpleNamespace(name="ledger_service", store=store, trails=[heads], trail_keys=keys)


def test_verify_trails_prints_each_broken_trail_with_its_first_broken_record(store):
    write(store, "item-1", KEYS, *steps(3))
    rows = write(store, "item-2", KEYS, *steps(3))
    write(store, "item-3", KEYS, *steps(2))
    out = io.StringIO()
    assert trail_check.run(runtime_for(store), out=out) == 0
    assert "3 trail(s) checked, 0 broken" in out.getvalue()

    with store.transaction() as session:
        session.execute(update(Ledger).where(Ledger.id == rows[1].id)
                        .values(record=canonical_json({"step": "forged"}), hash=chain_hash(rows[0].hash, "{}")))
        session.execute(delete(Ledger).where(Ledger.chain_key == "item-3"))  # a whole trail removed
    out = io.StringIO()
    assert trail_check.run(runtime_for(store), out=out) == 1
    lines = out.getvalue().splitlines()
    assert any(f"ledger item-2: broken at record 2 (row {rows[1].id}): {CONTENT}" in line for line in lines), lines
    assert any(f"ledger item-3: broken at record 1: {TRUNCATED}" in line for line in lines), lines
    assert not any("item-1:" in line for line in lines)
    assert "3 trail(s) checked, 2 broken" in lines[-1]

    out = io.StringIO()
    assert trail_check.run(runtime_for(store), "item-1", out=out) == 0
    assert trail_check.run(runtime_for(store), "item-2", out=io.StringIO()) == 1
    assert trail_check.run(runtime_for(store), "nothing", out=out) == 1
    assert "no evidence trail 'nothing'" in out.getvalue()
    with store.read() as session:
        assert [v.chain_key for v in verify_trails(session, runtime_for(store).trails[0], KEYS)] == \
            ["item-1", "item-2", "item-3"]


def test_verify_trails_on_a_service_without_trails_says_so():
    out = io.StringIO()
    assert trail_check.run(SimpleNamespace(name="complaints", trails=[], trail_keys=None), out=out) == 2
    assert "keeps no evidence trails" in out.getvalue()
