"""The change log behind the live streams: positions, resuming, and what cannot be resumed."""

from __future__ import annotations

import pytest

from services.common.errors import InvalidArgument
from services.gateway.domain.changes import ChangeLog

DUTY = "command_center.duty_coverage"


@pytest.fixture
def log(live):
    changes = ChangeLog(size=8)
    live.subscribe(changes.record)
    return changes


def test_every_change_is_numbered_in_order_and_resumable(live, log):
    live.apply("command_center", "MH01", 1, [(DUTY, 1, 2)])
    middle = log.seq
    live.apply("command_center", "MH01", 2, [(DUTY, 2, 2)])
    position = log.position(middle)
    assert log.parse(position, "Last-Event-ID") == middle
    after = log.after(middle)
    assert [entry.seq for entry in after] == list(range(middle + 1, log.seq + 1))
    assert any(entry.change.office_id == "MH01" for entry in after)
    assert log.after(log.seq) == []
    snapshot = log.snapshot(live.view)
    assert snapshot.seq == log.seq and snapshot.view is live.view


def test_a_position_out_of_the_buffer_or_from_another_process_cannot_be_resumed(live, log):
    live.apply("command_center", "MH01", 1, [(DUTY, 1, 2)])
    first = log.position(1)
    for version in range(2, 8):
        live.apply("command_center", "MH01", version, [(DUTY, version % 2, 2)])
    assert log.seq > 9
    assert log.parse(first, "Last-Event-ID") is None
    assert log.after(1) is None
    another_process = ChangeLog(size=8)
    assert log.parse(another_process.position(0), "Last-Event-ID") is None


@pytest.mark.parametrize("position", ["", "abc", "0123456789.1", "zzzzzzzz.1", "01234567.-1", "01234567.1.2"])
def test_a_malformed_position_is_invalid_argument(log, position):
    with pytest.raises(InvalidArgument) as refused:
        log.parse(position, "Last-Event-ID")
    assert refused.value.violations[0].field == "Last-Event-ID"


def test_a_position_ahead_of_the_log_is_invalid_argument(log):
    with pytest.raises(InvalidArgument):
        log.parse(log.position(log.seq + 5), "resume_after")


def test_a_waiting_thread_is_woken_by_a_change(live, log):
    import threading

    woke = []
    waiter = threading.Thread(target=lambda: woke.append(log.wait_after(log.seq, 5.0)))
    waiter.start()
    live.apply("command_center", "MH01", 1, [(DUTY, 1, 2)])
    waiter.join(5)
    assert woke == [True]
