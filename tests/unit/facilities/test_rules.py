"""The judgements facilities makes, in plain Python: a room against its standard, a rapid test
against its method, a month's figures."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.errors import InvalidArgument
from services.facilities.domain.rapid_tests import RapidTestInput, SampleInput, judge_test
from services.facilities.domain.reports import MonthFigures
from services.facilities.domain.rooms import judge
from services.facilities.domain.standards import Standards

STANDARDS = Standards.load()
DAY = dt.date(2026, 11, 10)
NOW = dt.datetime(2026, 11, 10, 2, tzinfo=dt.UTC)
RAPID = STANDARDS.rapid_tests.in_force(DAY)


def test_a_room_complies_when_present_large_enough_and_equipped():
    archive = STANDARDS.rooms.in_force(DAY).rooms["archive"]
    all_met = [r.code for r in archive.requirements]
    assert judge(archive, True, archive.min_area_m2, all_met) == []
    assert judge(archive, True, 14.5, all_met) == ["area 14.5 m² is below the standard's 15 m²"]
    assert judge(archive, True, 30, ["fire_protection"]) == ["not met: 防潮除湿设备", "not met: 防盗门窗与密集架"]
    assert judge(archive, False, 0, []) == ["档案室 is missing"]


def rapid_test(**changes) -> RapidTestInput:
    fields = {"office_id": "MH01", "origin": "MARKET_SAMPLING",
              "sample": SampleInput("豇豆", "王记蔬菜", "91350100M000100Y43", "莘庄农贸市场", "12号"),
              "item": "pesticide_residue", "method": "enzyme_inhibition", "equipment_id": "E1", "reading": 12.0,
              "result": None, "tested_at": None}
    fields.update(changes)
    return RapidTestInput(**fields)


@pytest.mark.parametrize(("reading", "positive"), [(0, False), (49.99, False), (50, True), (100, True)])
def test_enzyme_inhibition_is_positive_from_fifty_percent(reading, positive):
    method, found = judge_test(rapid_test(reading=reading), RAPID, NOW, NOW)
    assert (method.code, found) == ("enzyme_inhibition", positive)


def test_every_problem_of_a_test_is_named_at_once():
    bad = rapid_test(origin="WALK_IN", reading=130.0, item="pesticide_residue", equipment_id="",
                     sample=SampleInput("", "王记蔬菜", "91350100M000100Y40", "", ""))
    with pytest.raises(InvalidArgument) as raised:
        judge_test(bad, RAPID, NOW + dt.timedelta(hours=1), NOW)
    assert {v.field for v in raised.value.violations} == {
        "origin", "reading", "equipment_id", "sample.name", "sample.vendor_uscc", "tested_at"}


def test_a_given_result_must_agree_with_the_reading():
    judge_test(rapid_test(reading=72.0, result="POSITIVE"), RAPID, NOW, NOW)
    with pytest.raises(InvalidArgument) as raised:
        judge_test(rapid_test(reading=72.0, result="NEGATIVE"), RAPID, NOW, NOW)
    assert "≥ 50 %" in raised.value.violations[0].description


@pytest.mark.parametrize(("offset", "accepted"), [
    (dt.timedelta(minutes=4), True),  # a reader's clock a little ahead
    (dt.timedelta(minutes=6), False),
    (-dt.timedelta(days=31), True),  # typed in from a paper log
    (-dt.timedelta(days=31, seconds=1), False),
])
def test_a_test_is_dated_between_a_month_ago_and_now(offset, accepted):
    def attempt():
        return judge_test(rapid_test(), RAPID, NOW + offset, NOW)

    if accepted:
        attempt()
    else:
        with pytest.raises(InvalidArgument):
            attempt()


def test_month_figures_add_up_and_rate_passes_over_batches():
    total = MonthFigures("MH01", 10, 9, 1, 0, 2.5) + MonthFigures("MH02", 4, 2, 0, 2, 0)
    assert (total.batches, total.passed, total.failed, total.pending, total.kg_destroyed) == (14, 11, 1, 2, 2.5)
    assert total.pass_rate == pytest.approx(11 / 14)
    assert MonthFigures("MH03").pass_rate == 0.0
