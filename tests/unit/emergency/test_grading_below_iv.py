"""Grading by the rule set of December 2026 at every threshold of the food-safety and
special-equipment tables: hierarchical reach, the outcome below level IV with its own handling, and
the upward report every special-equipment accident raises.

Each threshold is tried one below, at and one above, so a figure moved in the data or an off-by-one
in the engine (> instead of >=) fails a row; a row that meets no criterion must come out below level
IV, never level IV by default.
"""

from __future__ import annotations

import datetime as dt

import pytest

from services.emergency.domain.grading import ESCALATION_CRITERION, grade, with_escalation
from services.emergency.domain.rules import BELOW_IV, COUNT_FIELDS, LEVELS, NOTIFICATION, RuleBook, more_severe

RULES = RuleBook.load().in_force(dt.date(2026, 12, 7))
FOOD, EQUIPMENT = "FOOD_SAFETY", "SPECIAL_EQUIPMENT"
# What an incident meeting no criterion is, per type, and the handling it gets.
FOOD_CLEAR, FOOD_UNCLEAR, NOT_ACCIDENT = "FS-BELOW-IV-cause-clear", "FS-BELOW-IV-cause-unclear", "SE-NOT-ACCIDENT"
BELOW = {FOOD: "BELOW_LEVEL_IV", EQUIPMENT: "NOT_AN_ACCIDENT"}

FOOD_CASES = [
    # nobody ill, no harm: below level IV, the handling by whether the cause is clear
    ({}, [], BELOW_IV, [FOOD_UNCLEAR]),
    ({}, ["cause_clear"], BELOW_IV, [FOOD_CLEAR]),
    # ill: 0 / 1 / 2 at the IV threshold; 99 / 100 / 101 at the III threshold
    ({"ill_count": 0}, ["cause_clear"], BELOW_IV, [FOOD_CLEAR]),
    ({"ill_count": 1}, ["cause_clear"], "IV", ["FS-IV-ill"]),
    ({"ill_count": 2}, [], "IV", ["FS-IV-ill"]),
    ({"ill_count": 99}, [], "IV", ["FS-IV-ill"]),
    ({"ill_count": 100}, [], "III", ["FS-III-ill"]),
    ({"ill_count": 101}, [], "III", ["FS-III-ill"]),
    # deaths: 0 / 1 / 2 at the III threshold; 9 / 10 / 11 at the II threshold
    ({"ill_count": 5, "death_count": 0}, [], "IV", ["FS-IV-ill"]),
    ({"death_count": 1}, [], "III", ["FS-III-death"]),
    ({"death_count": 2}, [], "III", ["FS-III-death"]),
    ({"death_count": 9}, [], "III", ["FS-III-death"]),
    ({"death_count": 10}, [], "II", ["FS-II-deaths"]),
    ({"death_count": 11}, [], "II", ["FS-II-deaths"]),
    # 100 ill with a death: 99 / 100 / 101 ill
    ({"ill_count": 99, "death_count": 1}, [], "III", ["FS-III-death"]),
    ({"ill_count": 100, "death_count": 1}, [], "II", ["FS-II-ill-with-deaths"]),
    ({"ill_count": 101, "death_count": 1}, [], "II", ["FS-II-ill-with-deaths"]),
    # serious harm alone is level IV
    ({}, ["serious_harm"], "IV", ["FS-IV-harm"]),
    # counties 1 / 2 / 3 with serious harm; without it the spread alone grades nothing
    ({"counties_reached": 1}, ["serious_harm"], "IV", ["FS-IV-harm"]),
    ({"counties_reached": 2}, ["serious_harm"], "III", ["FS-III-counties"]),
    ({"counties_reached": 3}, ["serious_harm"], "III", ["FS-III-counties"]),
    ({"counties_reached": 2}, [], BELOW_IV, [FOOD_UNCLEAR]),
    # cities 1 / 2 / 3: two cities are also two counties, so III holds too but II decides
    ({"cities_reached": 1}, ["serious_harm"], "IV", ["FS-IV-harm"]),
    ({"cities_reached": 2}, ["serious_harm"], "II", ["FS-II-cities"]),
    ({"cities_reached": 3}, ["serious_harm"], "II", ["FS-II-cities"]),
    # provinces 1 / 2 / 3: two provinces are two cities and two counties (hierarchical reach)
    ({"provinces_reached": 1}, ["serious_harm"], "IV", ["FS-IV-harm"]),
    ({"provinces_reached": 2}, ["serious_harm"], "II", ["FS-II-cities"]),
    ({"provinces_reached": 3}, ["serious_harm"], "II", ["FS-II-cities"]),
    ({"provinces_reached": 1}, ["especially_serious_harm"], "IV", ["FS-IV-harm"]),
    ({"provinces_reached": 2}, ["especially_serious_harm"], "I", ["FS-I-provinces"]),
    ({"provinces_reached": 2, "cities_reached": 0, "counties_reached": 0}, ["serious_harm"], "II", ["FS-II-cities"]),
    ({"provinces_reached": 2}, [], BELOW_IV, [FOOD_UNCLEAR]),
    # the other circumstances
    ({}, ["new_contaminant_spreading"], "II", ["FS-II-new-contaminant"]),
    ({}, ["reached_abroad", "especially_serious_harm"], "I", ["FS-I-abroad"]),
    ({}, ["reached_abroad", "serious_harm"], "IV", ["FS-IV-harm"]),
    ({}, ["reached_abroad"], BELOW_IV, [FOOD_UNCLEAR]),
]

EQUIPMENT_CASES = [
    # deaths: 0 / 1 / 2 at IV; 2 / 3 / 4 at III; 9 / 10 / 11 at II; 29 / 30 / 31 at I
    ({"death_count": 0}, [], BELOW_IV, [NOT_ACCIDENT]),
    ({"death_count": 1}, [], "IV", ["SE-IV-deaths"]),
    ({"death_count": 2}, [], "IV", ["SE-IV-deaths"]),
    ({"death_count": 3}, [], "III", ["SE-III-deaths"]),
    ({"death_count": 4}, [], "III", ["SE-III-deaths"]),
    ({"death_count": 9}, [], "III", ["SE-III-deaths"]),
    ({"death_count": 10}, [], "II", ["SE-II-deaths"]),
    ({"death_count": 11}, [], "II", ["SE-II-deaths"]),
    ({"death_count": 29}, [], "II", ["SE-II-deaths"]),
    ({"death_count": 30}, [], "I", ["SE-I-deaths"]),
    ({"death_count": 31}, [], "I", ["SE-I-deaths"]),
    # serious injuries: 0 / 1 / 2; 9 / 10 / 11; 49 / 50 / 51; 99 / 100 / 101
    ({"serious_injury_count": 1}, [], "IV", ["SE-IV-injuries"]),
    ({"serious_injury_count": 2}, [], "IV", ["SE-IV-injuries"]),
    ({"serious_injury_count": 9}, [], "IV", ["SE-IV-injuries"]),
    ({"serious_injury_count": 10}, [], "III", ["SE-III-injuries"]),
    ({"serious_injury_count": 11}, [], "III", ["SE-III-injuries"]),
    ({"serious_injury_count": 49}, [], "III", ["SE-III-injuries"]),
    ({"serious_injury_count": 50}, [], "II", ["SE-II-injuries"]),
    ({"serious_injury_count": 51}, [], "II", ["SE-II-injuries"]),
    ({"serious_injury_count": 99}, [], "II", ["SE-II-injuries"]),
    ({"serious_injury_count": 100}, [], "I", ["SE-I-injuries"]),
    ({"serious_injury_count": 101}, [], "I", ["SE-I-injuries"]),
    # direct economic loss, yuan: 10k, 10M, 50M, 100M, each one below, at and one above
    ({"economic_loss_yuan": 9_999}, [], BELOW_IV, [NOT_ACCIDENT]),
    ({"economic_loss_yuan": 10_000}, [], "IV", ["SE-IV-loss"]),
    ({"economic_loss_yuan": 10_001}, [], "IV", ["SE-IV-loss"]),
    ({"economic_loss_yuan": 9_999_999}, [], "IV", ["SE-IV-loss"]),
    ({"economic_loss_yuan": 10_000_000}, [], "III", ["SE-III-loss"]),
    ({"economic_loss_yuan": 10_000_001}, [], "III", ["SE-III-loss"]),
    ({"economic_loss_yuan": 49_999_999}, [], "III", ["SE-III-loss"]),
    ({"economic_loss_yuan": 50_000_000}, [], "II", ["SE-II-loss"]),
    ({"economic_loss_yuan": 50_000_001}, [], "II", ["SE-II-loss"]),
    ({"economic_loss_yuan": 99_999_999}, [], "II", ["SE-II-loss"]),
    ({"economic_loss_yuan": 100_000_000}, [], "I", ["SE-I-loss"]),
    ({"economic_loss_yuan": 100_000_001}, [], "I", ["SE-I-loss"]),
    # lift passengers trapped: under the rule set's 2 hours with no injury is not an accident
    ({"trapped_count": 3, "trapped_hours": 1.9}, [], BELOW_IV, [NOT_ACCIDENT]),
    ({"trapped_count": 3, "trapped_hours": 1.99}, [], BELOW_IV, [NOT_ACCIDENT]),
    ({"trapped_count": 3, "trapped_hours": 2}, [], "IV", ["SE-IV-elevator"]),
    ({"trapped_count": 3, "trapped_hours": 2.1}, [], "IV", ["SE-IV-elevator"]),
    ({"trapped_count": 3, "trapped_hours": 1.9, "serious_injury_count": 1}, [], "IV", ["SE-IV-injuries"]),
    # toxic leak evacuations: 499 / 500 / 501; 9,999 / 10,000 / 10,001; 49,999 / 50,000; 149,999 / 150,000
    ({"evacuated_count": 499}, ["toxic_leak"], BELOW_IV, [NOT_ACCIDENT]),
    ({"evacuated_count": 500}, ["toxic_leak"], "IV", ["SE-IV-evacuation"]),
    ({"evacuated_count": 501}, ["toxic_leak"], "IV", ["SE-IV-evacuation"]),
    ({"evacuated_count": 9_999}, ["toxic_leak"], "IV", ["SE-IV-evacuation"]),
    ({"evacuated_count": 10_000}, ["toxic_leak"], "III", ["SE-III-evacuation"]),
    ({"evacuated_count": 10_001}, ["toxic_leak"], "III", ["SE-III-evacuation"]),
    ({"evacuated_count": 49_999}, ["toxic_leak"], "III", ["SE-III-evacuation"]),
    ({"evacuated_count": 50_000}, ["toxic_leak"], "II", ["SE-II-evacuation"]),
    ({"evacuated_count": 149_999}, ["toxic_leak"], "II", ["SE-II-evacuation"]),
    ({"evacuated_count": 150_000}, ["toxic_leak"], "I", ["SE-I-evacuation"]),
    ({"evacuated_count": 150_000}, [], BELOW_IV, [NOT_ACCIDENT]),
    # aerial stranding: 11.9 / 12 h; 100 people for 23.9 / 24 h and 47.9 / 48 h
    ({"trapped_count": 1, "trapped_hours": 11.9}, ["aerial_stranding"], "IV", ["SE-IV-elevator"]),
    ({"trapped_count": 1, "trapped_hours": 12}, ["aerial_stranding"], "III", ["SE-III-aerial"]),
    ({"trapped_count": 100, "trapped_hours": 23.9}, ["aerial_stranding"], "III", ["SE-III-aerial"]),
    ({"trapped_count": 99, "trapped_hours": 24}, ["aerial_stranding"], "III", ["SE-III-aerial"]),
    ({"trapped_count": 100, "trapped_hours": 24}, ["aerial_stranding"], "II", ["SE-II-aerial"]),
    ({"trapped_count": 100, "trapped_hours": 47.9}, ["aerial_stranding"], "II", ["SE-II-aerial"]),
    ({"trapped_count": 100, "trapped_hours": 48}, ["aerial_stranding"], "I", ["SE-I-aerial"]),
    # circumstances
    ({}, ["crane_structure_failure"], "IV", ["SE-IV-crane-structure"]),
    ({}, ["crane_overturned"], "III", ["SE-III-crane"]),
    ({}, ["pressure_explosion"], "III", ["SE-III-explosion"]),
    ({}, ["large_boiler_explosion"], "I", ["SE-I-boiler"]),
]

CASES = [(FOOD, *case) for case in FOOD_CASES] + [(EQUIPMENT, *case) for case in EQUIPMENT_CASES]


def counts(**given: float) -> dict[str, float]:
    return dict.fromkeys(COUNT_FIELDS, 0) | given


@pytest.mark.parametrize(("incident_type", "given", "circumstances", "level", "criteria"), CASES)
def test_grading_at_every_threshold(incident_type, given, circumstances, level, criteria):
    grading = grade(RULES.types[incident_type], counts(**given), frozenset(circumstances))
    assert (grading.level, [r.criterion for r in grading.reasons]) == (level, criteria)
    assert {r.level for r in grading.reasons} == {level}
    if level == BELOW_IV:
        assert (grading.outcome, grading.handling) == (BELOW[incident_type], criteria[0])
    else:
        assert (grading.outcome, grading.handling) == ("GRADED", "")


def test_every_criterion_and_handling_of_both_tables_is_exercised():
    """A criterion nobody tests is a figure nobody checked."""
    exercised = {(t, c) for t, _, _, _, criteria in CASES for c in criteria}
    known = {(t, c.id) for t in (FOOD, EQUIPMENT) for c in RULES.types[t].criteria}
    known |= {(t, h.id) for t in (FOOD, EQUIPMENT) for h in RULES.types[t].below_level_iv.handlings}
    assert known - exercised == set()


def test_reported_reach_is_kept_and_only_grading_lifts_it():
    reported = counts(provinces_reached=2)
    lifted = RULES.types[FOOD].reached(reported)
    assert (lifted["provinces_reached"], lifted["cities_reached"], lifted["counties_reached"]) == (2, 2, 2)
    assert reported["cities_reached"] == 0
    # more cities than provinces: the larger figure stands
    assert RULES.types[FOOD].reached(counts(provinces_reached=2, cities_reached=5))["counties_reached"] == 5


def test_below_level_iv_plans_are_the_handlings_own():
    food = RULES.types[FOOD]
    clear = food.plan_for(BELOW_IV, frozenset({"cause_clear"}))
    assert [a.code for a in clear] == ["NOTIFY_HEALTH", "JOINT_HANDLING"]
    assert "卫生健康委" in clear[0].title and "疾控中心" in clear[1].title
    assert [a.code for a in food.plan_for(BELOW_IV, frozenset())] == ["REPORT", "ROUTINE_FOLLOW_UP"]
    lift = RULES.types[EQUIPMENT].plan_for(BELOW_IV)
    # Not an accident: recorded and followed up, no report upward.
    assert [a.code for a in lift] == ["RECORD", "ROUTINE_FOLLOW_UP"]
    assert all(a.kind != NOTIFICATION for a in lift)


@pytest.mark.parametrize("level", LEVELS)
def test_every_special_equipment_accident_reports_upward(level):
    plan = {a.code: a for a in RULES.types[EQUIPMENT].plan_for(level)}
    # The unit's report reaches the county-level regulator within 1 hour; each level above within 2.
    assert (plan["REPORT"].kind, plan["REPORT"].due[level]) == (NOTIFICATION, dt.timedelta(hours=1))
    assert (plan["REPORT_UPWARD"].kind, plan["REPORT_UPWARD"].due[level]) == (NOTIFICATION, dt.timedelta(hours=2))
    assert RULES.types[EQUIPMENT].unit_report_within == dt.timedelta(hours=1)
    assert RULES.types[FOOD].unit_report_within is None


def test_below_level_iv_ranks_under_iv_and_an_officer_may_raise_it():
    assert more_severe("IV", BELOW_IV) and not more_severe(BELOW_IV, "IV")
    base = grade(RULES.types[EQUIPMENT], counts(trapped_count=1, trapped_hours=1.5), frozenset())
    raised = with_escalation(base, "IV", "被困者为孕妇，社会关注度高")
    assert (raised.level, raised.outcome, raised.handling) == ("IV", "GRADED", "")
    assert [r.criterion for r in raised.reasons] == [ESCALATION_CRITERION, NOT_ACCIDENT]
