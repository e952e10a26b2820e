"""Store on a real SQLite file: aware UTC datetimes, transactions, and the after-event-commit hook."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, StatementError

from services.common.db import normalise_url, sqlite_url, utcnow
from services.common.events import EventWriter
from supervision.command_center.v1.events_pb2 import OfficeRegistered, OfficeUpdated

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _outbox_row(models, event_id: str, created_at: dt.datetime):
    return models.Outbox(event_id=event_id, event_type="t", envelope={"id": event_id}, created_at=created_at,
                         attempts=0)


def test_naive_datetime_is_refused_on_write(store, models):
    with pytest.raises(StatementError) as raised, store.transaction() as session:
        session.add(_outbox_row(models, "e-1", dt.datetime(2026, 3, 2, 8, 0)))
        session.flush()

    assert isinstance(raised.value.orig, ValueError)
    assert "naive datetime" in str(raised.value.orig)
    with store.read() as session:
        assert session.scalars(select(models.Outbox)).all() == []


def test_values_read_back_are_aware_utc_and_the_same_instant(store, models):
    written = dt.datetime(2026, 3, 2, 16, 30, 5, 123456, tzinfo=SHANGHAI)
    with store.transaction() as session:
        session.add(_outbox_row(models, "e-1", written))

    with store.read() as session:
        created_at, sent_at = session.execute(select(models.Outbox.created_at, models.Outbox.sent_at)).one()

    assert created_at.utcoffset() == dt.timedelta(0)
    assert created_at == written
    assert created_at.replace(tzinfo=None) == dt.datetime(2026, 3, 2, 8, 30, 5, 123456)
    assert sent_at is None  # NULL stays None


def test_utc_values_order_by_instant_whatever_zone_they_were_written_in(store, models):
    with store.transaction() as session:
        session.add(_outbox_row(models, "later", dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)))
        session.add(_outbox_row(models, "earlier", dt.datetime(2026, 3, 2, 16, 30, tzinfo=SHANGHAI)))

    with store.read() as session:
        ids = session.scalars(select(models.Outbox.event_id).order_by(models.Outbox.created_at)).all()

    assert ids == ["earlier", "later"]


def test_transaction_commits_on_success(store, models):
    with store.transaction() as session:
        session.add(models.Effect(event_id="e-1", note="kept"))

    with store.read() as session:
        assert session.scalars(select(models.Effect.note)).all() == ["kept"]


def test_transaction_rolls_back_on_exception_and_reraises(store, models):
    with pytest.raises(ZeroDivisionError), store.transaction() as session:
        session.add(models.Effect(event_id="e-1", note="lost"))
        session.flush()  # the row is in the database, inside the transaction
        _ = 1 / 0

    with store.read() as session:
        assert session.scalars(select(models.Effect)).all() == []


def test_after_commit_listeners_hear_of_commits_that_wrote_events(store, models):
    calls: list[str] = []
    store.after_commit.append(lambda notes: notes.get("events_written") and calls.append("first"))
    store.after_commit.append(lambda notes: notes.get("events_written") and calls.append("second"))
    writer = EventWriter("registry", models.Outbox)

    with store.transaction() as session:
        session.add(models.Effect(event_id="-", note="no event"))
    assert calls == []

    with pytest.raises(RuntimeError), store.transaction() as session:
        writer.record(session, OfficeRegistered(office_id="s-1"), aggregate_type="shop", aggregate_id="s-1", version=1)
        raise RuntimeError("rolled back")
    assert calls == []

    with store.transaction() as session:
        writer.record(session, OfficeRegistered(office_id="s-1"), aggregate_type="shop", aggregate_id="s-1", version=1)
        writer.record(session, OfficeUpdated(office_id="s-1"), aggregate_type="shop", aggregate_id="s-1", version=2)
    assert calls == ["first", "second"]  # once per commit, in registration order

    with store.transaction() as session:
        session.add(models.Effect(event_id="-", note="no event again"))
    assert calls == ["first", "second"]


def test_after_commit_listener_sees_the_committed_rows(store, models):
    seen: list[int] = []

    def count_outbox(_notes) -> None:
        with store.read() as session:
            seen.append(len(session.scalars(select(models.Outbox)).all()))

    store.after_commit.append(count_outbox)
    with store.transaction() as session:
        EventWriter("registry", models.Outbox).record(session, OfficeUpdated(office_id="1"), aggregate_type="a",
                                                      aggregate_id="1", version=1)

    assert seen == [1]


def test_read_session_cannot_write(store, models):
    with pytest.raises(OperationalError, match="readonly"), store.read() as session:
        session.add(models.Effect(event_id="e-1", note="should vanish"))
        session.flush()

    with store.read() as session:
        assert session.scalars(select(models.Effect)).all() == []


def test_store_on_sqlite_uses_a_separate_read_engine(store):
    assert store.is_sqlite
    assert store.read_engine is not store.engine


def test_utcnow_is_aware_utc():
    assert utcnow().utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
    ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ("sqlite:///var/x.db", "sqlite:///var/x.db"),
])
def test_normalise_url(url, expected):
    assert normalise_url(url) == expected


def test_sqlite_url_creates_the_data_dir(tmp_path):
    data_dir = tmp_path / "nested" / "var"

    url = sqlite_url(str(data_dir), "registry")

    assert data_dir.is_dir()
    assert url == f"sqlite:///{data_dir / 'registry.db'}"
