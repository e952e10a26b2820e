"""The simulator as the load generator, end to end: the real center (the monolith in a process of
its own, on free ports, in a temporary directory), a bootstrapped district, ten seconds of every
action in the mix, and not one failed request."""

from __future__ import annotations

import json
import subprocess
import sys

from simulator.actions import CATALOGUE


def test_ten_seconds_of_load_on_a_fresh_center_without_an_error(tmp_path):
    report = tmp_path / "report.json"
    run = subprocess.run(
        [sys.executable, "-m", "simulator", "--center", "temp", "--no-demo", "--bootstrap-offices", "2",
         "--rate", "15", "--duration", "10", "--mix", "all", "--seed", "11", "--quiet", "--json", str(report)],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    summary = json.loads(report.read_text())
    assert summary["errors"] == 0
    assert summary["requests"] >= 100  # 15/s for 10 s, give or take the Poisson arrivals
    services = {CATALOGUE[row["action"]].service for row in summary["actions"] if row["ok"]}
    assert {"complaints", "command_center", "facilities", "gateway_http"} <= services
    # Follow-ups ran on work the run itself created, not only creations.
    assert any(CATALOGUE[row["action"]].consumes for row in summary["actions"] if row["ok"])
