"""Sweeps with several worker replicas on PostgreSQL: one runs a timer at a time."""

from pathlib import Path

from services.common import migrate
from services.common.consumer import Timer, exclusive_run, run_timer
from services.common.db import Store
from services.common.leases import Lease

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "complaints" / "migrations"


def test_a_timer_runs_in_one_process_at_a_time_on_postgresql(postgres_database):
    migrate.upgrade("complaints", MIGRATIONS, postgres_database)
    store, other = Store(postgres_database), Store(postgres_database)
    runs: list[str] = []
    try:
        with exclusive_run(other, "complaints.sweep") as held_elsewhere:
            assert held_elsewhere
            run_timer("complaints", Timer("sweep", lambda: runs.append("while running elsewhere")), store)
        # The holder keeps its lease for the next rounds: the other replica still skips.
        run_timer("complaints", Timer("sweep", lambda: runs.append("while held elsewhere")), store)
        Lease(other, "complaints.sweep", 1).release()
        run_timer("complaints", Timer("sweep", lambda: runs.append("after release")), store)
    finally:
        store.dispose()
        other.dispose()
    assert runs == ["after release"]


def test_every_timer_runs_on_sqlite(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'one.db'}")
    runs: list[str] = []
    try:
        for _ in range(2):
            run_timer("complaints", Timer("sweep", lambda: runs.append("ran")), store)
    finally:
        store.dispose()
    assert runs == ["ran", "ran"]
