"""IndicatorRefresher's pacing: a change now and then is refreshed right after its write; writes that
outpace the refreshes are refreshed at most once per interval, every marked office included."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.events import EventWriter
from services.common.indicators import IndicatorRefresher, IndicatorSnapshotMixin, Reading, mark_dirty
from tests.unit.common.conftest import Base


class Snapshot(IndicatorSnapshotMixin, Base):
    pass


class Counting:
    """A compute function that records which offices each refresh was asked for."""

    def __init__(self) -> None:
        self.calls: list[list[str] | None] = []
        self.refreshed: set[str] = set()
        self.changed = threading.Condition()

    def __call__(self, session: Session, office_ids: list[str] | None) -> dict[str, list[Reading]]:
        with self.changed:
            self.calls.append(office_ids)
            self.refreshed.update(office_ids or ())
            self.changed.notify_all()
        return {office: [Reading(office, "k", 1.0, 2.0)] for office in office_ids or ()}

    def wait_for(self, offices: set[str], timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: offices <= self.refreshed, timeout)


@pytest.fixture
def refresher(store, models):
    Base.metadata.create_all(store.engine)
    compute = Counting()
    refresher = IndicatorRefresher("pacing", store, Snapshot, EventWriter("pacing", models.Outbox), compute,
                                   debounce_seconds=0.01, min_interval_seconds=0.5)
    refresher.start()
    with compute.changed:  # the first pass refreshes everything (None)
        assert compute.changed.wait_for(lambda: compute.calls == [None], 2)
    yield refresher, compute
    refresher.stop()


def write(store, office_id: str) -> None:
    with store.transaction() as session:
        mark_dirty(session, [office_id])


def test_a_stream_of_writes_is_refreshed_once_per_interval_with_every_marked_office(refresher, store):
    _, compute = refresher
    time.sleep(0.6)  # past the interval after the first pass
    offices = {f"O{n}" for n in range(40)}
    started = time.monotonic()
    for office in sorted(offices):  # 40 writes, each a few milliseconds after the one before
        write(store, office)
        time.sleep(0.003)
    assert compute.wait_for(offices, timeout=5)
    elapsed = time.monotonic() - started

    passes = len(compute.calls) - 1
    # Without the interval a pass started 10 ms after each write that found the last one done.
    assert passes <= elapsed / 0.5 + 2, (passes, elapsed)
    assert passes >= 1


def test_changes_made_one_after_another_are_each_refreshed_without_waiting_for_the_interval(refresher, store):
    _, compute = refresher
    time.sleep(0.6)
    for n in range(5):  # someone changing things and watching each change reach the index
        started = time.monotonic()
        write(store, f"C{n}")
        assert compute.wait_for({f"C{n}"}, timeout=2)
        assert time.monotonic() - started < 0.3, n
        time.sleep(0.02)


def test_a_write_after_a_quiet_spell_waits_only_the_debounce(refresher, store):
    _, compute = refresher
    time.sleep(0.6)
    started = time.monotonic()
    write(store, "Q1")
    assert compute.wait_for({"Q1"}, timeout=2)
    assert time.monotonic() - started < 0.3


def test_the_snapshots_of_a_paced_refresh_are_stored(refresher, store):
    _, compute = refresher
    write(store, "S1")
    assert compute.wait_for({"S1"}, timeout=2)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        with store.read() as session:
            if session.scalars(select(Snapshot).where(Snapshot.office_id == "S1")).first() is not None:
                return
        time.sleep(0.02)
    pytest.fail("the refresh stored no snapshot for S1")
