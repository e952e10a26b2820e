"""The bureau's standards as versioned data: what ships, which version applies on a day, and how a
bad file is refused with the entry named."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from services.common.rulebook import RuleDataError, VersionedRules
from services.facilities.domain.standards import (
    ABOVE,
    AT_OR_ABOVE,
    Method,
    Standards,
    add_months,
    parse_equipment,
    parse_rapid_tests,
    parse_rooms,
)

DAY = dt.date(2026, 11, 10)


def test_the_shipped_standards_hold_the_domain_figures():
    standards = Standards.load()
    rooms = standards.rooms.in_force(DAY).rooms
    assert len(rooms) == 10
    assert [rooms[k].name for k in ("service_hall", "rapid_test", "confiscated_store")] == ["服务大厅", "快检室",
                                                                                           "罚没物品库"]
    tests = standards.rapid_tests.in_force(DAY)
    assert tests.retest_window_hours == 4
    assert set(tests.items) == {"pesticide_residue", "veterinary_drug_residue", "clenbuterol", "nitrite",
                                "formaldehyde", "sulfur_dioxide", "rongalite", "hydrogen_peroxide", "acid_value",
                                "peroxide_value"}
    enzyme = tests.items["pesticide_residue"].methods["enzyme_inhibition"]
    assert (enzyme.threshold, enzyme.positive, enzyme.unit) == (50, AT_OR_ABOVE, "%")
    assert enzyme.is_positive(50) and not enzyme.is_positive(49.99)
    equipment = standards.equipment.in_force(DAY)
    assert equipment.categories["rapid_test_reader"].used_for_tests
    assert equipment.categories["vehicle"].calibration_months is None


def test_a_threshold_counts_at_or_above_or_only_above():
    above = Method("colorimetric", "显色法", "mg/kg", 0, 1000, 30, ABOVE)
    assert not above.is_positive(30) and above.is_positive(30.01)
    assert above.describe_threshold() == "> 30 mg/kg"


def write(tmp_path, text: str):
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


ROOMS_V1 = """
    versions:
      - effective_from: 2026-01-01
        rooms:
          - {kind: archive, name: 档案室, min_area_m2: 15, requirements: []}
      - effective_from: 2026-07-01
        rooms:
          - {kind: archive, name: 档案室, min_area_m2: 20, requirements: [{code: fire, text: 防火}]}
"""


def test_the_version_in_force_on_the_day_applies(tmp_path):
    book = VersionedRules.load(write(tmp_path, ROOMS_V1), parse_rooms)
    assert book.in_force(dt.date(2026, 6, 30)).rooms["archive"].min_area_m2 == 15
    assert book.in_force(dt.date(2026, 7, 1)).rooms["archive"].min_area_m2 == 20
    assert book.in_force(dt.date(2025, 3, 1)).rooms["archive"].min_area_m2 == 15  # before the data: the oldest


@pytest.mark.parametrize(("text", "parse", "named"), [
    ("versions: [{rooms: []}]", parse_rooms, "versions[0]: effective_from"),
    ("versions: [{effective_from: 2026-01-01, rooms: []}, {effective_from: 2026-01-01, rooms: []}]", parse_rooms,
     "versions[1]: a second version"),
    ("versions: [{effective_from: 2026-01-01, rooms: [{kind: a, name: A, min_area_m2: -1, requirements: []}]}]",
     parse_rooms, "rooms[0].min_area_m2"),
    ("versions: [{effective_from: 2026-01-01, rooms: [{kind: a, name: A, min_area_m2: 1, requirements: []},"
     " {kind: a, name: B, min_area_m2: 1, requirements: []}]}]", parse_rooms, "rooms[1].kind"),
    ("versions: [{effective_from: 2026-01-01, calibration_notice_days: 30, categories: "
     "[{code: x, name: X, per_office: true, calibration_months: 12, used_for_tests: false}]}]",
     parse_equipment, "categories[0].per_office"),
    ("versions: [{effective_from: 2026-01-01, calibration_notice_days: 30, categories: "
     "[{code: x, name: X, per_office: 1, calibration_months: 0, used_for_tests: false}]}]",
     parse_equipment, "categories[0].calibration_months"),
    ("versions: [{effective_from: 2026-01-01, retest_window_hours: 4, weekly_target: 35, items: {n: {name: N, "
     "methods: {m: {name: M, unit: u, min: 0, max: 10, threshold: 20, positive: above}}}}}]",
     parse_rapid_tests, "items.n.methods.m: needs min < max"),
    ("versions: [{effective_from: 2026-01-01, retest_window_hours: 4, weekly_target: 35, items: {n: {name: N, "
     "methods: {m: {name: M, unit: u, min: 0, max: 10, threshold: 5, positive: sometimes}}}}}]",
     parse_rapid_tests, "items.n.methods.m.positive"),
    ("versions: [{effective_from: 2026-01-01, retest_window_hours: 0, weekly_target: 35, items: {}}]",
     parse_rapid_tests, "retest_window_hours"),
    ("versions: [", parse_rooms, "cannot read"),
    ("rooms: []", parse_rooms, "list of versions"),
])
def test_a_bad_file_is_refused_naming_the_entry(tmp_path, text, parse, named):
    with pytest.raises(RuleDataError) as raised:
        VersionedRules.load(write(tmp_path, text), parse)
    assert named in str(raised.value) and "rules.yaml" in str(raised.value)


@pytest.mark.parametrize(("day", "months", "expected"), [
    (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
    (dt.date(2024, 2, 29), 12, dt.date(2025, 2, 28)),
    (dt.date(2026, 11, 10), 12, dt.date(2027, 11, 10)),
    (dt.date(2026, 12, 15), 1, dt.date(2027, 1, 15)),
    (dt.date(2026, 3, 31), 6, dt.date(2026, 9, 30)),
])
def test_calibration_intervals_add_calendar_months(day, months, expected):
    assert add_months(day, months) == expected
