"""The first start of `make run`: the monolith as a real process, stopped by SIGTERM while it loads
the demo district, started again, and the district is whole (the same rows as a load that was
never interrupted); meanwhile the gateway says it is loading and writes neither history nor alerts
of the loading's climb (watched in the session's demo district, which is loaded from nothing in
this process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from services.common import registry
from services.gateway.domain.alerts import INDEX_DROP
from tests.integration.conftest import http_get, row_counts
from tests.support import free_port, monolith_command

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [entry.name for entry in registry.sources()]
START_SECONDS = 240


class Monolith:
    """`python -m services.monolith` in a subprocess; its stderr collected line by line."""

    def __init__(self, data_dir: Path):
        self.grpc_ports = {name: free_port() for name in registry.names()}
        self.http_port = free_port()
        env = {**os.environ, "DATA_DIR": str(data_dir), "DEMO_DATA": "true", "LOG_FORMAT": "json",
               "HTTP_PORT": str(self.http_port), "METRICS_PORT": "0", "RELAY_POLL_SECONDS": "0.2",
               "SWEEP_INTERVAL_SECONDS": "3600", "DRAIN_GRACE_SECONDS": "2", "PYTHONUNBUFFERED": "1",
               "INDICATOR_SOURCES": ",".join(f"{name}=127.0.0.1:{port}" for name, port in self.grpc_ports.items()
                                             if name in SOURCES)}
        self.process = subprocess.Popen(monolith_command(self.grpc_ports), cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, found, what: str, timeout: float = START_SECONDS) -> None:
        end = time.monotonic() + timeout
        while not any(found(line) for line in list(self.lines)):
            if self.process.poll() is not None:
                pytest.fail(f"the monolith exited ({self.process.returncode}) before {what}:\n{self.output[-4000:]}")
            if time.monotonic() > end:
                pytest.fail(f"no {what} within {timeout}s:\n{self.output[-4000:]}")
            time.sleep(0.1)

    def readyz(self) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/readyz", timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def stop(self, sig: int) -> int:
        self.process.send_signal(sig)
        try:
            status = self.process.wait(60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self._reader.join(5)
        return status


def loaded(service: str):
    """The monolith's JSON log line saying `service`'s demo data is loaded."""
    def found(line: str) -> bool:
        try:
            record = json.loads(line)
        except ValueError:
            return False
        return record.get("message") == "demo data loaded" and record.get("service") == service
    return found


@pytest.mark.timeout(3 * START_SECONDS)
def test_a_first_start_stopped_while_loading_resumes_to_the_whole_district(demo_district, tmp_path):
    first = Monolith(tmp_path)
    try:
        # Stopped while the third service loads: two are loaded, the others not yet. (The third
        # starts once the events of the first two have been applied, which takes a while.)
        first.wait_for(loaded("mobile_enforcement"), "mobile_enforcement's demo data")
        first.wait_for(lambda line: "demo district 3/6: complaints" in line, "the third loading step")
        status, body = first.readyz()
    finally:
        stopped = first.stop(signal.SIGTERM)
    assert stopped == 0, first.output[-4000:]
    assert "Traceback" not in first.output
    assert "stopped during start-up" in first.output
    assert not any(loaded("assessment")(line) for line in first.lines), "the loading was not interrupted"
    assert "演示数据 demo district 3/6: complaints…" in first.output
    assert status == 503, body
    assert body["status"] == "loading"
    assert body["step"] in SOURCES[2:] and body["total"] == len(SOURCES) and 2 <= body["done"] < len(SOURCES)
    assert "演示数据" in body["message"]

    second = Monolith(tmp_path)
    try:
        second.wait_for(lambda line: line.startswith("就绪 ready"), "ready line")
        status, body = second.readyz()
        assert (status, body["status"]) == (200, "ready")
    finally:
        stopped = second.stop(signal.SIGINT)
    assert stopped == 130, second.output[-4000:]
    assert "Traceback" not in second.output
    # Compared with the district as it stood when loaded, before other tests added to it.
    assert row_counts(tmp_path) == demo_district.loaded_row_counts


def test_the_gateway_waits_for_the_loaded_district(demo_district):
    """In one process (the session's demo district, loaded from nothing and watched while it loaded:
    tests/integration/conftest.py): at the third loading step, /readyz says so, and neither history
    nor alerts were written from the two services loaded; once ready, both are."""
    seen = demo_district.seen_while_loading
    gateway = demo_district.services["gateway"]
    assert seen["gateway"] is gateway
    assert seen["offices"] == 14, "the gateway saw command_center's offices while loading"
    status, body = seen["readyz"]
    assert status == 503
    assert (body["status"], body["step"], body["done"], body["total"]) == ("loading", "complaints", 2, 6)
    assert (seen["written"], seen["history"]) == (0, 0), "history of the loading's climb"
    assert seen["alerts"] == {}, "alerts while loading"
    status, body = http_get(gateway.http_port, "/readyz")
    assert (status, body["status"]) == (200, "ready")
    alerts = seen["alerts once loaded"].values()
    assert alerts, "no alert of the loaded district"
    assert not [a for a in alerts if a.kind == INDEX_DROP], "the loading's climb read as an index drop"
    assert seen["history once loaded"] > 0
