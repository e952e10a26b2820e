"""The stage rules without a server: each target at, just below and above its threshold, runs of
consecutive periods, cumulative stages, and the ladder's checks."""

from __future__ import annotations

import pytest

from services.assessment.domain import periods
from services.assessment.domain.catalogue import Catalogue, built_in_schemes
from services.assessment.domain.stage_ladder import Stage, StageLadder, problems, read_ladder
from services.assessment.domain.stages import PeriodResult, held_run, judge, misses
from services.common.rulebook import RuleDataError

LADDER = StageLadder(periods.QUARTER, (
    Stage("STANDARD", "规范", 60, 50, 1),
    Stage("ADVANCING", "推进", 75, 65, 2),
    Stage("EXCELLING", "提升", 90, 80, 3, {"workflow": 85}),
))


def quarter(key: str, index: float | None, **dimensions: float | None) -> PeriodResult:
    period = periods.parse(key)
    return PeriodResult(key, period.start, period.end, index, dimensions or {"duties": index})


@pytest.mark.parametrize(("index", "duties", "met"), [
    (75, 65, True), (74.99, 65, False), (75.01, 65.01, True), (75, 64.99, False), (None, 90, False),
    (80, None, True),  # a dimension without data is not held against the office
])
def test_each_target_at_just_below_and_above_its_threshold(index, duties, met):
    result = quarter("2026-Q3", index, duties=duties)
    assert (not misses(LADDER.stages[1], result)) is met


def test_a_per_dimension_minimum_replaces_the_general_one():
    stage = LADDER.stages[2]
    assert [m.dimension for m in misses(stage, quarter("2026-Q3", 95, duties=84, workflow=84))] == ["workflow"]
    assert not misses(stage, quarter("2026-Q3", 95, duties=85, workflow=85))
    lack = misses(stage, quarter("2026-Q3", 95, duties=90, workflow=80))[0]
    assert (lack.required, lack.actual, lack.shortfall) == (85, 80, 5)


def test_a_run_counts_back_from_the_latest_period_and_breaks_at_a_gap_or_a_miss():
    stage = LADDER.stages[1]
    good = [quarter(k, 80) for k in ("2026-Q3", "2026-Q2", "2026-Q1")]
    assert held_run(stage, good) == 3
    assert held_run(stage, [good[0], quarter("2026-Q2", 70), good[2]]) == 1
    assert held_run(stage, [good[0], good[2]]) == 1  # Q2 never closed: Q1 does not follow on
    assert held_run(stage, [quarter("2026-Q3", 70), *good[1:]]) == 0


@pytest.mark.parametrize(("scores", "stage", "upcoming"), [
    ([], None, "STANDARD"),
    ([59.9], None, "STANDARD"),
    ([60], "STANDARD", "ADVANCING"),
    ([80], "STANDARD", "ADVANCING"),  # 推进 needs two quarters in a row
    ([80, 80], "ADVANCING", "EXCELLING"),
    ([95, 95], "ADVANCING", "EXCELLING"),
    ([95, 95, 95], "EXCELLING", None),
    ([95, 95, 74], "ADVANCING", "EXCELLING"),
    ([95, 74, 95], "STANDARD", "ADVANCING"),  # the latest quarter at 推进 but not the one before
])
def test_an_office_holds_the_highest_stage_it_holds_with_every_stage_below(scores, stage, upcoming):
    keys = ["2026-Q3", "2026-Q2", "2026-Q1"]
    results = [quarter(key, score) for key, score in zip(keys, scores, strict=False)]
    judgement = judge(LADDER, "MH01", "所", results)
    assert (judgement.stage.key if judgement.stage else None) == stage
    assert (judgement.next_stage.key if judgement.next_stage else None) == upcoming
    if upcoming is None:
        assert judgement.lacks == ()
    else:
        needed = next(s for s in LADDER.stages if s.key == upcoming)
        periods_lack = [lack for lack in judgement.lacks if lack.target == "periods"]
        run = held_run(needed, results)
        assert [(lack.required, lack.actual) for lack in periods_lack] == \
            ([] if run >= needed.consecutive_periods else [(needed.consecutive_periods, run)])


def test_the_shipped_ladder_names_the_three_stages_in_order():
    ladder = built_in_schemes(Catalogue.load())[-1].stages
    assert [s.name for s in ladder.stages] == ["规范", "推进", "提升"]
    assert [s.min_index for s in ladder.stages] == sorted(s.min_index for s in ladder.stages)
    assert StageLadder.from_dict(ladder.to_dict()) == ladder


def test_a_bad_ladder_is_refused_with_every_problem_named():
    bad = StageLadder("WEEK", (Stage("standard", "", 101, -1, 0, {"nowhere": 50}), Stage("standard", "规范", 1, 1, 1)))
    fields = {place for place, _ in problems(bad, ["duties"])}
    assert fields == {"scheme.stages.period_kind", "scheme.stages.stages", "scheme.stages.stages[0].key",
                      "scheme.stages.stages[0].name", "scheme.stages.stages[0].min_index",
                      "scheme.stages.stages[0].min_dimension", "scheme.stages.stages[0].min_dimensions[nowhere]",
                      "scheme.stages.stages[0].consecutive_periods", "scheme.stages.stages[1].key"}
    with pytest.raises(RuleDataError, match=r"scheme_v9\.yaml"):
        read_ladder({"period_kind": "QUARTER"}, ["duties"], "scheme_v9.yaml")
