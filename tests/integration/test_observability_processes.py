"""The last lines of the real entry points stopped with SIGTERM (`python -m services.<svc> serve` and
`worker`): the signal they obeyed, how they stopped, and the final "process exiting" line; with
JSON logs as deployed (LOG_FORMAT=json)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path, amqp_uri: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL") and not k.startswith("OTEL_")}
    return env | {"DATA_DIR": str(tmp_path), "AMQP_URI": amqp_uri, "GRPC_PORT": str(free_port()),
                  "METRICS_PORT": str(free_port()), "LOG_FORMAT": "json", "LOG_LEVEL": "INFO",
                  "DRAIN_GRACE_SECONDS": "1", "DEMO_DATA": "false"}


def _run_until(command: str, env: dict[str, str], ready_message: str) -> list[dict]:
    """Starts `python -m services.command_center <command>`, waits for the log line `ready_message`,
    stops it with SIGTERM and returns every JSON line of its log."""
    process = subprocess.Popen([sys.executable, "-m", "services.command_center", command], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[dict] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            raw = process.stderr.readline()
            if not raw:
                pytest.fail(f"{command} ended before {ready_message!r}: {lines}")
            if raw.startswith("{"):
                lines.append(json.loads(raw))
                if lines[-1]["message"] == ready_message:
                    break
        # The ready line comes just before the process puts its stop handlers in place.
        time.sleep(1)
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, rest
    return lines + [json.loads(line) for line in rest.splitlines() if line.startswith("{")]


@pytest.fixture
def migrated(tmp_path) -> Path:
    done = subprocess.run([sys.executable, "-m", "services.command_center", "migrate"], cwd=ROOT,
                          env=_env(tmp_path, "amqp://unused/"), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return tmp_path


def test_serve_logs_the_signal_its_stop_and_its_exit(migrated, amqp_uri):
    lines = _run_until("serve", _env(migrated, amqp_uri), "serving")

    messages = [line["message"] for line in lines]
    assert messages[-4:] == ["stop signal received; shutting down", "draining", "stopped", "process exiting"]
    assert lines[-1]["program"] == "supervision-command_center"
    assert next(line for line in lines if line["message"].startswith("stop signal"))["signal"] == "SIGTERM"


def test_worker_logs_its_stop_and_its_exit(migrated, amqp_uri):
    lines = _run_until("worker", _env(migrated, amqp_uri), "worker started")

    messages = [line["message"] for line in lines]
    assert "worker stopping" in messages
    assert messages[-1] == "process exiting"
    assert messages.index("worker stopping") < len(messages) - 1
