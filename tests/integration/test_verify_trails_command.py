"""`python -m services.<service> verify-trails` as a process: its exit codes and what it prints.
(The checks it runs: tests/unit/common/test_hash_chain_keys.py.)"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from services.common import migrate

OLD_KEY = b"o" * 32


def encoded(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_the_verify_trails_command_of_a_service(tmp_path):
    """`python -m services.facilities verify-trails` wired like dead-letters: exit 0 on intact trails, 2 on a
    bad key setting (naming it), 2 for a service that keeps no trails."""
    root = Path(__file__).resolve().parents[2]
    url = f"sqlite:///{tmp_path / 'facilities.db'}"
    migrate.upgrade("facilities", root / "services" / "facilities" / "migrations", url)
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(tmp_path), "LOG_FORMAT": "text",
           "TRAIL_KEYS": f"2025:{encoded(OLD_KEY)}"}
    env.pop("TRAIL_ACTIVE_KEY_ID", None)

    def command(service: str, *args: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", f"services.{service}", "verify-trails", *args], cwd=root,
                              env={**env, **extra}, capture_output=True, text=True, timeout=120)

    intact = command("facilities")
    assert (intact.returncode, intact.stdout.strip()) == (0, "facilities: 0 trail(s) checked, 0 broken"), intact.stderr
    bad = command("facilities", TRAIL_KEYS="2025:c2hvcnQ=")
    assert bad.returncode == 2 and "TRAIL_KEYS key '2025' is 5 bytes" in bad.stderr
    none = command("complaints", DATABASE_URL=f"sqlite:///{tmp_path / 'complaints.db'}")
    assert none.returncode == 2 and "keeps no evidence trails" in none.stdout
