"""The response to an incident without a server: plan deadlines, re-grading, escalation, the overdue
sweep, completion, closure and dispatch, on a real SQLite store with a clock the test moves."""

from __future__ import annotations

import datetime as dt

import pytest
from google.type import date_pb2
from sqlalchemy import select

from services.common import contracts
from services.common.clock import shanghai_date
from services.common.context import SYSTEM_CALLER
from services.common.db import Store
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound
from services.common.events import Envelope, Event
from services.emergency.domain.directory import Directory
from services.emergency.domain.incidents import Incidents, ReviewInput
from services.emergency.domain.intake import IncidentInput
from services.emergency.domain.rules import COUNT_FIELDS, RuleBook
from services.emergency.domain.workspace import Workspace
from services.emergency.handlers import certificate_day
from services.emergency.models import Base, Officer, Outbox
from supervision.emergency.v1 import events_pb2

T0 = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
HOUR = dt.timedelta(hours=1)


class Moment:
    def __init__(self, at: dt.datetime):
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def moment() -> Moment:
    return Moment(T0 + 30 * dt.timedelta(minutes=1))


@pytest.fixture
def workspace(tmp_path, moment):
    store = Store(f"sqlite:///{tmp_path / 'incidents.db'}")
    Base.metadata.create_all(store.engine)
    workspace = Workspace(store, RuleBook.load(), lambda: shanghai_date(moment.at), moment)
    directory = Directory(workspace)
    with store.transaction() as session:
        for office_id in ("MH01", "MH02"):
            directory.apply_office(session, office_id, name=f"{office_id}所", district="闵行区", streets=[office_id])
        directory.apply_officer(session, "MH01-01", name="王伟", office_id="MH01", group="SUPERVISION",
                                certificate_no="SH0101", certificate_expires=dt.date(2027, 1, 1))
        directory.apply_officer(session, "MH02-01", name="李芳", office_id="MH02", group="SUPERVISION",
                                certificate_no="", certificate_expires=None)
    yield workspace
    store.dispose()


@pytest.fixture
def incidents(workspace) -> Incidents:
    return Incidents(workspace)


@pytest.fixture
def directory(workspace) -> Directory:
    return Directory(workspace)


def report(incidents: Incidents, incident_type="FOOD_SAFETY", learned=T0, office_id="MH01", circumstances=(),
           **given):
    return incidents.report_incident(SYSTEM_CALLER, "", IncidentInput(
        type=incident_type, office_id=office_id, title="某小学食堂学生腹泻", occurred_at=learned - HOUR,
        learned_at=learned, counts=dict.fromkeys(COUNT_FIELDS, 0) | given, circumstances=list(circumstances)))


def events(incidents: Incidents, message_class: type) -> list[Event]:
    """The events of one type in the outbox, read back as a consumer decodes them."""
    name = contracts.type_name(message_class)
    with incidents.workspace.store.read() as session:
        rows = session.scalars(select(Outbox).where(Outbox.event_type == name).order_by(Outbox.id))
        return [Event(envelope, contracts.decode(message_class, envelope.type, envelope.data))
                for envelope in (Envelope.from_wire(row.envelope) for row in rows)]


def instant(stamp) -> dt.datetime:
    return contracts.instant_of(stamp)


def due(view) -> dict[str, dt.timedelta]:
    return {a.code: a.due_at - view.incident.learned_at for a in view.actions}


def action_id(view, code: str) -> str:
    return next(a.id for a in view.actions if a.code == code)


def counts_of(view, **changes) -> dict[str, float]:
    return {name: getattr(view.incident, name) for name in COUNT_FIELDS} | changes


# ---------------------------------------------------------------- plans and deadlines


def test_the_plan_of_the_level_is_instantiated_with_deadlines_from_learned_at(incidents):
    food = report(incidents, ill_count=12)
    assert due(food) == {"REPORT": 2 * HOUR, "ONSITE": 2 * HOUR, "CONTROL_GOODS": 6 * HOUR,
                         "SAMPLE_AND_TEST": 24 * HOUR}
    equipment = report(incidents, "SPECIAL_EQUIPMENT", trapped_count=2, trapped_hours=2.5)
    assert due(equipment)["REPORT"] == HOUR
    assert {a.state for a in food.actions} == {"OPEN"} and food.incident.state == "ACTIVE"
    [reported, special] = events(incidents, events_pb2.IncidentReported)
    message = reported.message
    assert (message.incident_id, message.office_id, message.type, message.level, message.state) == (
        food.incident.id, "MH01", "FOOD_SAFETY", "IV", "ACTIVE")
    assert message.version == food.incident.version == reported.aggregate_version
    assert (instant(message.learned_at), instant(message.occurred_at), instant(message.report_due)) == (
        T0, T0 - HOUR, T0 + 2 * HOUR)
    assert (message.title, message.rule_set) == ("某小学食堂学生腹泻", "2020-01-01")
    assert [(r.level, r.criterion) for r in message.grading_reasons] == [("IV", "FS-IV-ill")]
    assert message.grading_reasons[0].text  # the criterion in words
    assert reported.aggregate_id == food.incident.id and reported.office_id == "MH01"
    assert instant(special.message.report_due) == T0 + HOUR


def test_the_rule_set_in_force_when_the_office_learned_of_it_applies(incidents):
    view = report(incidents, ill_count=3)
    assert view.incident.rule_set == "2020-01-01"
    with pytest.raises(InvalidArgument) as raised:
        report(incidents, learned=dt.datetime(2019, 12, 31, 15, 0, tzinfo=dt.UTC), ill_count=3)
    assert [v.field for v in raised.value.violations] == ["incident.learned_at"]


# ---------------------------------------------------------------- re-grading and escalation


def test_new_counts_regrade_and_a_higher_level_adds_its_missing_actions(incidents, moment):
    view = report(incidents, ill_count=99)
    moment.at = T0 + 5 * HOUR
    view = incidents.update_counts(SYSTEM_CALLER, view.incident.id, counts_of(view, ill_count=100), [],
                                   ["ill_count"], "区疾控通报新增病例", 0)
    assert (view.incident.level, view.incident.criteria_level) == ("III", "III")
    assert [r["criterion"] for r in view.incident.grading_reasons] == ["FS-III-ill"]
    added = {a.code: (a.due_at, a.required_by) for a in view.actions if a.required_by == "III"}
    # Required only from the re-grade on, so due from then: never overdue on arrival.
    assert added == {"REPORT_UPWARD": (moment.at + 2 * HOUR, "III"), "INFORM_PUBLIC": (moment.at + 24 * HOUR, "III")}
    assert due(view)["REPORT"] == 2 * HOUR  # the actions it had keep their deadlines
    [changed] = events(incidents, events_pb2.IncidentLevelChanged)
    assert (changed.message.previous_level, changed.message.level) == ("IV", "III")
    assert [r.criterion for r in changed.message.grading_reasons] == ["FS-III-ill"]
    assert changed.aggregate_version == changed.message.version == view.incident.version

    same = incidents.update_counts(SYSTEM_CALLER, view.incident.id, counts_of(view), [], [], "", 0)
    assert same.incident.version == view.incident.version  # nothing new: no change, no event
    lower = incidents.update_counts(SYSTEM_CALLER, view.incident.id, counts_of(view, ill_count=60), [],
                                    ["ill_count"], "核减误报病例", 0)
    assert lower.incident.level == "IV" and len(lower.actions) == len(view.actions)
    assert [e.message.level for e in events(incidents, events_pb2.IncidentLevelChanged)] == ["III", "IV"]


def test_an_officer_may_raise_the_level_but_never_below_the_criteria(incidents):
    view = report(incidents, death_count=1)
    assert view.incident.level == "III"
    for level, problem in (("IV", "the criteria give III"), ("III", "not above the incident's level III")):
        with pytest.raises(FailedPrecondition) as raised:
            incidents.escalate_level(SYSTEM_CALLER, view.incident.id, level, "降级处置")
        [violation] = raised.value.violations
        assert violation.field == "level" and problem in violation.description
    with pytest.raises(InvalidArgument):
        incidents.escalate_level(SYSTEM_CALLER, view.incident.id, "II", "  ")
    raised_view = incidents.escalate_level(SYSTEM_CALLER, view.incident.id, "II", "涉及学校，社会关注度高")
    assert (raised_view.incident.level, raised_view.incident.criteria_level) == ("II", "III")
    assert [r["criterion"] for r in raised_view.incident.grading_reasons] == ["ESCALATION", "FS-III-death"]
    # Counts that reach further than the escalation decide again.
    caught_up = incidents.update_counts(SYSTEM_CALLER, view.incident.id, counts_of(raised_view, death_count=10),
                                        [], ["death_count"], "", 0)
    assert [r["criterion"] for r in caught_up.incident.grading_reasons] == ["FS-II-deaths"]


def test_update_counts_refuses_bad_counts_and_unknown_fields(incidents):
    view = report(incidents, ill_count=5)
    with pytest.raises(InvalidArgument) as raised:
        incidents.update_counts(SYSTEM_CALLER, view.incident.id, counts_of(view, death_count=-1, trapped_hours=3),
                                ["new_contaminant"], ["death_count", "trapped_hours", "circumstances", "title"], "", 0)
    assert {v.field for v in raised.value.violations} == {
        "update_mask", "incident.death_count", "incident.trapped_count", "incident.circumstances[0]"}


# ---------------------------------------------------------------- the overdue sweep and completion


def test_the_sweep_marks_each_late_action_once_with_its_event(incidents, moment):
    view = report(incidents, ill_count=5)
    incidents.complete_action(SYSTEM_CALLER, view.incident.id, action_id(view, "CONTROL_GOODS"), "已封存", None)
    moment.at = T0 + 2 * HOUR
    assert incidents.sweep_overdue() == 0  # due at 12:00 is not late at 12:00
    moment.at = T0 + 2 * HOUR + dt.timedelta(seconds=1)
    assert incidents.sweep_overdue() == 2
    assert incidents.sweep_overdue() == 0
    [notification] = events(incidents, events_pb2.NotificationOverdue)
    [action] = events(incidents, events_pb2.ActionOverdue)
    assert (notification.message.action_code, notification.message.action_kind) == ("REPORT", "NOTIFICATION")
    assert (action.message.action_code, action.message.action_kind) == ("ONSITE", "ONSITE")
    assert action.message.action_id == action_id(view, "ONSITE") and action.message.action_title
    assert instant(action.message.due_at) == T0 + 2 * HOUR
    assert (action.message.incident_id, action.message.level, action.message.state) == (view.incident.id, "IV",
                                                                                        "ACTIVE")
    current = incidents.get_incident(SYSTEM_CALLER, view.incident.id)
    assert {a.code for a in current.actions if a.overdue} == {"REPORT", "ONSITE"}
    assert [e.kind for e in current.timeline].count("ACTION_OVERDUE") == 2


def test_lateness_is_judged_by_when_the_action_was_done(incidents, moment):
    view = report(incidents, ill_count=5)
    moment.at = T0 + 5 * HOUR
    incident_id = view.incident.id
    on_time = incidents.complete_action(SYSTEM_CALLER, incident_id, action_id(view, "REPORT"), "电话报告",
                                        T0 + 1.5 * HOUR)
    late = incidents.complete_action(SYSTEM_CALLER, incident_id, action_id(view, "ONSITE"), "", T0 + 3 * HOUR)
    overdue = {a.code: a.overdue for a in late.actions if a.state == "DONE"}
    assert overdue == {"REPORT": False, "ONSITE": True}
    assert on_time.incident.version < late.incident.version
    for done_at, field in ((T0 - HOUR, "done_time"), (moment.at + HOUR, "done_time")):
        with pytest.raises(InvalidArgument) as raised:
            incidents.complete_action(SYSTEM_CALLER, incident_id, action_id(view, "SAMPLE_AND_TEST"), "", done_at)
        assert [v.field for v in raised.value.violations] == [field]
    with pytest.raises(FailedPrecondition):
        incidents.complete_action(SYSTEM_CALLER, incident_id, action_id(view, "REPORT"), "", None)
    with pytest.raises(NotFound):
        incidents.complete_action(SYSTEM_CALLER, incident_id, "no-such-action", "", None)


def test_all_actions_done_make_it_stable_and_a_regrade_reopens_it(incidents, moment):
    view = report(incidents, ill_count=5)
    for action in view.actions:
        view = incidents.complete_action(SYSTEM_CALLER, view.incident.id, action.id, "", None)
    assert view.incident.state == "STABLE"
    view = incidents.update_counts(SYSTEM_CALLER, view.incident.id, counts_of(view, death_count=1), [],
                                   ["death_count"], "", 0)
    assert view.incident.state == "ACTIVE"
    assert sorted(a.code for a in view.actions if a.state == "OPEN") == ["INFORM_PUBLIC", "REPORT_UPWARD"]


def test_closing_needs_every_action_done_and_the_review(incidents):
    view = report(incidents, ill_count=5)
    review = ReviewInput("留样菜品检出诺如病毒", "停业整顿，全镇学校食堂专项检查", "加强晨检与留样管理")
    with pytest.raises(FailedPrecondition, match="4 open action"):
        incidents.close_incident(SYSTEM_CALLER, view.incident.id, review)
    for action in view.actions:
        view = incidents.complete_action(SYSTEM_CALLER, view.incident.id, action.id, "", None)
    with pytest.raises(InvalidArgument) as raised:
        incidents.close_incident(SYSTEM_CALLER, view.incident.id, ReviewInput("原因", "", " "))
    assert {v.field for v in raised.value.violations} == {"review.measures", "review.lessons"}
    closed = incidents.close_incident(SYSTEM_CALLER, view.incident.id, review)
    assert closed.incident.state == "CLOSED" and closed.incident.closed_at is not None
    [event] = events(incidents, events_pb2.IncidentClosed)
    assert (event.message.incident_id, event.message.level, event.message.state) == (view.incident.id, "IV", "CLOSED")
    assert instant(event.message.closed_at) == closed.incident.closed_at
    assert event.message.review_cause == "留样菜品检出诺如病毒"
    incident_id = view.incident.id
    refused = [
        lambda: incidents.complete_action(SYSTEM_CALLER, incident_id, view.actions[0].id, "", None),
        lambda: incidents.update_counts(SYSTEM_CALLER, incident_id, counts_of(view, ill_count=9), [], [], "", 0),
        lambda: incidents.escalate_level(SYSTEM_CALLER, incident_id, "I", "提级"),
        lambda: incidents.add_note(SYSTEM_CALLER, incident_id, "补充"),
        lambda: incidents.close_incident(SYSTEM_CALLER, incident_id, review),
    ]
    for call in refused:
        with pytest.raises(FailedPrecondition):
            call()


def test_only_an_officer_of_the_incidents_office_is_dispatched(incidents):
    view = report(incidents, ill_count=5)
    onsite = action_id(view, "ONSITE")
    assigned = incidents.assign_action(SYSTEM_CALLER, view.incident.id, onsite, "MH01-01")
    assert next(a.assignee_id for a in assigned.actions if a.code == "ONSITE") == "MH01-01"
    with pytest.raises(FailedPrecondition) as raised:
        incidents.assign_action(SYSTEM_CALLER, view.incident.id, onsite, "MH02-01")
    assert "belongs to office MH02" in raised.value.violations[0].description
    with pytest.raises(NotFound):
        incidents.assign_action(SYSTEM_CALLER, view.incident.id, onsite, "MH09-01")


# ---------------------------------------------------------------- reports refused


def test_a_bad_report_names_every_problem(incidents, moment):
    with pytest.raises(InvalidArgument) as raised:
        incidents.report_incident(SYSTEM_CALLER, "", IncidentInput(
            type="FOOD_SAFETY", office_id="MH01", title=" ", occurred_at=T0, learned_at=T0 - HOUR,
            counts=dict.fromkeys(COUNT_FIELDS, 0) | {"ill_count": -1, "trapped_hours": float("nan")},
            circumstances=["crane_overturned"]))
    assert {v.field for v in raised.value.violations} == {
        "incident.title", "incident.learned_at", "incident.ill_count", "incident.trapped_hours",
        "incident.circumstances[0]"}
    with pytest.raises(InvalidArgument) as raised:
        incidents.report_incident(SYSTEM_CALLER, "", IncidentInput(
            type=None, office_id="", title="t", occurred_at=moment.at + HOUR, learned_at=moment.at + 2 * HOUR))
    assert {v.field for v in raised.value.violations} == {
        "incident.type", "incident.office_id", "incident.occurred_at", "incident.learned_at"}
    with pytest.raises(NotFound):
        report(incidents, office_id="MH99", ill_count=1)


def test_an_office_or_officer_without_its_identity_is_refused(directory):
    with directory.workspace.store.transaction() as session:
        with pytest.raises(InvalidArgument) as raised:
            directory.apply_office(session, " ", name="", district="闵行区", streets=[])
        assert {v.field for v in raised.value.violations} == {"data.office_id", "data.name"}
        with pytest.raises(InvalidArgument) as raised:
            directory.apply_officer(session, "X", name="n", office_id="", group="SUPERVISION", certificate_no="",
                                    certificate_expires=None)
        assert {v.field for v in raised.value.violations} == {"data.office_id"}
        assert session.get(Officer, "X") is None


def test_a_certificate_day_must_be_a_calendar_day():
    assert certificate_day(date_pb2.Date()) is None
    assert certificate_day(date_pb2.Date(year=2027, month=2, day=28)) == dt.date(2027, 2, 28)
    for bad in (date_pb2.Date(year=2027, month=2, day=30), date_pb2.Date(year=2027, month=2)):
        with pytest.raises(InvalidArgument) as raised:
            certificate_day(bad)
        assert [v.field for v in raised.value.violations] == ["data.certificate_expires"]
