"""The spot-check draw (双随机) as a pure function: properties over generated directories, the
published canonical form, and a pinned draw that guards reproducibility across releases."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.common.errors import FailedPrecondition
from services.mobile_enforcement.domain import draw
from services.mobile_enforcement.domain.draw import GROUPS, KEY, RosterEntry, drawn_count

TIERS = GROUPS[1:]


@st.composite
def directories(draw_value, with_conflicts: bool = True):
    sizes = draw_value(st.lists(st.integers(0, 40), min_size=len(GROUPS), max_size=len(GROUPS)))
    groups, number = {}, 0
    for group, size in zip(GROUPS, sizes, strict=True):
        groups[group] = [f"E{n:05d}" for n in range(number, number + size)]
        number += size
    every_id = [i for ids in groups.values() for i in ids]
    officers = []
    for index in range(draw_value(st.integers(0, 9))):
        conflicts = draw_value(st.lists(st.sampled_from(every_id), max_size=3, unique=True)) \
            if with_conflicts and every_id else []
        officers.append(RosterEntry(f"MH01-{index:03d}", draw_value(st.booleans()), tuple(conflicts)))
    ratios = {tier: draw_value(st.integers(0, draw.BASIS_POINTS)) for tier in TIERS}
    return draw.entity_snapshot(groups), draw.officer_roster(officers), ratios


seeds = st.text(max_size=20)
teams = st.integers(2, 3)


def staffable(roster: draw.OfficerRoster, targets: set[str], per_target: int) -> bool:
    certified = [o for o in roster.officers if o.certified]
    if len(certified) < per_target:
        return False
    return all(sum(1 for o in certified if entity_id not in o.conflicts) >= per_target for entity_id in targets)


def chosen(entities: draw.EntitySnapshot, targets: list[draw.Target]) -> dict[str, int]:
    counts = Counter(t.group for t in targets)
    return {group: counts.get(group, 0) for group in GROUPS}


@settings(max_examples=150, deadline=None)
@given(directories(), seeds, teams)
def test_the_same_seed_and_snapshots_give_the_same_plan(directory, seed, per_target):
    entities, roster, ratios = directory
    try:
        first = draw.draw(seed, entities, roster, ratios, per_target)
    except FailedPrecondition:
        return
    # What anyone can do: read the published texts back and draw again.
    republished = draw.draw(seed, draw.parse_entities(entities.canonical()), draw.parse_officers(roster.canonical()),
                            ratios, per_target)
    assert republished == first == draw.draw(seed, entities, roster, ratios, per_target)


@settings(max_examples=200, deadline=None)
@given(directories(), seeds, teams)
def test_ratios_are_honoured_and_every_target_gets_certified_inspectors_free_of_conflicts(directory, seed, per_target):
    entities, roster, ratios = directory
    certified = {o.officer_id for o in roster.officers if o.certified}
    conflicts = {(o.officer_id, entity_id) for o in roster.officers for entity_id in o.conflicts}
    try:
        targets = draw.draw(seed, entities, roster, ratios, per_target)
    except FailedPrecondition:
        every_possible_target = {i for ids in entities.groups.values() for i in ids}
        drawn_tiers_empty = all(drawn_count(len(entities.groups[t]), ratios[t]) == 0 for t in TIERS)
        # Refused only when the roster really cannot staff what could be drawn.
        assert not staffable(roster, every_possible_target, per_target) and not (
            drawn_tiers_empty and not entities.groups[KEY] and len(certified) >= per_target)
        return
    assert chosen(entities, targets) == {KEY: len(entities.groups[KEY]),
                                         **{t: drawn_count(len(entities.groups[t]), ratios[t]) for t in TIERS}}
    assert len({t.entity_id for t in targets}) == len(targets)
    for target in targets:
        assert target.entity_id in entities.groups[target.group]
        assert len(set(target.inspector_ids)) == len(target.inspector_ids) == per_target
        assert set(target.inspector_ids) <= certified
        assert not any((officer, target.entity_id) in conflicts for officer in target.inspector_ids)


@settings(max_examples=150, deadline=None)
@given(directories(with_conflicts=False), seeds, teams)
def test_without_conflicts_the_load_is_spread_evenly(directory, seed, per_target):
    entities, roster, ratios = directory
    certified = [o.officer_id for o in roster.officers if o.certified]
    try:
        targets = draw.draw(seed, entities, roster, ratios, per_target)
    except FailedPrecondition:
        assert len(certified) < per_target
        return
    load = Counter(officer for t in targets for officer in t.inspector_ids)
    counts = [load.get(officer, 0) for officer in certified]
    assert max(counts) - min(counts) <= 1


@settings(max_examples=100, deadline=None)
@given(directories(), st.integers(0, 3))
def test_the_canonical_texts_round_trip_and_any_change_moves_the_digest(directory, which):
    entities, roster, _ = directory
    assert draw.parse_entities(entities.canonical()) == entities
    assert draw.parse_officers(roster.canonical()) == roster
    groups = {g: list(ids) for g, ids in entities.groups.items()}
    source = GROUPS[which] if groups[GROUPS[which]] else next((g for g in GROUPS if groups[g]), None)
    if source is not None:  # move one entity to another tier
        moved = groups[source].pop()
        groups[GROUPS[(GROUPS.index(source) + 1) % len(GROUPS)]].append(moved)
        assert draw.digest(draw.entity_snapshot(groups).canonical()) != draw.digest(entities.canonical())


def test_a_draw_is_pinned_so_a_new_release_cannot_change_it_silently():
    """The first targets of a fixed draw, recorded once: if this changes, published plans could no
    longer be verified by the code that drew them."""
    entities = draw.entity_snapshot({KEY: ["K1"], "LOW": [f"L{n:03d}" for n in range(200)],
                                     "HIGH": [f"H{n:02d}" for n in range(30)]})
    roster = draw.officer_roster([RosterEntry(f"O{n}", n != 3, ("H05",) if n == 1 else ()) for n in range(6)])
    targets = draw.draw("2026-Q4", entities, roster, {"LOW": 500, "HIGH": 3000}, 2)
    assert [(t.entity_id, t.inspector_ids) for t in targets[:4]] == PINNED
    assert len(targets) == 1 + 10 + 9
    assert draw.digest(entities.canonical())[:16] == PINNED_DIGEST


PINNED = [("K1", ("O1", "O2")), ("L033", ("O0", "O5")), ("L043", ("O4", "O5")), ("L053", ("O1", "O2"))]
PINNED_DIGEST = "114f1ad3fce9f70c"


def test_a_roster_that_cannot_staff_the_plan_is_refused_saying_why():
    entities = draw.entity_snapshot({KEY: ["K1", "K2"]})
    lonely = draw.officer_roster([RosterEntry("O1", True), RosterEntry("O2", False)])
    with pytest.raises(FailedPrecondition, match="no eligible inspectors: 1 officer"):
        draw.draw("s", entities, lonely, {}, 2)
    conflicted = draw.officer_roster([RosterEntry("O1", True), RosterEntry("O2", True, ("K2",))])
    with pytest.raises(FailedPrecondition) as refused:
        draw.draw("s", entities, conflicted, {}, 2)
    assert [v.description for v in refused.value.violations] == [
        "entity K2: 1 certified inspector(s) free of a declared conflict (O2 conflicted), 2 needed"]


@pytest.mark.parametrize("text", [
    "", "mobile_enforcement/spot-check-entities/1\n", "other/1\nKEY 0\nLOW 0\nMEDIUM 0\nHIGH 0\nVERY_HIGH 0\n",
    "mobile_enforcement/spot-check-entities/1\nKEY 1\nLOW 0\nMEDIUM 0\nHIGH 0\nVERY_HIGH 0\n",
    "mobile_enforcement/spot-check-entities/1\nKEY 2\nB\nA\nLOW 0\nMEDIUM 0\nHIGH 0\nVERY_HIGH 0\n",
    "mobile_enforcement/spot-check-entities/1\nKEY 0\nLOW 0\nMEDIUM 0\nHIGH 0\nVERY_HIGH 0\nextra\n",
])
def test_a_malformed_entity_snapshot_is_refused(text):
    with pytest.raises(draw.SnapshotFormatError):
        draw.parse_entities(text)


def test_drawn_count_rounds_up_in_whole_basis_points():
    assert [drawn_count(n, 500) for n in (0, 1, 20, 21, 100)] == [0, 1, 1, 2, 5]
    assert drawn_count(100, 0) == 0 and drawn_count(7, 10_000) == 7
