"""--mix: weights per action, patterns, presets, and the errors a person can act on."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from simulator.actions import CATALOGUE, PRESETS, covering_mix, day_counts
from simulator.mix import MixError, WeightedChoice, parse_mix

KNOWN = ["complaint.create", "complaint.accept", "task.create", "task.accept", "rapid_test.record"]


def test_weights_by_name():
    assert parse_mix("complaint.create=3, task.create=1.5", KNOWN) == {"complaint.create": 3.0, "task.create": 1.5}


def test_a_pattern_covers_every_action_it_matches_and_a_later_term_overrides():
    assert parse_mix("complaint.*=2,complaint.accept=5", KNOWN) == {"complaint.create": 2.0, "complaint.accept": 5.0}


def test_a_zero_weight_leaves_an_action_out():
    presets = {"base": {"complaint.create": 1.0, "task.create": 1.0}}
    assert parse_mix("base,task.create=0", KNOWN, presets) == {"complaint.create": 1.0}


@pytest.mark.parametrize(("text", "message"), [
    ("", "is empty"),
    ("complaint.create=1,,task.create=1", "empty term"),
    ("complaint.create", "neither a preset"),
    ("complaint.create=abc", "not a number"),
    ("complaint.create=-1", "finite number >= 0"),
    ("complaint.create=nan", "finite number >= 0"),
    ("complaint.create=inf", "finite number >= 0"),
    ("complaint.craete=1", "did you mean complaint.create"),
    ("nothing.like.it=1", "--list-actions"),
    ("complaint.create=0", "no action a weight above zero"),
])
def test_bad_mixes_say_what_is_wrong(text, message):
    with pytest.raises(MixError, match=message):
        parse_mix(text, KNOWN)


def test_the_draw_follows_the_weights_among_feasible_actions():
    choice = WeightedChoice({"a": 3, "b": 1, "c": 100}, random.Random(4))
    drawn = Counter(choice.draw(lambda name: name != "c") for _ in range(8000))
    assert set(drawn) == {"a", "b"}
    assert drawn["a"] / drawn["b"] == pytest.approx(3, rel=0.1)
    assert choice.draw(lambda name: False) is None


def test_the_days_counts_carry_arrivals_through_their_follow_ups():
    counts = day_counts(CATALOGUE.values(), offices=14)
    new_complaints = counts["complaint.create"] + counts["complaint.form"]
    assert counts["complaint.accept"] + counts["complaint.refuse"] == pytest.approx(new_complaints)
    assert counts["complaint.accept"] == pytest.approx(0.85 * new_complaints)
    assert counts["complaint.mediate"] == pytest.approx(counts["complaint.accept"])
    positives = 0.01 * counts["rapid_test.record"]
    assert counts["rapid_test.confirm"] + counts["rapid_test.retest"] == pytest.approx(positives)
    # An incident's actions are dispatched one after the other: four per incident here.
    assert counts["incident.assign"] == pytest.approx(4 * counts["incident.report"], rel=1e-3)
    assert counts["incident.close"] == pytest.approx(counts["incident.report"], rel=1e-3)
    doubled = day_counts(CATALOGUE.values(), offices=28)
    assert doubled["complaint.create"] == pytest.approx(2 * counts["complaint.create"])


def test_the_covering_mix_gives_every_action_at_least_one_percent():
    mix = covering_mix()
    total = sum(mix.values())
    assert set(mix) == set(CATALOGUE)
    assert min(mix.values()) / total >= 0.0099
    assert set(PRESETS) == {"day", "all"}
