"""The simulator as the load generator, end to end: the real center (the monolith in a process of
its own, on free ports, in a temporary directory), a bootstrapped district, ten seconds of every
action in the mix, and not one failed request; then the whole market's actions with their answers
checked by hand."""

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


def test_the_whole_market_under_load_checked_by_hand(tmp_path):
    """Businesses of no key type registered, extracts with spoilt rows refused and then imported
    good rows only, plans drawn under a stated rounding rule and verified: every answer checked by
    hand (the run's hand checks), none failing."""
    report = tmp_path / "report.json"
    # Verification weighs most: it only runs on plans already drawn (the whole-market ones give the quota check).
    mix = "entity.*=1,plan.draw=1,plan.draw_whole=2,plan.verify=3"
    run = subprocess.run(
        [sys.executable, "-m", "simulator", "--center", "temp", "--no-demo", "--bootstrap-offices", "1",
         "--rate", "10", "--duration", "6", "--mix", mix, "--seed", "5", "--quiet", "--json", str(report)],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    summary = json.loads(report.read_text())
    assert summary["errors"] == 0
    checks = summary["checks"]
    for check in ("entity.industry_code", "import.refused_whole", "import.good_rows", "plan.target_count",
                  "plan.verified", "plan.quota"):
        assert checks.get(check, {}).get("passed") and checks[check]["failed"] == 0, (check, checks)
