"""The live index: versions, sources, district sums, ranking, scheme changes, alerts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common import scoring
from services.gateway.domain.alerts import COMPLAINT_OVERDUE, CRITICAL, INDEX_DROP, Alert, AlertRules
from services.gateway.domain.live import (
    ALERT,
    APPLIED,
    DISTRICT,
    DUPLICATE,
    OFFICE,
    RANKS,
    SCHEME,
    SOURCE,
    STALE,
    DistrictSums,
)
from services.gateway.domain.schemes import ASSESSMENT, scheme_from_body
from tests.unit.gateway.conftest import SOURCES

DUTY, STAFF, TASKS, CERTS = ("command_center.duty_coverage", "command_center.group_staffing",
                             "command_center.task_on_time", "command_center.certificates_valid")


def center(tasks=(1, 2), certs=(8, 8)) -> list[tuple[str, float, float]]:
    return [(DUTY, 10, 10), (STAFF, 4, 4), (TASKS, *tasks), (CERTS, *certs)]


def test_an_event_scores_the_office_with_the_scoring_function(live, scheme, recorded):
    assert live.apply("command_center", "MH01", 1, center()) == APPLIED
    state = live.view.offices["MH01"]
    expected = scoring.score_office(scheme.scheme, "MH01", {k: (n, d) for k, n, d in center()})
    assert state.score == expected and state.score.index is not None
    assert recorded.kinds() == [SOURCE, OFFICE, DISTRICT, RANKS]  # the source answered: up
    assert live.view.ranks == {"MH01": 1}


def test_district_ratios_are_sums_of_numerators_over_sums_of_denominators(live):
    live.apply("command_center", "MH01", 1, center(tasks=(1, 1)))
    live.apply("command_center", "MH02", 1, center(tasks=(0, 9)))
    district = live.view.district
    assert district.totals[TASKS] == (1, 10)
    task = next(i for i in district.score.indicators if i.key == TASKS)
    assert task.value == pytest.approx(0.1)  # a mean of the two ratios would say 0.5
    assert district.office_count == 2


def test_older_or_repeated_versions_change_nothing(live, recorded):
    live.apply("command_center", "MH01", 2, center(tasks=(2, 2)))
    recorded.clear()
    assert live.apply("command_center", "MH01", 1, center(tasks=(0, 2))) == STALE
    assert live.apply("command_center", "MH01", 2, center(tasks=(0, 2))) == DUPLICATE
    assert live.view.offices["MH01"].values[TASKS].numerator == 2
    assert recorded.changes == []


def test_versions_are_per_source_and_office(live):
    live.apply("command_center", "MH01", 5, center())
    assert live.apply("command_center", "MH02", 1, center()) == APPLIED
    assert live.apply("complaints", "MH01", 1, [("complaints.backlog", 3, 1)]) == APPLIED


def test_a_source_speaks_for_its_own_indicators_only(live):
    live.apply("complaints", "MH01", 1, [("complaints.backlog", 3, 1), (TASKS, 0, 5)])
    assert set(live.view.offices["MH01"].values) == {"complaints.backlog"}


def test_indicators_a_source_no_longer_publishes_are_dropped(live):
    live.apply("command_center", "MH01", 1, center())
    live.apply("command_center", "MH01", 2, [(DUTY, 10, 10)])
    assert set(live.view.offices["MH01"].values) == {DUTY}


def test_a_reconcile_counts_only_what_the_model_held_differently(live):
    assert live.apply_answer("command_center", {"MH01": (1, center(), None)}) == 0  # the seed
    live.apply("command_center", "MH01", 2, center(tasks=(2, 2)))
    assert live.apply_answer("command_center", {"MH01": (2, center(tasks=(2, 2)), None)}) == 0
    # Version 3 was published but its event lost: the reconcile repairs the model.
    assert live.apply_answer("command_center", {"MH01": (3, center(tasks=(0, 2)), None)}) == 1
    assert live.view.offices["MH01"].values[TASKS].numerator == 0


def test_an_answer_older_than_an_event_waits_unless_the_source_was_reset(live):
    live.apply("command_center", "MH01", 7, center(tasks=(2, 2)))
    # An answer read before event 7 arrived: the event is newer, the answer is ignored.
    assert live.apply_answer("command_center", {"MH01": (6, center(tasks=(1, 2)), None)}) == 0
    assert live.view.offices["MH01"].values[TASKS].numerator == 2
    # The same older version again: the source's store was reset; its answer is the truth.
    assert live.apply_answer("command_center", {"MH01": (6, center(tasks=(1, 2)), None)}) == 1
    assert live.view.offices["MH01"].values[TASKS].numerator == 1
    assert live.apply("command_center", "MH01", 7, center(tasks=(0, 2))) == APPLIED


def test_ranks_share_ties_and_put_offices_without_an_index_last(live, recorded):
    live.apply("command_center", "MH01", 1, center(tasks=(1, 2)))
    live.apply("command_center", "MH02", 1, center(tasks=(2, 2)))
    live.apply("command_center", "MH03", 1, center(tasks=(1, 2)))
    live.name_offices({"MH04": "华漕所"})
    view = live.view
    assert view.order == ("MH02", "MH01", "MH03", "MH04")
    assert view.ranks == {"MH02": 1, "MH01": 2, "MH03": 2, "MH04": 0}
    assert view.offices["MH04"].name == "华漕所" and view.offices["MH04"].score.index is None
    moves = [c.data for c in recorded.changes if c.kind == RANKS]
    assert moves[1] == {"MH02": 1, "MH01": 2}


def test_office_names_follow_their_versions(live):
    live.name_offices({"MH01": "莘庄所"}, {"MH01": 2})
    live.name_offices({"MH01": "旧名"}, {"MH01": 1})
    assert live.view.offices["MH01"].name == "莘庄所"


def test_a_new_scheme_rescores_every_office(live, scheme, recorded):
    live.apply("command_center", "MH01", 1, center(tasks=(1, 2)))
    before = live.view.offices["MH01"].score.index
    body = scheme.to_body()
    for rule in body["indicators"]:
        if rule["key"] == TASKS:
            rule["target"] = 0.5
    stricter = scheme_from_body({**body, "version": 2}, ASSESSMENT)
    recorded.clear()
    assert live.adopt_scheme(stricter) is True
    assert live.view.offices["MH01"].score.index > before
    assert SCHEME in recorded.kinds() and OFFICE in recorded.kinds()
    assert live.adopt_scheme(stricter) is False


def seed(live, answers=None) -> None:
    """Every source's start-up answer (none but `answers` hold offices)."""
    for source in SOURCES:
        live.apply_answer(source, (answers or {}).get(source, {}))


def test_an_index_that_falls_far_enough_opens_an_alert_and_closes_it_on_recovery(live, recorded, now):
    seed(live)
    live.apply("command_center", "MH01", 1, center(tasks=(2, 2), certs=(8, 8)))
    now.advance(minutes=10)
    live.apply("command_center", "MH01", 2, center(tasks=(0, 2), certs=(8, 8)))
    opened = [c.data for c in recorded.changes if c.kind == ALERT]
    assert [(action, alert.kind, alert.office_id) for action, alert in opened] == [("opened", INDEX_DROP, "MH01")]
    assert "MH01" in live.view.alerts[f"{INDEX_DROP}/MH01"].title
    now.advance(minutes=10)
    live.apply("command_center", "MH01", 3, center(tasks=(2, 2), certs=(8, 8)))
    assert f"{INDEX_DROP}/MH01" not in live.view.alerts


def test_the_start_up_seed_arriving_source_by_source_is_no_fall(live, now):
    """Scored on command_center's indicators alone, MH01 stands high; complaints' answer then adds a
    poor backlog. The index falls, but only because the seed was incomplete."""
    live.apply_answer("command_center", {"MH01": (1, center(tasks=(2, 2)), None)})
    before = live.view.offices["MH01"].score.index
    now.advance(minutes=2)
    live.apply_answer("complaints", {"MH01": (1, [("complaints.acceptance_on_time", 0, 9)], None)})
    live.apply_answer("facilities", {})
    assert live.view.offices["MH01"].score.index < before - AlertRules.load().index_drop_points
    assert not [a for a in live.view.alerts.values() if a.kind == INDEX_DROP]
    # From the complete seed on, a fall is measured.
    now.advance(minutes=2)
    live.apply("command_center", "MH01", 2, center(tasks=(0, 2), certs=(0, 8)))
    assert f"{INDEX_DROP}/MH01" in live.view.alerts


def test_a_probe_replaces_its_own_alerts_only(live, recorded):
    first = Alert(COMPLAINT_OVERDUE, "C1", "MH01", CRITICAL, "投诉 C1 超期")
    second = Alert(COMPLAINT_OVERDUE, "C2", "MH02", CRITICAL, "投诉 C2 超期")
    live.replace_alerts("complaints", [first, second])
    live.replace_alerts("facilities", [])
    live.replace_alerts("complaints", [second])
    assert list(live.view.alerts) == [second.id]
    assert [(c.data[0], c.data[1].ref) for c in recorded.changes if c.kind == ALERT] == \
        [("opened", "C1"), ("opened", "C2"), ("closed", "C1")]


def test_a_source_going_down_and_up_is_published_once_each(live, recorded):
    live.source_status("complaints", False, "UNAVAILABLE")
    live.source_status("complaints", False, "UNAVAILABLE")
    live.apply("complaints", "MH01", 1, [("complaints.backlog", 1, 1)])
    statuses = [(c.data.source, c.data.available) for c in recorded.changes if c.kind == SOURCE]
    assert statuses == [("complaints", False), ("complaints", True)]
    assert live.view.sources["complaints"].last_seen is not None


@given(st.lists(st.tuples(st.sampled_from(["MH01", "MH02", "MH03"]),
                          st.dictionaries(st.sampled_from([DUTY, STAFF, TASKS, CERTS]),
                                          st.tuples(st.integers(0, 50), st.integers(0, 50)).map(
                                              lambda pair: (float(pair[0]), float(pair[0] + pair[1]))))),
                max_size=30))
def test_district_sums_kept_per_change_equal_the_sums_over_every_office(changes):
    sums, latest = DistrictSums(), {}
    for office_id, ratios in changes:
        sums.change(latest.get(office_id, {}), ratios)
        latest[office_id] = ratios
        assert sums.totals() == scoring.district_values(latest)
