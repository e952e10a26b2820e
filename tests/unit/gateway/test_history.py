"""Index history on a real (SQLite) store: written when values change, read as step functions."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.db import Store
from services.gateway.domain.history import DAY, DISTRICT, MINUTE, MONTH, History, query_range
from services.gateway.models import Base

CERTS = "command_center.certificates_valid"


@pytest.fixture
def history(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'gateway.db'}")
    Base.metadata.create_all(store.engine)  # the migrations are checked against the models elsewhere
    yield History(store)
    store.dispose()


def certs(live, version: int, valid: int) -> None:
    live.apply("command_center", "MH01", version, [(CERTS, valid, 4)])


def test_only_changed_values_are_written_and_read_back_as_steps(history, live, now):
    certs(live, 1, 4)
    assert history.record(live.view, {"MH01", DISTRICT}, now()) > 0
    now.advance(minutes=1)
    assert history.record(live.view, {"MH01", DISTRICT}, now()) == 0  # nothing moved
    now.advance(minutes=1)
    certs(live, 2, 2)
    written = history.record(live.view, {"MH01"}, now())
    assert written == 3  # the indicator, its dimension and the index
    start, end = now() - dt.timedelta(minutes=5), now()
    points = history.points("MH01", CERTS, MINUTE, start, end)
    assert [p.value for p in points] == [1.0, 0.5]
    # From within minute 1: led by the value written at minute 0, then the change of minute 2.
    from_inside = now() - dt.timedelta(seconds=90)
    inside = history.points("MH01", CERTS, MINUTE, from_inside, end)
    assert (inside[0].time, inside[0].value, inside[-1].value) == (from_inside, 1.0, 0.5)


def test_a_day_point_holds_the_days_last_value_and_leads_a_later_query(history, live, now):
    certs(live, 1, 4)
    history.record(live.view, {"MH01"}, now())
    now.advance(hours=2)
    certs(live, 2, 1)
    history.record(live.view, {"MH01"}, now())
    day = history.points("MH01", CERTS, DAY, now() - dt.timedelta(days=3), now())
    assert [p.value for p in day] == [0.25]
    # Two days later, minutes pruned: the value in force comes from the last earlier day.
    now.advance(days=2)
    history.prune(now(), minute_days=1, day_days=800)
    later = history.points("MH01", CERTS, MINUTE, now() - dt.timedelta(hours=1), now())
    assert [p.value for p in later] == [0.25]
    months = history.points("MH01", CERTS, MONTH, now() - dt.timedelta(days=60), now())
    assert [p.value for p in months][-1] == 0.25


def test_the_first_record_of_a_day_writes_every_series(history, live, now):
    certs(live, 1, 4)
    first = history.record(live.view, set(), now())
    assert first > 0  # a new process, a new day: everything
    now.advance(days=1)
    assert history.record(live.view, set(), now()) == first


@pytest.mark.parametrize(("resolution", "span"), [(MINUTE, dt.timedelta(days=8)), (DAY, dt.timedelta(days=900))])
def test_a_query_range_is_bounded_per_resolution(resolution, span):
    from services.common.errors import InvalidArgument

    end = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    with pytest.raises(InvalidArgument):
        query_range(resolution, end - span, end, end)
    start, stop = query_range(resolution, None, None, end)
    assert stop == end and start < end
