"""The hash-chained audit trail on PostgreSQL: a second appender to the same chain waits for the first
transaction, so the chain never forks. (Everything else about trails: tests/unit/common/test_hash_chain.py.)"""

from __future__ import annotations

import threading

from services.common.db import Store
from services.common.hash_chain import append
from tests.unit.common.test_hash_chain import KEYS, Base, Trail, check, write


def test_a_second_appender_on_postgresql_waits_for_the_first(postgres_database):
    store = Store(postgres_database)
    Base.metadata.create_all(store.engine)
    first_appended, release_first = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        with store.transaction() as session:
            append(session, Trail, "item-1", {"by": "first"}, KEYS)
            first_appended.set()
            release_first.wait(10)

    def second() -> None:
        try:
            outcome["sequence"] = write(store, "item-1", {"by": "second"})[0].sequence
        except Exception as exc:  # noqa: BLE001 - a fork attempt surfaces as an error here
            outcome["error"] = exc

    try:
        holder = threading.Thread(target=first)
        holder.start()
        assert first_appended.wait(10)
        follower = threading.Thread(target=second)
        follower.start()
        follower.join(1.0)
        assert follower.is_alive(), "the second append must wait while the first transaction holds the chain"
        release_first.set()
        holder.join(10)
        follower.join(10)
        assert outcome == {"sequence": 2}
        assert check(store, "item-1").intact
    finally:
        release_first.set()
        store.dispose()
