"""The index history's upserts go in key order, whatever order the scopes come in: two writers
(a replica taking over while the last one finishes) locking the same rows in different orders
would deadlock on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import event

from services.common.db import Store
from services.gateway.domain.history import DISTRICT, History
from services.gateway.models import Base

CERTS = "command_center.certificates_valid"


def test_history_rows_are_upserted_in_key_order(tmp_path, live, now):
    store = Store(f"sqlite:///{tmp_path / 'gateway.db'}")
    Base.metadata.create_all(store.engine)
    upserted: list[list[tuple[str, str]]] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def capture(connection, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO index_history"):
            # (scope, series, resolution, bucket, value, scheme_version) per row: one tuple per row
            # when executed with many rows, one flat tuple of a multi-row VALUES otherwise.
            rows = parameters if executemany else [parameters[i:i + 6] for i in range(0, len(parameters), 6)]
            upserted.append([(row[0], row[1]) for row in rows])

    try:
        # Offices appear in the live index in this order; a new day's first record takes them all.
        for version, office in enumerate(("MH03", "MH01", "MH02"), start=1):
            live.apply("command_center", office, version, [(CERTS, 3, 4)])
        history = History(store)
        history.record(live.view, set(), now())
        now.advance(minutes=1)
        for office in ("MH03", "MH02"):
            live.apply("command_center", office, 9, [(CERTS, 1, 4)])
        history.record(live.view, [DISTRICT, "MH03", "MH02"], now())
    finally:
        store.dispose()
    assert len(upserted) >= 4  # minute and day, for each record
    for rows in upserted:
        assert rows == sorted(rows)
    assert {scope for rows in upserted for scope, _ in rows} == {"MH01", "MH02", "MH03", DISTRICT}
