"""assessment's store-level rules without a server: indicator history as of an instant, and the
indicators it contributes."""

from __future__ import annotations

import datetime as dt

import pytest

from services.assessment import indicators
from services.assessment.domain import history, periods, registry
from services.assessment.models import ImprovementPlan, OfficerAssessment, Period
from services.common.contracts import timestamp_of
from services.common.db import utcnow
from services.common.errors import InvalidArgument
from services.common.indicators import Reading, reading_message
from supervision.command_center.v1 import events_pb2 as cc_pb
from supervision.common.v1.events_pb2 import IndicatorsChanged

OCTOBER = periods.parse("2026-10")


def at(day: int, month: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, 4, tzinfo=dt.UTC)


def indicators_changed(office_id: str, version: int, when: dt.datetime | None,
                       readings: dict[str, tuple[float, float]]) -> IndicatorsChanged:
    """IndicatorsChanged as every service's IndicatorRefresher writes it."""
    return IndicatorsChanged(office_id=office_id, version=version, as_of=timestamp_of(when),
                             indicators=[reading_message(Reading(office_id, key, n, d))
                                         for key, (n, d) in readings.items()])


def changed(session, source: str, version: int, when: dt.datetime, **readings: tuple[float, float]) -> int:
    message = indicators_changed("MH01", version, when, {f"{source}.{key}": value for key, value in readings.items()})
    return history.record(session, source, message, when)


def test_values_at_the_end_of_a_period_are_each_sources_latest_before_it(store):
    with store.transaction() as session:
        changed(session, "complaints", 1, at(3), satisfaction=(1, 2))
        changed(session, "complaints", 3, at(31, 10) + dt.timedelta(hours=17), satisfaction=(0, 2))  # Nov 1, Shanghai
        changed(session, "complaints", 2, at(20), satisfaction=(2, 2))  # arrives late, still counts
        changed(session, "facilities", 7, at(25), four_unified=(3, 4))
    with store.read() as session:
        values = history.values_at(session, OCTOBER.cutoff)
    assert {key: (v.numerator, v.denominator) for key, v in values["MH01"].items()} == {
        "complaints.satisfaction": (2, 2), "facilities.four_unified": (3, 4)}
    assert values["MH01"]["complaints.satisfaction"].as_of == at(20)


def test_a_repeated_version_is_stored_once_and_a_source_speaks_only_for_itself(store):
    with store.transaction() as session:
        assert changed(session, "complaints", 1, at(3), satisfaction=(1, 2)) == 1
        assert changed(session, "complaints", 1, at(4), satisfaction=(2, 2)) == 0
        message = indicators_changed("MH01", 2, None, {"command_center.task_on_time": (1, 1),
                                                       "complaints.backlog": (4, 1)})
        assert history.record(session, "complaints", message, at(5)) == 1
    with store.read() as session:
        values = history.values_at(session, OCTOBER.cutoff)["MH01"]
    # An IndicatorsChanged carries every indicator of the office: version 2 is the whole state.
    assert {key: (v.numerator, v.denominator) for key, v in values.items()} == {"complaints.backlog": (4, 1)}
    assert values["complaints.backlog"].as_of == at(5)  # no as_of in the message: the event's time


@pytest.mark.parametrize(("message", "field"), [
    (indicators_changed("MH01", 1, at(3), {"": (1, 1)}), "indicators[0].key"),
    (indicators_changed("MH01", 1, at(3), {"complaints." + "x" * 90: (1, 1)}), "indicators[0].key"),
    (indicators_changed("MH01", 1, at(3), {"complaints.x": (float("nan"), 1)}), "indicators[0]"),
    (indicators_changed("MH01", 1, at(3), {"complaints.x": (1, 1), "complaints.y": (1, float("inf"))}),
     "indicators[1]"),
    (indicators_changed("", 1, at(3), {"complaints.x": (1, 1)}), "office_id"),
    (indicators_changed("MH01", -1, at(3), {"complaints.x": (1, 1)}), "version"),
])
def test_a_malformed_indicators_changed_is_refused(store, message, field):
    with store.transaction() as session, pytest.raises(InvalidArgument) as raised:
        history.record(session, "complaints", message, at(3))
    assert raised.value.violations[0].field == field
    with store.read() as session:
        assert history.values_at(session, OCTOBER.cutoff) == {}


def plan(office_id: str, number: int, **columns) -> ImprovementPlan:
    now = utcnow()
    values = dict(id=f"p{number}", office_id=office_id, period_key="2026-09", indicator_key=f"x.y{number}", value=0.5,
                  target=1.0, actions="", owner="", due_date=dt.date(2026, 11, 10), state="OPEN", overdue=False,
                  completion_note="", completed_at=None, verified_in="", verified_value=None, created_at=now,
                  updated_at=now, version=1)
    return ImprovementPlan(**{**values, **columns})


def test_own_indicators(store):
    today = dt.date(2026, 11, 12)
    with store.transaction() as session:
        registry.apply_office(session, cc_pb.OfficeRegistered(office_id="MH01", version=1, name="莘庄所"))
        registry.apply_office(session, cc_pb.OfficeRegistered(office_id="MH02", version=1, name="七宝所"))
        for number in range(1, 4):
            registry.apply_officer(session, cc_pb.OfficerRegistered(officer_id=f"MH01-0{number}", version=1,
                                                                    office_id="MH01", group="GENERAL"))
        session.add(Period(key="2026-09", kind="MONTH", start_date=dt.date(2026, 9, 1), end_date=dt.date(2026, 9, 30),
                           scheme_version=1, scheme={}, district={}, district_index=None, office_count=2,
                           plans_opened=4, plans_verified=0, plans_not_effective=0, closed_at=utcnow(),
                           closed_by="system"))
        session.flush()
        session.add_all([
            plan("MH01", 1, completed_at=utcnow(), state="COMPLETED"),  # closed
            plan("MH01", 2, state="VERIFIED"),  # closed by verification
            plan("MH01", 3),  # due Nov 10, past: counts against
            plan("MH01", 4, due_date=dt.date(2026, 12, 1)),  # not due yet: not counted
        ])
        session.add(OfficerAssessment(officer_id="MH01-02", quarter="2026-Q3", office_id="MH01", points=1,
                                      evidence_count=1, late_count=0, proposed_grade="GOOD", proposal_explanation="",
                                      final_grade="GOOD", final_reason="", graded_by="h", graded_at=utcnow(),
                                      rule_set="2026-01-01", created_at=utcnow(), updated_at=utcnow(), version=2))
        session.add(OfficerAssessment(officer_id="MH01-03", quarter="2026-Q3", office_id="MH01", points=1,
                                      evidence_count=1, late_count=0, proposed_grade="GOOD", proposal_explanation="",
                                      final_grade=None, final_reason="", graded_by="", graded_at=None,
                                      rule_set="2026-01-01", created_at=utcnow(), updated_at=utcnow(), version=1))
    with store.read() as session:
        readings = indicators.compute(session, None, today)
    assert {(r.key, r.numerator, r.denominator) for r in readings["MH01"]} == {
        (indicators.IMPROVEMENT_PLANS_CLOSED, 2, 3), (indicators.STAFF_ASSESSED, 1, 3)}
    assert {(r.key, r.has_data) for r in readings["MH02"]} == {
        (indicators.IMPROVEMENT_PLANS_CLOSED, False), (indicators.STAFF_ASSESSED, False)}
    with store.read() as session:  # in the next quarter the third quarter's grades no longer count
        later = indicators.compute(session, ["MH01"], dt.date(2027, 1, 5))
    assert [(r.numerator, r.denominator) for r in later["MH01"] if r.key == indicators.STAFF_ASSESSED] == [(0, 3)]


@pytest.mark.parametrize("apply", [
    lambda session: registry.apply_office(session, cc_pb.OfficeUpdated(office_id="X" * 33)),
    lambda session: registry.apply_officer(session, cc_pb.OfficerUpdated(officer_id="O1", office_id="")),
    lambda session: history.record(session, "complaints", indicators_changed("X" * 33, 1, at(3), {}), at(3)),
])
def test_events_naming_ids_the_store_cannot_hold_are_refused_not_retried(store, apply):
    # A DomainError is recorded as rejected; a database error would be redelivered for ever.
    with store.transaction() as session, pytest.raises(InvalidArgument):
        apply(session)
