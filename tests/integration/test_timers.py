"""Sweeps with several worker replicas on PostgreSQL: one runs a timer at a time."""

from services.common.consumer import Timer, exclusive_run, run_timer
from services.common.db import Store


def test_a_timer_runs_in_one_process_at_a_time_on_postgresql(postgres_database):
    store, other = Store(postgres_database), Store(postgres_database)
    runs: list[str] = []
    try:
        with exclusive_run(other, "svc.sweep") as held_elsewhere:
            assert held_elsewhere
            run_timer("svc", Timer("sweep", lambda: runs.append("while held")), store)
        run_timer("svc", Timer("sweep", lambda: runs.append("after release")), store)
    finally:
        store.dispose()
        other.dispose()
    assert runs == ["after release"]
