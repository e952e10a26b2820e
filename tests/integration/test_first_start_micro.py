"""run-micro's demo loading step (`tools/run_micro.py --seed <service>`, the child it runs per
service) against a real migrated store: a loader that leaves things out is reported, never a
failure that stops the start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services.common.demo import DemoOutcome
from tools.micro.demo import describe_outcome

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{data_dir / 'assessment.db'}", "DATA_DIR": str(data_dir),
           "LOG_FORMAT": "text"}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_a_service_whose_demo_cannot_start_yet_is_reported_not_refused(tmp_path):
    migrated = run(["-m", "services.assessment", "migrate"], tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    # No office has reached assessment: nothing to assess, which is no reason to stop run-micro.
    seeded = run(["tools/run_micro.py", "--seed", "assessment"], tmp_path)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    lines = seeded.stdout.strip().splitlines()
    assert lines[0] == "demo data left out"
    assert lines[1].startswith("略过 left out: ") and "command_center" in lines[1]
    assert "Traceback" not in seeded.stderr


def test_an_unknown_service_to_seed_is_refused():
    seeded = subprocess.run([sys.executable, "tools/run_micro.py", "--seed", "nonsense"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, check=False)
    assert seeded.returncode == 2
    assert "unknown service 'nonsense'" in seeded.stderr


def test_each_outcome_reads_as_one_line():
    assert describe_outcome(DemoOutcome(loaded=True, complete=True)) == "demo data loaded"
    assert describe_outcome(DemoOutcome(loaded=True, complete=False)) == "demo data partly loaded"
    assert describe_outcome(DemoOutcome(loaded=False, complete=True)) == "demo data already complete"
    assert describe_outcome(DemoOutcome(loaded=False, complete=False, skipped=("x",))) == "demo data left out"
