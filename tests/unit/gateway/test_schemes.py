"""The scheme in force: the starting file until assessment has spoken, then by effective date."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common import scoring
from services.common.errors import InvalidArgument
from services.gateway.domain.schemes import ASSESSMENT, FILE, SchemeBook, load_starting_scheme, scheme_from_body


def published(starting, version: int, effective_from: str, **changes):
    body = {**starting.to_body(), "version": version, "effective_from": effective_from, "names": {}, **changes}
    for rule in body["indicators"]:
        rule.pop("name", None)
    return scheme_from_body(body, ASSESSMENT)


def test_the_starting_file_is_a_valid_scheme_with_every_name():
    starting = load_starting_scheme()
    assert starting.origin == FILE and scoring.validate(starting.scheme) == []
    assert all(starting.name_of(rule.key) != rule.key for rule in starting.scheme.indicators)
    assert starting.name_of("complaints.backlog") == "在办投诉举报件数"
    assert starting.series_keys()[:5] == ["index", "duties", "facilities", "workflow", "support"]


def test_assessment_outranks_the_file_from_its_effective_date():
    starting = load_starting_scheme()
    book = SchemeBook(starting)
    assert book.in_force(dt.date(2026, 11, 2)) is starting
    assert book.add(published(starting, 1, "2026-01-01")) is True
    assert book.add(published(starting, 1, "2026-01-01")) is False
    book.add(published(starting, 2, "2026-12-01"))
    assert (book.in_force(dt.date(2026, 11, 30)).version, book.in_force(dt.date(2026, 11, 30)).origin) == \
        (1, ASSESSMENT)
    assert book.in_force(dt.date(2026, 12, 1)).version == 2
    # A publication that names no indicator: the names come from what the gateway knew.
    assert book.in_force(dt.date(2026, 12, 1)).name_of("command_center.task_on_time") == "督办任务按期办结率"


@pytest.mark.parametrize(("change", "field"), [
    ({"effective_from": "someday"}, "scheme.effective_from"),
    ({"dimensions": [{"key": "index", "name": "x", "weight": 100}]}, "scheme.dimensions"),
    ({"indicators": []}, "scheme.indicators"),
])
def test_a_scheme_that_cannot_be_scored_with_is_refused_naming_the_problem(change, field):
    body = {**load_starting_scheme().to_body(), **change}
    with pytest.raises(InvalidArgument) as refused:
        scheme_from_body(body, ASSESSMENT)
    assert field in {v.field for v in refused.value.violations}


def test_a_body_that_is_not_a_scheme_is_invalid_argument():
    with pytest.raises(InvalidArgument):
        scheme_from_body({"dimensions": [{"weight": 100}]}, ASSESSMENT)
