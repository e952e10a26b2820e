"""A real process follows WORKING_CALENDAR_FILE: it re-reads the file when it changes and on SIGHUP,
without a restart."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.calendar_files import WITH_2027_LONG_NEW_YEAR, calendar_without_2027, write


@pytest.fixture
def calendar_file(tmp_path: Path) -> Path:
    return calendar_without_2027(tmp_path)


CHILD = textwrap.dedent("""
    import datetime as dt, sys, time
    from services.common.calendar_reload import LiveCalendar, install_reload_on_sighup
    live = LiveCalendar(sys.argv[1], poll_seconds=float(sys.argv[2]))
    assert install_reload_on_sighup()
    print("ready", live.is_working_day(dt.date(2027, 1, 1)), flush=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if not live.is_working_day(dt.date(2027, 1, 1)):
            print("reloaded", live.generation, flush=True)
            break
        time.sleep(0.02)
    else:
        print("never reloaded", flush=True)
""")


def run_child(calendar_file: Path, poll_seconds: float) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(calendar_file), str(poll_seconds)],
                             stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    assert child.stdout is not None
    assert child.stdout.readline().split() == ["ready", "True"]
    return child


def test_a_process_follows_the_file_when_it_changes(calendar_file):
    child = run_child(calendar_file, poll_seconds=0.05)
    write(calendar_file, WITH_2027_LONG_NEW_YEAR, time.time_ns())
    out, _ = child.communicate(timeout=30)
    assert out.split() == ["reloaded", "1"]


def test_a_process_rereads_the_file_on_sighup(calendar_file):
    # An hour's poll interval: only the signal can make the child look at the file.
    child = run_child(calendar_file, poll_seconds=3600)
    write(calendar_file, WITH_2027_LONG_NEW_YEAR, 1_000_000_000)
    child.send_signal(signal.SIGHUP)
    out, _ = child.communicate(timeout=30)
    assert out.split() == ["reloaded", "1"]


