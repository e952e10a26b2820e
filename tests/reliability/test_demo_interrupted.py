"""The demo district's loading, interrupted and run again: every service's loader stopped after its
n-th committed write (several points per service, each run resuming the one before), then run to
the end, leaves exactly the rows an uninterrupted load leaves, in every table of every store. Two
whole districts loaded, one of them in parts: minutes, so it runs with the other faults
(`make chaos`), not in `make test`."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest

from services.common.clock import Clock
from services.common.demo import DemoOutcome, demo_load
from tests.demo_loads import (
    DEMO_SERVICES,
    Interrupted,
    interrupted_after,
    load_uninterrupted,
    settle,
    start_empty,
    stop,
    table_counts,
)


# Two districts loaded, one of them six times over in parts: minutes, not seconds.
@pytest.mark.timeout(900)
def test_a_load_interrupted_at_any_point_finishes_the_district_without_duplicates(tmp_path_factory):
    # One stopped instant for both districts: the demo places work relative to now (the day's rapid
    # tests up to the last slot before now), and the two loads run minutes apart.
    clock = Clock(dt.datetime.now(dt.UTC))
    reference = start_empty(tmp_path_factory.mktemp("reference"), clock)
    resumed = start_empty(tmp_path_factory.mktemp("resumed"), clock)
    try:
        writes = load_uninterrupted(reference)
        for service in resumed:
            name = service.runtime.name
            if name in DEMO_SERVICES:
                total = writes[name]
                # Right after the start record, a third and two thirds in, and just before the end
                # (the records and sweeps); each run resumes what the runs before it left.
                done = 0
                for point in sorted({1, total // 3, 2 * total // 3, total - 2} - {0}):
                    with interrupted_after(service.runtime.store, point - done), pytest.raises(Interrupted):
                        service.runtime.seed_demo()
                    done = point
                    # What the interrupted run committed reaches the others, as after a restart.
                    settle(resumed)
                    models = importlib.import_module(f"services.{name}.models")
                    record = demo_load(service.runtime.store, models.DemoLoad)
                    assert record is not None and record.completed_at is None, (name, point)
                outcome = service.runtime.seed_demo()
                assert outcome.loaded and outcome.complete, (name, outcome)
            settle(resumed)
        for before, after in zip(reference, resumed, strict=True):
            if after.runtime.name in DEMO_SERVICES:
                assert table_counts(after) == table_counts(before), after.runtime.name
        # Loaded and recorded complete: a further run leaves every store alone.
        for service in resumed:
            if service.runtime.name in DEMO_SERVICES:
                assert service.runtime.seed_demo() == DemoOutcome(loaded=False, complete=True)
    finally:
        stop([*reference, *resumed])
