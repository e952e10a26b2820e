"""Evidence trails (services/common/hash_chain.py) detect tampering, through each service's own
verification method, through hash_chain.verify and through `python -m services.<service> verify-trails`.

The trails are found, not listed: every model of every service that is a HashChainMixin table, and,
per service, the method that verifies one trail (a method named Verify* whose answer says `intact`,
given the trail's key). On a copy of the seeded store, behind a real `serve` process, every trail of
the demo district must verify; then each trail of a few is tampered with directly in PostgreSQL (what
the ORM refuses to do), in every way below, and must be reported broken; then it is restored and must
verify again. Then the attack the trail key is for: a record rewritten and every later record
re-hashed, with the owner's head moved to the forged end, by someone who can write to the database
but does not hold the key (so re-hashes as the old unkeyed scheme did, or with a guessed key): the
service and the command must name the rewritten record.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import subprocess
import sys

import psycopg
import pytest
from google.protobuf.descriptor import FieldDescriptor
from sqlalchemy import select

from services.common import hash_chain
from services.common.config import Settings
from services.common.db import Store
from tests.reliability import catalog, stats
from tests.reliability.cluster import ROOT, plain_url, query
from tests.reliability.district import invoke
from tests.reliability.processes import TRAIL_KEY_SETTINGS, base_env

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.timeout(180)]


def trail_models(service: str) -> list[type]:
    module = importlib.import_module(f"services.{service}.models")
    return [m for m in vars(module).values() if isinstance(m, type) and issubclass(m, hash_chain.HashChainMixin)
            and m is not hash_chain.HashChainMixin and hasattr(m, "__tablename__")]


# The suite's trail key (every process of it is given the same: processes.base_env).
KEYS = hash_chain.TrailKeys.from_settings(Settings.from_env(TRAIL_KEY_SETTINGS))

TRAILS = [(service, model) for service in catalog.service_names() for model in trail_models(service)]


def verifiers(service: str) -> list[catalog.Method]:
    return [m for m in catalog.spec(service).methods if m.name.startswith("Verify") and not m.server_streaming
            and "intact" in m.output.fields_by_name
            and any(f.type == FieldDescriptor.TYPE_STRING for f in m.input.fields)]


def ask(channel, method: catalog.Method, chain_key: str):
    request = method.request_class()
    for field in method.input.fields:
        if field.type == FieldDescriptor.TYPE_STRING and not field.is_repeated:
            setattr(request, field.name, chain_key)
    return invoke(channel, method, request)


def _rehash(record: str, previous: str) -> str:
    """What someone without the key can compute: the unkeyed SHA-256 of the scheme before keys."""
    return hashlib.sha256(previous.encode("ascii") + record.encode("utf-8")).hexdigest()


def tampering(rows: list[tuple]) -> dict[str, tuple[list[str], str]]:
    """name -> (SQL statements on the trail table, the problem hash_chain.verify must name). `rows`: the
    chain as (id, sequence, record, previous_hash, hash, key_id), in order; at least two records."""
    k = 1 if len(rows) == 2 else len(rows) // 2  # a record in the middle (0-based)
    row_id, _, record, previous, _, _ = rows[k]
    altered = json.loads(record)
    altered["note"] = f"{altered.get('note', '')}（改）"
    forged = hash_chain.canonical_json(altered)
    last_id = rows[-1][0]
    cases = {
        "a record's content changed": ([f"UPDATE {{t}} SET record = %s WHERE id = {row_id}"], hash_chain.CONTENT,
                                       (forged,)),
        "a record's content changed and its hash recomputed without the key": (
            [f"UPDATE {{t}} SET record = %s, hash = '{_rehash(forged, previous)}' WHERE id = {row_id}"],
            hash_chain.CONTENT, (forged,)),
        "a record's link changed": ([f"UPDATE {{t}} SET previous_hash = '{'f' * 64}' WHERE id = {row_id}"],
                                    hash_chain.LINK, ()),
        "a record's hash changed": ([f"UPDATE {{t}} SET hash = '{'0' * 63}1' WHERE id = {row_id}"],
                                    hash_chain.CONTENT, ()),
        "a record removed": ([f"DELETE FROM {{t}} WHERE id = {row_id}"],
                             hash_chain.SEQUENCE if k < len(rows) - 1 else hash_chain.TRUNCATED, ()),
        "the newest record removed": ([f"DELETE FROM {{t}} WHERE id = {last_id}"], hash_chain.TRUNCATED, ()),
        "a record's key id changed": ([f"UPDATE {{t}} SET key_id = 'retired' WHERE id = {row_id}"],
                                      hash_chain.UNKNOWN_KEY, ()),
        "a record's key id removed": ([f"UPDATE {{t}} SET key_id = NULL WHERE id = {row_id}"],
                                      hash_chain.UNKEYED, ()),
        "two records swapped": ([f"UPDATE {{t}} SET sequence = -1 WHERE id = {rows[0][0]}",
                                 f"UPDATE {{t}} SET sequence = {rows[0][1]} WHERE id = {rows[1][0]}",
                                 f"UPDATE {{t}} SET sequence = {rows[1][1]} WHERE id = {rows[0][0]}"],
                                hash_chain.LINK, ()),
    }
    return {name: (statements, problem, params) for name, (statements, problem, params) in cases.items()}


@pytest.mark.parametrize(("service", "model"), TRAILS, ids=[f"{s}:{m.__tablename__}" for s, m in TRAILS])
def test_tampered_trails_are_reported_by_the_service_and_by_hash_chain(service, model, seeded, databases, cluster):
    url = databases.create(service, template=seeded[service])
    table = model.__tablename__
    chains = [r[0] for r in query(url, f'SELECT chain_key FROM "{table}" GROUP BY chain_key '
                                       f"HAVING count(*) >= 2 ORDER BY count(*) DESC, chain_key LIMIT 3")]
    assert chains, f"the demo district has no {table} trail of two records or more"
    api = cluster.serve(service, url)
    methods = [m for m in verifiers(service) if ask(api.channel, m, chains[0]).ok
               and ask(api.channel, m, chains[0]).response.intact]
    assert methods, f"no method of {service} verifies a {table} trail (Verify* answering `intact` for its key)"
    verify = methods[0]
    everything = [r[0] for r in query(url, f'SELECT DISTINCT chain_key FROM "{table}"')]
    broken = [key for key in everything if not ask(api.channel, verify, key).response.intact]
    assert not broken, f"untouched trails reported broken: {broken[:5]}"
    stats.count("evidence: untouched trails verified through the API", len(everything))

    store = Store(plain_url(url))
    tried = 0
    try:
        for chain_key in chains:
            rows = query(url, f'SELECT id, sequence, record, previous_hash, hash, key_id FROM "{table}" '
                              "WHERE chain_key = %s ORDER BY sequence", (chain_key,))
            for name, (statements, problem, params) in tampering(rows).items():
                with psycopg.connect(plain_url(url)) as conn:
                    for statement in statements:
                        conn.execute(statement.replace("{t}", f'"{table}"'),
                                     params if "%s" in statement else ())
                answer = ask(api.channel, verify, chain_key)
                assert answer.ok and not answer.response.intact, f"{name} in {chain_key}: reported intact"
                with store.read() as session:
                    head = _expected_head(session, service, chain_key)
                    found = hash_chain.verify(session, model, chain_key, KEYS, expected_head=head)
                assert not found.intact and found.first_break.problem == problem, \
                    f"{name} in {chain_key}: hash_chain.verify says {found.first_break}, expected {problem}"
                _restore(url, table, chain_key, rows)
                assert ask(api.channel, verify, chain_key).response.intact, f"{chain_key} restored but not intact"
                tried += 1
        # The ORM refuses to change or delete a trail record at all.
        with pytest.raises(hash_chain.AppendOnly), store.transaction() as session:
            record = session.scalars(select(model).where(model.chain_key == chains[0])).first()
            record.record = record.record + " "
        with pytest.raises(hash_chain.AppendOnly), store.transaction() as session:
            session.delete(session.scalars(select(model).where(model.chain_key == chains[0])).first())
    finally:
        store.dispose()
    stats.count("evidence: tampered trails (kinds x trails) detected", tried)


def _expected_head(session, service: str, chain_key: str) -> str | None:
    """The head the trail's owner stored when it last appended (a `trail_head` column of the owner)."""
    module = importlib.import_module(f"services.{service}.models")
    for model in vars(module).values():
        columns = getattr(getattr(model, "__table__", None), "columns", None)
        if columns is None or "trail_head" not in columns or "id" not in columns:
            continue
        owner_id = chain_key.rsplit("/", 1)[-1]
        owner = session.get(model, owner_id)
        if owner is not None:
            return owner.trail_head
    return None


def _restore(url: str, table: str, chain_key: str, rows: list[tuple]) -> None:
    with psycopg.connect(plain_url(url)) as conn:
        conn.execute(f'DELETE FROM "{table}" WHERE chain_key = %s', (chain_key,))
        for row_id, sequence, record, previous, digest, key_id in rows:
            conn.execute(f'INSERT INTO "{table}" (id, chain_key, sequence, record, previous_hash, hash, key_id) '
                         "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                         (row_id, chain_key, sequence, record, previous, digest, key_id))


# ------------------------------------------------------------------ a rewrite by someone without the key


def _guessed_key(record: str, previous: str) -> str:
    """An attacker's attempt at the keyed scheme with a key of their own."""
    return hmac.new(b"guessed-key-guessed-key-guessed!", previous.encode("ascii") + record.encode("utf-8"),
                    hashlib.sha256).hexdigest()


FORGERIES = {"re-hashed as the unkeyed scheme did": (_rehash, None),
             "re-hashed as the unkeyed scheme did, key id removed": (_rehash, "NULL"),
             "re-hashed with a guessed key": (_guessed_key, None)}


def _owner_heads(service: str) -> list[tuple[str, str]]:
    """(table, chain key prefix) of each owner that stores its trail's head in `trail_head`."""
    module = importlib.import_module(f"services.{service}.models")
    owners = []
    for model in vars(module).values():
        columns = getattr(getattr(model, "__table__", None), "columns", None)
        if columns is not None and "trail_head" in columns and "id" in columns:
            owners.append(model.__table__.name)
    return owners


def _rewrite(url: str, service: str, table: str, chain_key: str, rows: list[tuple], k: int, rehash,
             key_id: str | None) -> None:
    """Changes record k (0-based) and re-hashes it and every later record, links included, then moves
    every owner's stored head of this chain to the forged end: what verification compares against."""
    columns = {r[0] for r in query(url, "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                                   (table,))}
    with psycopg.connect(plain_url(url)) as conn:
        previous = rows[k - 1][4] if k else hash_chain.GENESIS
        for index, (row_id, _, record, _, _, *_rest) in enumerate(rows):
            if index < k:
                continue
            if index == k:
                altered = json.loads(record)
                altered["note"] = f"{altered.get('note', '')}（篡改）"
                record = hash_chain.canonical_json(altered)
            digest = rehash(record, previous)
            also = ", key_id = NULL" if key_id == "NULL" and "key_id" in columns else ""
            conn.execute(f'UPDATE "{table}" SET record = %s, previous_hash = %s, hash = %s{also} WHERE id = %s',
                         (record, previous, digest, row_id))
            previous = digest
        owner_id = chain_key.rsplit("/", 1)[-1]
        moved = 0
        for owner in _owner_heads(service):
            moved += conn.execute(f'UPDATE "{owner}" SET trail_head = %s WHERE id = %s', (previous, owner_id)).rowcount
        assert moved == 1, f"the owner of {chain_key} was not found to move its head"


def verify_trails(service: str, url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", f"services.{service}", "verify-trails", *args], cwd=ROOT,
                          env=base_env(DATABASE_URL=plain_url(url), LOG_FORMAT="text"),
                          capture_output=True, text=True, timeout=120)


def _broken_record(response) -> int:
    """The record a Verify* answer names as the first broken one (its broken_* number field)."""
    names = [f.name for f in response.DESCRIPTOR.fields if f.name.startswith("broken")
             and f.type == FieldDescriptor.TYPE_INT32]
    assert names, f"{response.DESCRIPTOR.name} names no broken record"
    return getattr(response, names[0])


@pytest.mark.timeout(600)  # four command runs besides the service: each a process start reading the store
@pytest.mark.parametrize(("service", "model"), TRAILS, ids=[f"{s}:{m.__tablename__}" for s, m in TRAILS])
def test_a_trail_rewritten_without_the_key_is_named_at_the_rewritten_record(service, model, seeded, databases,
                                                                             cluster):
    url = databases.create(service, template=seeded[service])
    table = model.__tablename__
    chains = [r[0] for r in query(url, f'SELECT chain_key FROM "{table}" GROUP BY chain_key '
                                       f"HAVING count(*) >= 2 ORDER BY count(*) DESC, chain_key LIMIT 2")]
    assert chains, f"the demo district has no {table} trail of two records or more"
    api = cluster.serve(service, url)
    verify = next((m for m in verifiers(service) if ask(api.channel, m, chains[0]).ok), None)
    assert verify is not None, f"no method of {service} verifies a {table} trail"
    tried = 0
    for chain_key in chains:
        rows = query(url, f'SELECT id, sequence, record, previous_hash, hash FROM "{table}" '
                          "WHERE chain_key = %s ORDER BY sequence", (chain_key,))
        full = query(url, f'SELECT * FROM "{table}" WHERE chain_key = %s ORDER BY sequence', (chain_key,))
        heads = {owner: query(url, f'SELECT trail_head FROM "{owner}" WHERE id = %s',
                              (chain_key.rsplit("/", 1)[-1],)) for owner in _owner_heads(service)}
        k = len(rows) // 2
        for name, (rehash, key_id) in FORGERIES.items():
            _rewrite(url, service, table, chain_key, rows, k, rehash, key_id)
            answer = ask(api.channel, verify, chain_key)
            assert answer.ok, f"{name} in {chain_key}: {answer.code} {answer.details}"
            assert not answer.response.intact, f"{name} in {chain_key}: the service reports the trail intact"
            assert _broken_record(answer.response) == rows[k][1], \
                f"{name} in {chain_key}: the service names record {_broken_record(answer.response)}, " \
                f"expected the rewritten record {rows[k][1]}"
            # The command: per chain once (a process start each, and it shares verification with the
            # service), and over the whole store once.
            if name == next(iter(FORGERIES)):
                named = verify_trails(service, url, "--chain", chain_key)
                assert named.returncode == 1, f"{name}: verify-trails exited {named.returncode}: {named.stderr[-2000:]}"
                assert f"{chain_key}: broken at record {rows[k][1]} " in named.stdout, named.stdout
            if tried == 0:
                everything = verify_trails(service, url)
                assert everything.returncode == 1 and " 1 broken" in everything.stdout, everything.stdout
                assert f"{chain_key}: broken at record {rows[k][1]} " in everything.stdout, everything.stdout
            _put_back(url, table, chain_key, full, heads)
            assert ask(api.channel, verify, chain_key).response.intact, f"{chain_key} restored but not intact"
            tried += 1
    untouched = verify_trails(service, url)
    assert untouched.returncode == 0 and " 0 broken" in untouched.stdout, untouched.stdout + untouched.stderr
    stats.count("evidence: trails rewritten without the key (forgeries x trails) detected", tried)


def _put_back(url: str, table: str, chain_key: str, full: list[tuple], heads: dict[str, list[tuple]]) -> None:
    """The chain's rows and its owner's head as they were (every column, whatever the schema)."""
    columns = [r[0] for r in query(url, "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                                        "ORDER BY ordinal_position", (table,))]
    with psycopg.connect(plain_url(url)) as conn:
        conn.execute(f'DELETE FROM "{table}" WHERE chain_key = %s', (chain_key,))
        for row in full:
            conn.execute(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join(["%s"] * len(columns))})',
                         row)
        for owner, found in heads.items():
            if found:
                conn.execute(f'UPDATE "{owner}" SET trail_head = %s WHERE id = %s',
                             (found[0][0], chain_key.rsplit("/", 1)[-1]))
