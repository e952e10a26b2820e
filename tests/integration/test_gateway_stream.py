"""The live stream (SSE): a snapshot, then every change; a reconnect with Last-Event-ID continues
without a gap; the reconcile repairs what a lost event would have changed."""

from __future__ import annotations

import pytest

from services.gateway.metrics import RECONCILE_CORRECTIONS
from tests.api.gateway.support import District, wait_for
from tests.conftest import make_settings


@pytest.fixture
def district(tmp_path):
    running = District(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", make_settings())
    running.add_offices(certified={"MH01": 4, "MH02": 2, "MH03": 3})
    yield running
    running.close()


def test_a_stream_starts_with_a_snapshot_and_carries_each_change(district):
    stream = district.stream()
    try:
        _, event, snapshot = stream.next()
        assert event == "snapshot" and snapshot["reset"] is False
        assert [o["office_id"] for o in snapshot["offices"]] == ["MH01", "MH03", "MH02"]
        assert snapshot["district"]["office_count"] == 3 and snapshot["scheme"]["version"] == 1
        before = district.index_of("MH02")
        district.register_officer("MH02", 9, valid=True)
        district.settle()
        events = stream.until("office", lambda data: data["office_id"] == "MH02")
        office = events[-1][2]
        assert office["index"] == pytest.approx(district.index_of("MH02"), abs=0.01) and office["index"] > before
        assert office["dimensions"]["support"] is not None
        assert "district" in [e for _, e, _ in stream.until("district")]
    finally:
        stream.close()


def test_a_reconnect_with_last_event_id_continues_without_a_gap(district):
    stream = district.stream()
    stream.next()  # the snapshot
    district.register_officer("MH02", 9, valid=True)
    district.settle()
    received = stream.until("office", lambda data: data["office_id"] == "MH02")
    last_id = received[-1][0]
    stream.close()
    # While disconnected: several changes.
    log = district.monitor.changes
    missed_from = log.seq
    for seat in (10, 11):
        district.register_officer("MH03", seat, valid=seat == 10)
    district.settle()
    expected = [log.position(entry.seq) for entry in log.after(log.parse(last_id, "Last-Event-ID"))]
    assert len(expected) >= log.seq - missed_from
    again = district.stream(last_event_id=last_id)
    try:
        got = [again.next() for _ in range(len(expected))]
        # No snapshot: exactly the changes after the last one received, in order, none twice.
        assert [event_id for event_id, _, _ in got] == expected
        assert {name for _, name, _ in got} <= {"office", "district", "ranks", "alert", "feed", "source"}
        assert got[-1][0] == log.position(log.seq)
    finally:
        again.close()


def test_an_id_the_gateway_can_no_longer_continue_gets_a_fresh_snapshot(district):
    stream = district.stream(last_event_id="0badc0de.1")  # another process's position
    try:
        _, event, snapshot = stream.next()
        assert event == "snapshot" and snapshot["reset"] is True and len(snapshot["offices"]) == 3
    finally:
        stream.close()


@pytest.mark.parametrize("last_event_id", ["garbage", "12.34.56", "abcdefgh.1", "01234567.-3"])
def test_a_malformed_last_event_id_is_a_400(district, last_event_id):
    reply = district.get("/api/v1/stream", headers={"Last-Event-ID": last_event_id})
    assert reply.status == 400 and reply.error["details"][0]["field"] == "Last-Event-ID"


def test_an_id_ahead_of_the_stream_is_a_400(district):
    log = district.monitor.changes
    reply = district.get("/api/v1/stream", headers={"Last-Event-ID": log.position(log.seq + 100)})
    assert reply.status == 400


def test_the_reconcile_repairs_an_indicator_whose_event_was_lost(district):
    before = district.index_of("MH02")
    corrections = RECONCILE_CORRECTIONS.labels("command_center")._value.get()
    district.link.lost = True  # the IndicatorsChanged of this change never reaches the gateway
    district.register_officer("MH02", 9, valid=True)
    district.settle()
    district.link.lost = False
    assert district.index_of("MH02") == before
    assert district.runtime.parts.feeder.reconcile(["command_center"]) == {"command_center": 1}
    assert district.index_of("MH02") > before
    assert RECONCILE_CORRECTIONS.labels("command_center")._value.get() == corrections + 1
    office = district.get("/api/v1/offices/MH02").body
    certificates = next(i for i in office["indicators"] if i["key"] == "command_center.certificates_valid")
    assert (certificates["numerator"], certificates["denominator"]) == (3, 5)
    assert district.runtime.parts.feeder.reconcile(["command_center"]) == {"command_center": 0}


def test_the_periodic_reconcile_runs_by_itself(tmp_path):
    running = District(tmp_path, f"sqlite:///{tmp_path / 'gateway.db'}", make_settings(),
                       gateway_env={"RECONCILE_INTERVAL_SECONDS": "0.2"})
    try:
        running.add_offices(("MH01",))
        running.link.lost = True
        running.register_officer("MH01", 9, valid=False)
        running.settle()
        wait_for(lambda: running.monitor.view.offices["MH01"].values["command_center.certificates_valid"]
                 .denominator == 5)
    finally:
        running.close()
