"""How many targets a plan draws: its ratio over its whole scope, rounded once by the rule the plan
states, key objects counted within a uniform ratio; the old per-tier rule kept for old plans."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.mobile_enforcement.domain import draw
from services.mobile_enforcement.domain.draw import CEIL, GROUPS, HALF_UP, KEY, PER_GROUP_CEIL, plan_quota
from services.mobile_enforcement.domain.spot_check_policy import default_rounding

TIERS = GROUPS[1:]


def sizes(key: int = 0, low: int = 0, medium: int = 0, high: int = 0, very_high: int = 0) -> dict[str, int]:
    return {KEY: key, "LOW": low, "MEDIUM": medium, "HIGH": high, "VERY_HIGH": very_high}


# (sizes, ratio in basis points, rule, exact share, total): each rounding threshold, one below, one above.
UNIFORM_CASES = [
    (sizes(low=46), 500, HALF_UP, "2.3", 2),
    (sizes(low=46), 500, CEIL, "2.3", 3),
    (sizes(key=1, low=20, medium=15, high=10), 500, HALF_UP, "2.3", 2),  # the key object is one of the 2
    (sizes(key=1, low=20, medium=15, high=10), 500, CEIL, "2.3", 3),
    (sizes(low=49), 500, HALF_UP, "2.45", 2),  # just below the half
    (sizes(low=50), 500, HALF_UP, "2.5", 3),  # the half itself rounds up
    (sizes(low=51), 500, HALF_UP, "2.55", 3),
    (sizes(low=40), 500, CEIL, "2", 2),  # a whole share is not rounded up
    (sizes(low=41), 500, CEIL, "2.05", 3),
    (sizes(low=9), 500, HALF_UP, "0.45", 0),  # the rule may draw nobody: the plan said so
    (sizes(low=9), 500, CEIL, "0.45", 1),
    (sizes(key=5, low=40), 500, HALF_UP, "2.25", 5),  # key objects have no cap: all of them
    (sizes(low=3, medium=3), 10000, HALF_UP, "6", 6),
]


@pytest.mark.parametrize(("group_sizes", "ratio", "rounding", "share", "total"), UNIFORM_CASES)
def test_a_uniform_ratio_is_rounded_once_over_the_whole_scope(group_sizes, ratio, rounding, share, total):
    quota = plan_quota(group_sizes, dict.fromkeys(TIERS, ratio), rounding, uniform_ratio=ratio)
    assert (quota.exact_share, quota.total, sum(quota.per_group.values())) == (share, total, total)
    assert quota.per_group[KEY] == group_sizes[KEY]
    assert all(quota.per_group[g] <= group_sizes[g] for g in GROUPS)


def test_the_old_rule_rounded_each_tier_up_and_drew_every_key_on_top():
    # The plans drawn before: 5% of 46 entities over four tiers and a key object came to 5, not 2.
    group_sizes = sizes(key=1, low=20, medium=15, high=5, very_high=5)
    old = plan_quota(group_sizes, dict.fromkeys(TIERS, 500), PER_GROUP_CEIL)
    assert (old.total, old.per_group) == (5, {KEY: 1, "LOW": 1, "MEDIUM": 1, "HIGH": 1, "VERY_HIGH": 1})
    assert plan_quota(group_sizes, dict.fromkeys(TIERS, 500), HALF_UP, uniform_ratio=500).total == 2


def test_tier_ratios_are_summed_rounded_once_and_shared_by_largest_remainder():
    # 30% of 10, 10% of 8, 2% of 10, 1% of 8 = 3 + 0.8 + 0.2 + 0.08 = 4.08 -> 4 (half up) or 5 (up);
    # key objects (in no tier) besides.
    ratios = {"VERY_HIGH": 3000, "HIGH": 1000, "MEDIUM": 200, "LOW": 100}
    group_sizes = sizes(key=4, low=8, medium=10, high=8, very_high=10)
    half_up = plan_quota(group_sizes, ratios, HALF_UP)
    assert (half_up.exact_share, half_up.total) == ("4.08", 8)
    assert half_up.per_group == {KEY: 4, "VERY_HIGH": 3, "HIGH": 1, "MEDIUM": 0, "LOW": 0}
    # Rounded up, 5 are shared in proportion: 3.68, 0.98, 0.25, 0.10 -> 3, 0, 0, 0 and the two largest
    # remainders (0.98, 0.68) one more each.
    ceil = plan_quota(group_sizes, ratios, CEIL)
    assert ceil.total == 9 and ceil.per_group == {KEY: 4, "VERY_HIGH": 4, "HIGH": 1, "MEDIUM": 0, "LOW": 0}
    # A tier left out (ratio 0) gets nobody, whatever the remainders.
    assert plan_quota(group_sizes, {"VERY_HIGH": 3000}, CEIL).per_group == {
        KEY: 4, "VERY_HIGH": 3, "HIGH": 0, "MEDIUM": 0, "LOW": 0}


@given(st.lists(st.integers(0, 60), min_size=5, max_size=5), st.integers(1, draw.BASIS_POINTS),
       st.sampled_from([HALF_UP, CEIL]))
def test_the_draw_takes_exactly_the_quota_of_each_group(counts, ratio, rounding):
    group_sizes = dict(zip(GROUPS, counts, strict=True))
    quota = plan_quota(group_sizes, dict.fromkeys(TIERS, ratio), rounding, uniform_ratio=ratio)
    exact = sum(counts) * ratio
    expected = draw.rounded(exact, rounding)
    assert quota.total == max(expected, group_sizes[KEY])
    # Proportional: no tier is more than one target off its exact part of what the general objects get.
    general = sum(group_sizes[t] for t in TIERS)
    drawn_general = quota.total - group_sizes[KEY]
    for tier in TIERS:
        if general:
            assert abs(quota.per_group[tier] * general - drawn_general * group_sizes[tier]) <= general
    ids = {g: [f"{g}{n:03d}" for n in range(group_sizes[g])] for g in GROUPS}
    roster = draw.officer_roster([draw.RosterEntry("A", True), draw.RosterEntry("B", True)])
    targets = draw.draw("seed", draw.entity_snapshot(ids), roster, dict.fromkeys(TIERS, ratio), 2, rounding, ratio)
    assert len(targets) == len({t.entity_id for t in targets}) == quota.total
    assert all(sum(t.group == g for t in targets) == quota.per_group[g] for g in GROUPS)


def test_a_plan_stating_no_rounding_gets_the_policy_in_force():
    assert default_rounding(dt.date(2026, 12, 7)) in draw.ROUNDING_RULES
    with pytest.raises(ValueError, match="unknown rounding"):
        draw.rounded(1, PER_GROUP_CEIL)
