"""Evidence trails (services/common/hash_chain.py) detect tampering, through each service's own
verification method and through hash_chain.verify.

The trails are found, not listed: every model of every service that is a HashChainMixin table, and,
per service, the method that verifies one trail (a method named Verify* whose answer says `intact`,
given the trail's key). On a copy of the seeded store, behind a real `serve` process, every trail of
the demo district must verify; then each trail of a few is tampered with directly in PostgreSQL (what
the ORM refuses to do), in every way below, and must be reported broken; then it is restored and must
verify again.
"""

from __future__ import annotations

import importlib
import json

import psycopg
import pytest
from google.protobuf.descriptor import FieldDescriptor
from sqlalchemy import select

from services.common import hash_chain
from services.common.db import Store
from tests.reliability import catalog, stats
from tests.reliability.cluster import plain_url, query
from tests.reliability.district import invoke

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.timeout(180)]


def trail_models(service: str) -> list[type]:
    module = importlib.import_module(f"services.{service}.models")
    return [m for m in vars(module).values() if isinstance(m, type) and issubclass(m, hash_chain.HashChainMixin)
            and m is not hash_chain.HashChainMixin and hasattr(m, "__tablename__")]


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
    return hash_chain.chain_hash(previous, record)


def tampering(rows: list[tuple]) -> dict[str, tuple[list[str], str]]:
    """name -> (SQL statements on the trail table, the problem hash_chain.verify must name). `rows`: the
    chain as (id, sequence, record, previous_hash, hash), in order; at least two records."""
    k = 1 if len(rows) == 2 else len(rows) // 2  # a record in the middle (0-based)
    row_id, _, record, previous, _ = rows[k]
    altered = json.loads(record)
    altered["note"] = f"{altered.get('note', '')}（改）"
    forged = hash_chain.canonical_json(altered)
    last_id = rows[-1][0]
    cases = {
        "a record's content changed": ([f"UPDATE {{t}} SET record = %s WHERE id = {row_id}"], hash_chain.CONTENT,
                                       (forged,)),
        "a record's content changed and its hash recomputed": (
            [f"UPDATE {{t}} SET record = %s, hash = '{_rehash(forged, previous)}' WHERE id = {row_id}"],
            hash_chain.LINK if k < len(rows) - 1 else hash_chain.TRUNCATED, (forged,)),
        "a record's link changed": ([f"UPDATE {{t}} SET previous_hash = '{'f' * 64}' WHERE id = {row_id}"],
                                    hash_chain.LINK, ()),
        "a record's hash changed": ([f"UPDATE {{t}} SET hash = '{'0' * 63}1' WHERE id = {row_id}"],
                                    hash_chain.CONTENT, ()),
        "a record removed": ([f"DELETE FROM {{t}} WHERE id = {row_id}"],
                             hash_chain.SEQUENCE if k < len(rows) - 1 else hash_chain.TRUNCATED, ()),
        "the newest record removed": ([f"DELETE FROM {{t}} WHERE id = {last_id}"], hash_chain.TRUNCATED, ()),
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
            rows = query(url, f'SELECT id, sequence, record, previous_hash, hash FROM "{table}" '
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
                    found = hash_chain.verify(session, model, chain_key, expected_head=head)
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
        for row_id, sequence, record, previous, digest in rows:
            conn.execute(f'INSERT INTO "{table}" (id, chain_key, sequence, record, previous_hash, hash) '
                         "VALUES (%s, %s, %s, %s, %s, %s)", (row_id, chain_key, sequence, record, previous, digest))
