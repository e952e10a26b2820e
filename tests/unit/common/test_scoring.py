"""The one scoring function, on cases computed by hand (the figures in the comments)."""

from __future__ import annotations

import math

import pytest

from services.common import scoring
from services.common.scoring import Dimension, IndicatorRule, Scheme, WorkloadFormula


def rule(key="x.a", weight=100.0, target=0.9, floor=0.5, direction=scoring.HIGHER, dimension="d1") -> IndicatorRule:
    return IndicatorRule(key=key, dimension=dimension, weight=weight, target=target, floor=floor, direction=direction)


# Two dimensions: d1 (60) holds x.a (60) and x.b (40); d2 (40) holds x.c (100).
SCHEME = Scheme(
    version=1, effective_from="2026-01-01",
    dimensions=(Dimension("d1", "职责界定具体化", 60), Dimension("d2", "保障机制科学化", 40)),
    indicators=(rule("x.a", 60, 0.9), rule("x.b", 40, 1.0), rule("x.c", 100, 0.8, dimension="d2")),
    workload=WorkloadFormula({"cases": 2.0, "inspections": 1.0}, sensitivity=0.5, minimum=0.9, maximum=1.1))


# ---------------------------------------------------------------- one indicator


def test_at_or_above_target_earns_full_marks():
    at = scoring.score_indicator(rule(weight=20, target=0.9), 9, 10)
    above = scoring.score_indicator(rule(weight=20, target=0.9), 10, 10)
    assert (at.status, at.points, at.lost) == (scoring.FULL, 20, 0)
    assert (above.status, above.points) == (scoring.FULL, 20)


def test_between_floor_and_target_earns_points_pro_rata():
    # 72 of 100 against 0.9: 0.72 / 0.9 = 80 % of the way, 0.8 x 20 = 16 points, 4 lost.
    score = scoring.score_indicator(rule(weight=20, target=0.9), 72, 100)
    assert score.status == scoring.PRO_RATA
    assert score.points == pytest.approx(16.0)
    assert score.lost == pytest.approx(4.0)
    assert "72.0%" in score.explanation and "90.0%" in score.explanation and "4.00 of 20" in score.explanation


def test_exactly_at_the_floor_still_earns_and_below_it_earns_nothing():
    # 45 of 100 against 0.9 is exactly half the target: 50 % of 20 = 10 points.
    at_floor = scoring.score_indicator(rule(weight=20, target=0.9), 45, 100)
    # 44 of 100 is 48.9 % of the target: below the floor, 0 points, all 20 lost.
    below = scoring.score_indicator(rule(weight=20, target=0.9), 44, 100)
    assert (at_floor.status, at_floor.points) == (scoring.PRO_RATA, pytest.approx(10.0))
    assert (below.status, below.points, below.lost) == (scoring.ZERO, 0.0, 20.0)
    assert "all 20 points lost" in below.explanation


def test_a_higher_floor_cuts_off_earlier():
    # 0.6 against 0.9 is 66.7 % of the way: pro rata with floor 0.5, nothing with floor 0.7.
    assert scoring.score_indicator(rule(weight=30, target=0.9, floor=0.5), 6, 10).points == pytest.approx(20.0)
    assert scoring.score_indicator(rule(weight=30, target=0.9, floor=0.7), 6, 10).status == scoring.ZERO


def test_lower_is_better():
    backlog = rule(weight=10, target=5, direction=scoring.LOWER)
    # 4 open items against at most 5: full. 8 items: 5 / 8 = 62.5 % of the way -> 6.25 points.
    # 12 items: 5 / 12 = 41.7 %, below the floor -> 0, and the text says how high is too high.
    assert scoring.score_indicator(backlog, 4, 1).status == scoring.FULL
    assert scoring.score_indicator(backlog, 8, 1).points == pytest.approx(6.25)
    too_many = scoring.score_indicator(backlog, 12, 1)
    assert too_many.status == scoring.ZERO and "at most 10 earns points" in too_many.explanation
    none_allowed = rule(weight=10, target=0, direction=scoring.LOWER)
    assert scoring.score_indicator(none_allowed, 0, 1).status == scoring.FULL
    assert scoring.score_indicator(none_allowed, 1, 1).status == scoring.ZERO


def test_no_data_is_missing_not_zero():
    score = scoring.score_indicator(rule(weight=20), 0, 0)
    assert (score.status, score.value, score.points, score.lost) == (scoring.MISSING, None, 0.0, 0.0)


# ---------------------------------------------------------------- an office


def test_office_score_weights_indicators_and_dimensions():
    # x.a 0.72/0.9 -> 0.8 x 60 = 48; x.b 1.0 -> 40: d1 = 88. x.c 0.6/0.8 -> 0.75 x 100 = 75: d2 = 75.
    # index = (60 x 88 + 40 x 75) / 100 = 82.8
    score = scoring.score_office(SCHEME, "MH01", {"x.a": (72, 100), "x.b": (5, 5), "x.c": (6, 10)})
    dimensions = {d.key: d for d in score.dimensions}
    assert dimensions["d1"].score == pytest.approx(88.0) and dimensions["d2"].score == pytest.approx(75.0)
    assert score.index == pytest.approx(82.8)


def test_a_missing_indicator_gives_its_weight_to_the_others_in_its_dimension():
    # x.b has no data: d1 is x.a alone, 48 of 60 possible = 80 (not 48 of 100 = 48).
    # index = (60 x 80 + 40 x 75) / 100 = 78
    score = scoring.score_office(SCHEME, "MH01", {"x.a": (72, 100), "x.b": (0, 0), "x.c": (6, 10)})
    d1 = next(d for d in score.dimensions if d.key == "d1")
    assert (d1.points, d1.possible, d1.score) == (pytest.approx(48.0), 60.0, pytest.approx(80.0))
    assert score.index == pytest.approx(78.0)
    as_zero = scoring.score_office(SCHEME, "MH01", {"x.a": (72, 100), "x.b": (0, 5), "x.c": (6, 10)})
    assert as_zero.index == pytest.approx((60 * 48 + 40 * 75) / 100)  # 58.8: a real zero does cost


def test_a_dimension_without_data_is_left_out_of_the_index():
    # Only d1 has data: the index is d1's 88, not 60 % of it.
    score = scoring.score_office(SCHEME, "MH01", {"x.a": (72, 100), "x.b": (5, 5)})
    assert next(d for d in score.dimensions if d.key == "d2").score is None
    assert score.index == pytest.approx(88.0)
    assert scoring.score_office(SCHEME, "MH01", {}).index is None


def test_keys_outside_the_scheme_are_ignored():
    with_extra = scoring.score_office(SCHEME, "MH01", {"x.a": (9, 10), "x.b": (1, 1), "x.c": (8, 10),
                                                       "other.key": (0, 10)})
    assert with_extra.index == pytest.approx(100.0)
    assert [i.key for i in with_extra.indicators] == ["x.a", "x.b", "x.c"]


# ---------------------------------------------------------------- the district


def test_district_ratio_is_sum_of_numerators_over_sum_of_denominators():
    # MH01 handled 9 of 10 complaints on time, MH02 1 of 90. The district: 10 of 100 = 10 %.
    # The mean of the two ratios would be (0.9 + 0.0111) / 2 = 45.6 %: wrong, MH02 did 9 times the work.
    offices = {"MH01": {"x.a": (9.0, 10.0)}, "MH02": {"x.a": (1.0, 90.0)}}
    totals = scoring.district_values(offices)
    assert totals == {"x.a": (10.0, 100.0)}
    mean_of_ratios = (9 / 10 + 1 / 90) / 2
    assert mean_of_ratios == pytest.approx(0.4556, abs=1e-4)
    district = scoring.score_indicator(rule(weight=60, target=0.9), *totals["x.a"])
    # 0.1 / 0.9 = 11 % of the way: below the floor. The mean of ratios would have scored
    # 0.4556 / 0.9 = 50.6 % -> 30.4 points.
    assert district.status == scoring.ZERO


def test_district_values_add_offices_that_lack_a_key():
    totals = scoring.district_values({"MH01": {"x.a": (1, 2), "x.b": (3, 3)}, "MH02": {"x.a": (1, 2)}})
    assert totals == {"x.a": (2, 4), "x.b": (3, 3)}


# ---------------------------------------------------------------- workload and ranking


def test_workload_coefficients_follow_the_formula_and_are_clamped():
    # Workloads: MH01 10 + 2x5 = 20, MH02 30 + 2x15 = 60, MH03 40 + 0 = 40; mean 40.
    # MH01: 1 + 0.5 x (20/40 - 1) = 0.75 -> clamped to 0.9; MH02: 1 + 0.5 x 0.5 = 1.25 -> 1.1;
    # MH03: exactly 1.
    coefficients = scoring.workload_coefficients(SCHEME.workload, {
        "MH01": {"inspections": 10, "cases": 5}, "MH02": {"inspections": 30, "cases": 15},
        "MH03": {"inspections": 40, "cases": 0}})
    assert coefficients == {"MH01": 0.9, "MH02": 1.1, "MH03": pytest.approx(1.0)}
    gentle = WorkloadFormula({"cases": 1.0}, sensitivity=0.1)
    # MH01 3 cases, MH02 1 case; mean 2: 1 + 0.1 x 0.5 = 1.05 and 1 - 0.05 = 0.95.
    assert scoring.workload_coefficients(gentle, {"MH01": {"cases": 3}, "MH02": {"cases": 1}}) == {
        "MH01": pytest.approx(1.05), "MH02": pytest.approx(0.95)}


def test_no_workload_anywhere_gives_every_office_one():
    assert scoring.workload_coefficients(SCHEME.workload, {"MH01": {}, "MH02": {"cases": 0}}) == {
        "MH01": 1.0, "MH02": 1.0}


def office(office_id: str, index: float | None) -> scoring.OfficeScore:
    return scoring.OfficeScore(office_id, index, (), ())


def test_ranking_without_coefficients_shares_ranks_on_ties():
    ranked = scoring.rank([office("MH03", 80), office("MH01", 90), office("MH02", 90), office("MH04", None)])
    assert [(r.office_id, r.rank) for r in ranked] == [("MH01", 1), ("MH02", 1), ("MH03", 3), ("MH04", 4)]
    assert ranked[-1].adjusted is None


def test_coefficients_can_reorder_the_ranking():
    # MH01 90 x 0.95 = 85.5; MH02 85 x 1.08 = 91.8; MH03 80 x 1.0 = 80.
    ranked = scoring.rank([office("MH01", 90), office("MH02", 85), office("MH03", 80)],
                          {"MH01": 0.95, "MH02": 1.08})
    assert [(r.office_id, r.rank, r.coefficient) for r in ranked] == [("MH02", 1, 1.08), ("MH01", 2, 0.95),
                                                                      ("MH03", 3, 1.0)]
    assert ranked[0].adjusted == pytest.approx(91.8) and ranked[0].index == 85


def test_a_tie_made_by_coefficients_shares_the_rank():
    # 88 x 1.0 = 88 and 80 x 1.1 = 88.
    ranked = scoring.rank([office("MH01", 88), office("MH02", 80), office("MH03", 70)], {"MH02": 1.1})
    assert [(r.office_id, r.rank) for r in ranked] == [("MH01", 1), ("MH02", 1), ("MH03", 3)]


# ---------------------------------------------------------------- the scheme itself


def test_scheme_round_trips_through_a_dict():
    assert Scheme.from_dict(SCHEME.to_dict()) == SCHEME
    assert Scheme.from_dict(SCHEME.to_dict()).indicators[0].source == ""  # as given
    assert Scheme.from_dict({"dimensions": [], "indicators": [
        {"key": "complaints.a", "dimension": "d", "weight": 1, "target": 1}]}).indicators[0].source == "complaints"


def test_a_sound_scheme_has_no_problems():
    assert scoring.validate(SCHEME, {"x.a", "x.b", "x.c"}, {"x.a": (0, 1)}, {"cases", "inspections"}) == []


def with_(**changes) -> Scheme:
    data = SCHEME.to_dict()
    for path, value in changes.items():
        target = data
        *parents, last = path.split("__")
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return Scheme.from_dict(data)


@pytest.mark.parametrize(("scheme", "field", "words"), [
    (with_(dimensions__0__weight=50), "scheme.dimensions", "sum to 90"),
    (with_(dimensions__1__key="d1"), "scheme.dimensions", "repeat"),
    (with_(dimensions__0__weight=0, dimensions__1__weight=100), "scheme.dimensions[0].weight", "> 0"),
    (with_(indicators__1__weight=30), "scheme.indicators", "d1 sum to 90"),
    (with_(indicators__1__key="x.a"), "scheme.indicators[1].key", "twice"),
    (with_(indicators__2__key="x.unknown"), "scheme.indicators[2].key", "unknown indicator"),
    (with_(indicators__2__dimension="d9"), "scheme.indicators[2].dimension", "unknown dimension"),
    (with_(indicators__0__direction="sideways"), "scheme.indicators[0].direction", "higher or lower"),
    (with_(indicators__0__rule="best_effort"), "scheme.indicators[0].rule", "threshold_pro_rata"),
    (with_(indicators__0__floor=0), "scheme.indicators[0].floor", "(0, 1]"),
    (with_(indicators__0__floor=1.5), "scheme.indicators[0].floor", "(0, 1]"),
    (with_(indicators__0__target=1.5), "scheme.indicators[0].target", "range [0, 1]"),
    (with_(indicators__0__target=0), "scheme.indicators[0].target", "> 0"),
    (with_(workload__minimum=1.05), "scheme.workload", "bound 1"),
    (with_(workload__maximum=0.95), "scheme.workload", "bound 1"),
    (with_(workload__sensitivity=-1), "scheme.workload.sensitivity", ">= 0"),
    (with_(workload__weights={"cases": -1.0}), "scheme.workload.weights[cases]", ">= 0"),
    (with_(workload__weights={"queues": 1.0}), "scheme.workload.weights[queues]", "unknown workload input"),
    (Scheme(1, "2026-01-01", (Dimension("d1", "A", 100),), ()), "scheme.indicators", "no indicators"),
    (Scheme(1, "2026-01-01", (), ()), "scheme.dimensions", "at least one"),
])
def test_every_kind_of_bad_scheme_is_named(scheme, field, words):
    problems = scoring.validate(scheme, {"x.a", "x.b", "x.c"}, {"x.a": (0.0, 1.0)}, {"cases", "inspections"})
    assert any(f == field and words in text for f, text in problems), problems


@pytest.mark.parametrize("change", [
    {"dimensions__0__weight": math.nan}, {"indicators__0__weight": math.nan}, {"indicators__0__target": math.inf},
    {"indicators__0__target": math.nan}, {"indicators__0__floor": math.nan}, {"workload__maximum": math.inf},
    {"workload__sensitivity": math.nan}, {"workload__weights": {"cases": math.nan}},
])
def test_non_finite_numbers_are_refused(change):
    # NaN compares false with everything: each would slip through a plain range check.
    assert scoring.validate(with_(**change), None, None) != []


def test_unknown_keys_and_ranges_are_checked_only_when_given():
    scheme = with_(indicators__2__key="y.z", indicators__2__target=5)
    assert scoring.validate(scheme) == []
    assert {f for f, _ in scoring.validate(scheme, {"x.a", "x.b"}, {"y.z": (0, 1)})} == {
        "scheme.indicators[2].key", "scheme.indicators[2].target"}


def test_a_difference_in_the_last_bit_is_a_tie_ordered_by_office_id():
    # 0.1 + 0.2 = 0.30000000000000004: the same score as 0.3 for ranking purposes.
    ranked = scoring.rank([office("MH02", (0.1 + 0.2) * 100), office("MH01", 30.0)])
    assert [(r.office_id, r.rank) for r in ranked] == [("MH01", 1), ("MH02", 1)]
