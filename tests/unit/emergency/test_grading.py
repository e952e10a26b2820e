"""Grading I-IV by the shipped rule set, at every boundary of its tables.

Each row: the incident type, the counts and circumstances reported, the level expected and the
criteria expected to decide it. One below and at each threshold, so a figure moved in the data or an
off-by-one in the engine (> instead of >=) fails a row.
"""

from __future__ import annotations

import datetime as dt

import pytest

from services.emergency.domain.grading import ESCALATION_CRITERION, grade, with_escalation
from services.emergency.domain.rules import COUNT_FIELDS, RuleBook

BOOK = RuleBook.load()
RULES = BOOK.in_force(dt.date(2026, 11, 2))

FOOD, EQUIPMENT, DRUG, PRODUCT, DISPUTE = (
    "FOOD_SAFETY", "SPECIAL_EQUIPMENT", "DRUG_DEVICE_ADVERSE_EVENT", "PRODUCT_QUALITY", "MASS_CONSUMER_DISPUTE")

CASES = [
    # food safety: ill 99/100, deaths 0/1, 9/10, 100 ill with a death, spread with harm
    (FOOD, {}, [], "IV", ["DEFAULT"]),
    (FOOD, {"ill_count": 1}, [], "IV", ["FS-IV-ill"]),
    (FOOD, {"ill_count": 99}, [], "IV", ["FS-IV-ill"]),
    (FOOD, {"ill_count": 100}, [], "III", ["FS-III-ill"]),
    (FOOD, {"ill_count": 99, "death_count": 0}, ["serious_harm"], "IV", ["FS-IV-harm", "FS-IV-ill"]),
    (FOOD, {"death_count": 1}, [], "III", ["FS-III-death"]),
    (FOOD, {"ill_count": 99, "death_count": 1}, [], "III", ["FS-III-death"]),
    (FOOD, {"ill_count": 100, "death_count": 1}, [], "II", ["FS-II-ill-with-deaths"]),
    (FOOD, {"death_count": 9}, [], "III", ["FS-III-death"]),
    (FOOD, {"death_count": 10}, [], "II", ["FS-II-deaths"]),
    (FOOD, {"counties_reached": 2}, [], "IV", ["DEFAULT"]),
    (FOOD, {"counties_reached": 1}, ["serious_harm"], "IV", ["FS-IV-harm"]),
    (FOOD, {"counties_reached": 2}, ["serious_harm"], "III", ["FS-III-counties"]),
    (FOOD, {"cities_reached": 2}, ["serious_harm"], "II", ["FS-II-cities"]),
    (FOOD, {}, ["new_contaminant_spreading"], "II", ["FS-II-new-contaminant"]),
    (FOOD, {"provinces_reached": 2}, ["serious_harm"], "IV", ["FS-IV-harm"]),
    # especially serious harm implies serious harm, so the lower spread criteria hold too
    (FOOD, {"provinces_reached": 1, "cities_reached": 2}, ["especially_serious_harm"], "II", ["FS-II-cities"]),
    (FOOD, {"provinces_reached": 2}, ["especially_serious_harm"], "I", ["FS-I-provinces"]),
    (FOOD, {}, ["reached_abroad", "especially_serious_harm"], "I", ["FS-I-abroad"]),
    (FOOD, {}, ["reached_abroad", "serious_harm"], "IV", ["FS-IV-harm"]),
    # special equipment: deaths 2/3, 9/10, 29/30; injuries 9/10, 49/50, 99/100; money thresholds
    (EQUIPMENT, {"death_count": 1}, [], "IV", ["SE-IV-deaths"]),
    (EQUIPMENT, {"death_count": 2}, [], "IV", ["SE-IV-deaths"]),
    (EQUIPMENT, {"death_count": 3}, [], "III", ["SE-III-deaths"]),
    (EQUIPMENT, {"death_count": 9}, [], "III", ["SE-III-deaths"]),
    (EQUIPMENT, {"death_count": 10}, [], "II", ["SE-II-deaths"]),
    (EQUIPMENT, {"death_count": 29}, [], "II", ["SE-II-deaths"]),
    (EQUIPMENT, {"death_count": 30}, [], "I", ["SE-I-deaths"]),
    (EQUIPMENT, {"serious_injury_count": 9}, [], "IV", ["SE-IV-injuries"]),
    (EQUIPMENT, {"serious_injury_count": 10}, [], "III", ["SE-III-injuries"]),
    (EQUIPMENT, {"serious_injury_count": 49}, [], "III", ["SE-III-injuries"]),
    (EQUIPMENT, {"serious_injury_count": 50}, [], "II", ["SE-II-injuries"]),
    (EQUIPMENT, {"serious_injury_count": 99}, [], "II", ["SE-II-injuries"]),
    (EQUIPMENT, {"serious_injury_count": 100}, [], "I", ["SE-I-injuries"]),
    (EQUIPMENT, {"economic_loss_yuan": 9_999}, [], "IV", ["DEFAULT"]),
    (EQUIPMENT, {"economic_loss_yuan": 10_000}, [], "IV", ["SE-IV-loss"]),
    (EQUIPMENT, {"economic_loss_yuan": 9_999_999}, [], "IV", ["SE-IV-loss"]),
    (EQUIPMENT, {"economic_loss_yuan": 10_000_000}, [], "III", ["SE-III-loss"]),
    (EQUIPMENT, {"economic_loss_yuan": 49_999_999}, [], "III", ["SE-III-loss"]),
    (EQUIPMENT, {"economic_loss_yuan": 50_000_000}, [], "II", ["SE-II-loss"]),
    (EQUIPMENT, {"economic_loss_yuan": 99_999_999}, [], "II", ["SE-II-loss"]),
    (EQUIPMENT, {"economic_loss_yuan": 100_000_000}, [], "I", ["SE-I-loss"]),
    # elevator passengers trapped: 2 hours or more, and somebody must have been trapped
    (EQUIPMENT, {"trapped_count": 3, "trapped_hours": 1.99}, [], "IV", ["DEFAULT"]),
    (EQUIPMENT, {"trapped_count": 3, "trapped_hours": 2}, [], "IV", ["SE-IV-elevator"]),
    (EQUIPMENT, {"trapped_count": 0, "trapped_hours": 2}, [], "IV", ["DEFAULT"]),
    (EQUIPMENT, {"trapped_count": 1, "trapped_hours": 11.9}, ["aerial_stranding"], "IV", ["SE-IV-elevator"]),
    (EQUIPMENT, {"trapped_count": 1, "trapped_hours": 12}, ["aerial_stranding"], "III", ["SE-III-aerial"]),
    (EQUIPMENT, {"trapped_count": 99, "trapped_hours": 48}, ["aerial_stranding"], "III", ["SE-III-aerial"]),
    (EQUIPMENT, {"trapped_count": 100, "trapped_hours": 24}, ["aerial_stranding"], "II", ["SE-II-aerial"]),
    (EQUIPMENT, {"trapped_count": 100, "trapped_hours": 48}, ["aerial_stranding"], "I", ["SE-I-aerial"]),
    (EQUIPMENT, {}, ["crane_overturned"], "III", ["SE-III-crane"]),
    (EQUIPMENT, {}, ["crane_structure_failure"], "IV", ["SE-IV-crane-structure"]),
    (EQUIPMENT, {}, ["pressure_explosion"], "III", ["SE-III-explosion"]),
    (EQUIPMENT, {}, ["large_boiler_explosion"], "I", ["SE-I-boiler"]),
    (EQUIPMENT, {"evacuated_count": 499}, ["toxic_leak"], "IV", ["DEFAULT"]),
    (EQUIPMENT, {"evacuated_count": 500}, ["toxic_leak"], "IV", ["SE-IV-evacuation"]),
    (EQUIPMENT, {"evacuated_count": 9_999}, ["toxic_leak"], "IV", ["SE-IV-evacuation"]),
    (EQUIPMENT, {"evacuated_count": 10_000}, ["toxic_leak"], "III", ["SE-III-evacuation"]),
    (EQUIPMENT, {"evacuated_count": 49_999}, ["toxic_leak"], "III", ["SE-III-evacuation"]),
    (EQUIPMENT, {"evacuated_count": 50_000}, ["toxic_leak"], "II", ["SE-II-evacuation"]),
    (EQUIPMENT, {"evacuated_count": 149_999}, ["toxic_leak"], "II", ["SE-II-evacuation"]),
    (EQUIPMENT, {"evacuated_count": 150_000}, [], "IV", ["DEFAULT"]),
    (EQUIPMENT, {"evacuated_count": 150_000}, ["toxic_leak"], "I", ["SE-I-evacuation"]),
    # every criterion met at the deciding level is named
    (EQUIPMENT, {"death_count": 3, "serious_injury_count": 12}, ["crane_overturned"], "III",
     ["SE-III-deaths", "SE-III-injuries", "SE-III-crane"]),
    # local practice types
    (DRUG, {"ill_count": 9}, [], "IV", ["DEFAULT"]),
    (DRUG, {"ill_count": 10}, [], "IV", ["DD-IV-cases"]),
    (DRUG, {"ill_count": 20}, [], "III", ["DD-III-cases"]),
    (DRUG, {"ill_count": 49}, [], "II", ["DD-II-cases"]),
    (DRUG, {"ill_count": 50}, [], "I", ["DD-I-cases"]),
    (DRUG, {"death_count": 1}, [], "III", ["DD-III-death"]),
    (PRODUCT, {"economic_loss_yuan": 99_999}, [], "IV", ["DEFAULT"]),
    (PRODUCT, {"economic_loss_yuan": 100_000}, [], "IV", ["PQ-IV-loss"]),
    (PRODUCT, {"economic_loss_yuan": 1_000_000}, [], "III", ["PQ-III-loss"]),
    (PRODUCT, {"death_count": 3}, [], "II", ["PQ-II-deaths"]),
    (DISPUTE, {"affected_count": 29}, [], "IV", ["DEFAULT"]),
    (DISPUTE, {"affected_count": 30}, [], "IV", ["MD-IV-consumers"]),
    (DISPUTE, {"affected_count": 299, "economic_loss_yuan": 2_999_999}, [], "IV",
     ["MD-IV-consumers", "MD-IV-amount"]),
    (DISPUTE, {"affected_count": 300}, [], "III", ["MD-III-consumers"]),
    (DISPUTE, {"economic_loss_yuan": 3_000_000}, [], "III", ["MD-III-amount"]),
    (DISPUTE, {}, ["crowd_gathering"], "III", ["MD-III-crowd"]),
    (DISPUTE, {"affected_count": 1000}, [], "II", ["MD-II-consumers"]),
    (DISPUTE, {"affected_count": 10_000}, [], "I", ["MD-I-consumers"]),
]


def counts(**given: float) -> dict[str, float]:
    return dict.fromkeys(COUNT_FIELDS, 0) | given


@pytest.mark.parametrize(("incident_type", "given", "circumstances", "level", "criteria"), CASES)
def test_grading_boundaries(incident_type, given, circumstances, level, criteria):
    grading = grade(RULES.types[incident_type], counts(**given), frozenset(circumstances))
    assert grading.level == level
    assert [r.criterion for r in grading.reasons] == criteria
    assert {r.level for r in grading.reasons} == {level}


def test_every_criterion_of_the_shipped_rules_is_exercised_at_its_level():
    """A criterion nobody tests is a figure nobody checked."""
    exercised = {(t, c) for t, _, _, _, criteria in CASES for c in criteria}
    untested = [(rules.type, c.id) for rules in RULES.types.values() for c in rules.criteria
                if rules.type in (FOOD, EQUIPMENT) and (rules.type, c.id) not in exercised]
    assert untested == []


def test_an_escalation_above_the_criteria_decides_and_keeps_their_reasons():
    rules = RULES.types[FOOD]
    base = grade(rules, counts(ill_count=45), frozenset())
    escalated = with_escalation(base, "III", "社会关注度高")
    assert escalated.level == "III"
    assert [(r.level, r.criterion) for r in escalated.reasons] == [("III", ESCALATION_CRITERION), ("IV", "FS-IV-ill")]


def test_an_escalation_the_criteria_caught_up_with_no_longer_decides():
    rules = RULES.types[FOOD]
    base = grade(rules, counts(ill_count=100, death_count=1), frozenset())
    assert with_escalation(base, "III", "earlier escalation") == base
    assert with_escalation(base, "II", "same level") == base
