"""What a process's log says about the process itself: the stop signal it obeyed and its last line,
and the metrics it does not export. Real processes: a child Python that configures logging the way
every entry point does (services.common.logs.configure)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from prometheus_client import REGISTRY, generate_latest

import services.common.metrics  # noqa: F401 - importing it is what turns the series off

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def _json_lines(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_the_last_line_of_a_process_says_it_is_exiting():
    child = _run("""
        import logging
        from services.common import logs
        logs.configure("INFO", "json")
        logging.getLogger("work").info("working")
    """)
    _, stderr = child.communicate(timeout=60)

    assert child.returncode == 0, stderr
    *_, working, last = _json_lines(stderr)
    assert working["message"] == "working"
    assert last["message"] == "process exiting"
    assert last["pid"] == child.pid
    assert last["uptime_s"] >= 0
    assert last["program"] == "supervision-python"


def test_a_process_that_fails_still_writes_its_last_line():
    child = _run("""
        from services.common import logs
        logs.configure("INFO", "json")
        raise SystemExit(3)
    """)
    _, stderr = child.communicate(timeout=60)

    assert child.returncode == 3
    assert _json_lines(stderr)[-1]["message"] == "process exiting"


def test_a_stop_signal_is_logged_before_the_process_ends():
    child = _run("""
        import threading
        from services.common import logs
        from services.common.grpc_server import wait_for_termination_signal
        logs.configure("INFO", "json")
        # Told once the wait below has put its handlers in place (a signal before would kill it).
        threading.Timer(0.5, lambda: print("waiting", flush=True)).start()
        wait_for_termination_signal()
    """)
    assert child.stdout.readline().strip() == "waiting"
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=60)

    assert child.returncode == 0, stderr
    *_, received, last = _json_lines(stderr)
    assert (received["message"], received["signal"]) == ("stop signal received; shutting down", "SIGTERM")
    assert last["message"] == "process exiting"


def test_text_logs_get_the_last_line_too():
    child = _run("""
        from services.common import logs
        logs.configure("INFO", "text")
    """)
    _, stderr = child.communicate(timeout=60)

    assert stderr.strip().splitlines()[-1].endswith("INFO services.common.logs process exiting")


def test_no_created_series_are_exported():
    exposition = generate_latest(REGISTRY).decode()

    assert "grpc_server_handled_total" in exposition or "supervision_events_consumed_total" in exposition
    assert "_created" not in exposition
