"""complaints' use cases without a server: clocks, rule sets, indicators, the office copy, the demo."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TypeVar

import pytest
import yaml
from google.protobuf.message import Message
from sqlalchemy import func, select

from services.common import contracts
from services.common.clock import SHANGHAI
from services.common.context import OFFICER, SYSTEM_CALLER, Caller
from services.common.db import Store
from services.common.errors import FailedPrecondition, InvalidArgument
from services.common.working_days import WorkingDayCalendar
from services.complaints import indicators
from services.complaints.demo import load_demo
from services.complaints.domain.complaints import Complaints
from services.complaints.domain.deadlines import Clocks
from services.complaints.domain.directory import Directory
from services.complaints.domain.intake import ComplaintInput
from services.complaints.domain.routing import OfficeAnnouncement, read_announcement, route
from services.complaints.domain.rules import RuleBook
from services.complaints.domain.sweep import DeadlineSweep
from services.complaints.domain.workspace import Workspace
from services.complaints.models import Complaint, ComplaintDeadline, Outbox
from supervision.command_center.v1 import events_pb2 as command_center
from supervision.common.v1.events_pb2 import StatutoryClock
from supervision.complaints.v1 import events_pb2 as pb
from tests.unit.complaints.test_rules import rule_file

M = TypeVar("M", bound=Message)
OFFICER_MH02 = Caller("officer-0207", frozenset({OFFICER}), "MH02")
DISTRICT = Path(__file__).resolve().parents[3] / "services/command_center/demo/district.yaml"


class World:
    """complaints' use cases on a SQLite store whose day the test moves."""

    def __init__(self, store: Store, rules: RuleBook | None = None, calendar: WorkingDayCalendar | None = None):
        self.store = store
        self.today = dt.date(2026, 11, 2)
        clocks = Clocks(rules or RuleBook.load(), calendar or WorkingDayCalendar.load())
        self.workspace = Workspace(store, clocks, lambda: self.today,
                                   now=lambda: dt.datetime.combine(self.today, dt.time(18), SHANGHAI))
        self.complaints, self.sweep = Complaints(self.workspace), DeadlineSweep(self.workspace)
        self.directory = Directory(self.workspace)

    def learn(self, office_id: str, streets: list[str], version: int = 1) -> None:
        with self.store.transaction() as session:
            self.directory.apply_office(session, OfficeAnnouncement(office_id, f"{office_id}所", "闵行区", streets,
                                                                    version))

    def create(self, kind: str = "COMPLAINT", received: dt.date | None = None, street: str = "七宝镇") -> str:
        data = ComplaintInput(kind=kind, channel="HOTLINE_12315",
                              received_at=dt.datetime.combine(received or self.today, dt.time(9), SHANGHAI),
                              complainant_name="李娜", complainant_phone="13800001111", respondent_name="某超市",
                              respondent_address="闵行区某路1号", respondent_street=street, category="食品安全",
                              description="过期食品")
        return self.complaints.create_complaint(SYSTEM_CALLER, "", data).complaint.id

    def deadlines(self, complaint_id: str) -> dict[str, ComplaintDeadline]:
        with self.store.read() as session:
            return {d.kind: d for d in session.scalars(select(ComplaintDeadline)
                                                       .where(ComplaintDeadline.complaint_id == complaint_id))}

    def published(self, message_class: type[M]) -> list[M]:
        """The events of this type in the outbox, decoded as a consumer decodes them."""
        with self.store.read() as session:
            rows = session.scalars(select(Outbox).where(Outbox.event_type == contracts.type_name(message_class))
                                   .order_by(Outbox.id))
            return [contracts.decode(message_class, row.event_type, row.envelope["data"]) for row in rows]

    def readings(self, office_id: str) -> dict[str, tuple[float, float]]:
        with self.store.read() as session:
            return {r.key: (r.numerator, r.denominator) for r in indicators.compute(session, [office_id])[office_id]}


@pytest.fixture
def world(store):
    world = World(store)
    world.learn("MH01", ["莘庄镇"])
    world.learn("MH02", ["七宝镇"])
    return world


def test_a_decision_after_the_due_date_is_late_even_before_the_sweep(world):
    complaint_id = world.create()
    world.today = dt.date(2026, 11, 12)  # due Nov 11
    world.complaints.accept(SYSTEM_CALLER, complaint_id, "")
    clocks = world.deadlines(complaint_id)
    assert (clocks["acceptance"].status, clocks["acceptance"].met_on) == ("LATE", dt.date(2026, 11, 12))
    assert clocks["mediation"].status == "RUNNING" and clocks["mediation"].office_id == "MH02"
    assert world.readings("MH02")["complaints.acceptance_on_time"] == (0, 1)


def test_an_extension_is_approved_before_the_due_date_and_only_once(world):
    late, timely = world.create("REPORT"), world.create("REPORT")
    world.complaints.extend_filing_deadline(SYSTEM_CALLER, timely, "局负责人", "需检测")
    assert world.deadlines(timely)["filing_decision"].due_date == dt.date(2026, 12, 14)  # 15 + 15 from Nov 2
    with pytest.raises(FailedPrecondition, match="once"):
        world.complaints.extend_filing_deadline(SYSTEM_CALLER, timely, "局负责人", "再延")
    world.today = dt.date(2026, 11, 24)  # the first one was due Nov 23
    with pytest.raises(FailedPrecondition, match="due 2026-11-23"):
        world.complaints.extend_filing_deadline(SYSTEM_CALLER, late, "局负责人", "需检测")


def test_the_sweep_recounts_provisional_due_dates_once_the_year_is_published(world, tmp_path):
    world.today = dt.date(2026, 12, 28)
    complaint_id = world.create()
    before = world.deadlines(complaint_id)["acceptance"]
    assert (before.due_date, before.provisional) == (dt.date(2027, 1, 6), True)
    schedule = tmp_path / "calendar.yaml"
    schedule.write_text(yaml.safe_dump({"years": {2027: {"holidays": ["2027-01-01"], "workdays": []}}}))
    published = World(world.store, calendar=WorkingDayCalendar.load(schedule))
    published.today = world.today
    assert published.sweep.run() == 0
    after = world.deadlines(complaint_id)["acceptance"]
    assert (after.due_date, after.provisional) == (dt.date(2027, 1, 7), False)
    with world.store.read() as session:
        assert session.get(Complaint, complaint_id).version == 2


def test_each_clock_takes_the_rule_set_in_force_on_the_day_it_started(store, tmp_path):
    rule_file(tmp_path, "order-20", "2020-01-01", limits={"mediation": 45})
    rule_file(tmp_path, "order-121", "2026-04-15", limits={"mediation": 30})
    world = World(store, rules=RuleBook.load(tmp_path))
    world.learn("MH02", ["七宝镇"])
    world.today = dt.date(2026, 4, 16)
    complaint_id = world.create(received=dt.date(2026, 4, 10))
    world.complaints.accept(SYSTEM_CALLER, complaint_id, "")
    clocks = world.deadlines(complaint_id)
    assert clocks["acceptance"].rule_set == "order-20"
    assert clocks["mediation"].rule_set == "order-121"
    assert clocks["mediation"].due_date == WorkingDayCalendar.load().add_working_days(world.today, 30).date


def test_a_refusal_ground_must_be_one_of_the_rule_set_the_acceptance_clock_started_under(store, tmp_path):
    rule_file(tmp_path, "narrow", "2020-01-01", grounds=["OUTSIDE_DUTIES", "TIME_BARRED"])
    world = World(store, rules=RuleBook.load(tmp_path))
    world.learn("MH02", ["七宝镇"])
    complaint_id = world.create()
    with pytest.raises(InvalidArgument, match="not a refusal ground under narrow"):
        world.complaints.refuse(SYSTEM_CALLER, complaint_id, "HANDLED_ELSEWHERE", "")
    assert world.complaints.refuse(SYSTEM_CALLER, complaint_id, "TIME_BARRED", "").complaint.state == "REFUSED"


def test_indicators_count_met_late_and_overdue_clocks_feedback_and_backlog(world):
    on_time, late, overdue, open_ = (world.create() for _ in range(4))
    world.complaints.accept(SYSTEM_CALLER, on_time, "")
    world.complaints.record_mediation_outcome(SYSTEM_CALLER, on_time, "RESOLVED", "")
    world.complaints.record_feedback(SYSTEM_CALLER, on_time, "BASICALLY_SATISFIED", "")
    world.today = dt.date(2026, 11, 12)
    world.complaints.refuse(SYSTEM_CALLER, late, "OUTSIDE_DUTIES", "")
    world.complaints.record_feedback(SYSTEM_CALLER, late, "DISSATISFIED", "")
    assert world.sweep.run() == 2  # overdue and open_
    assert world.deadlines(overdue)["acceptance"].status == "OVERDUE"
    world.complaints.accept(SYSTEM_CALLER, open_, "")
    assert world.readings("MH02") == {
        indicators.ACCEPTANCE_ON_TIME: (1, 4),  # met; late; overdue; accepted late
        indicators.MEDIATION_ON_TIME: (1, 1),  # open_'s mediation is running: not counted yet
        indicators.SATISFACTION: (1, 2),
        indicators.BACKLOG: (2, 1),  # overdue (received) and open_ (mediating)
    }
    assert world.readings("MH01") == {key: (0, 1 if key == indicators.BACKLOG else 0) for key in indicators.KEYS}


def test_a_resolution_credits_the_officer_with_the_day_and_each_clock_met_or_not(world):
    complaint_id = world.create()
    world.today = dt.date(2026, 11, 12)  # acceptance was due Nov 11
    world.complaints.accept(OFFICER_MH02, complaint_id, "")
    world.today = dt.date(2026, 11, 20)
    world.complaints.record_mediation_outcome(OFFICER_MH02, complaint_id, "FAILED", "")
    mediation = world.deadlines(complaint_id)["mediation"]
    assert mediation.provisional  # 45 working days from Nov 12 reach into 2027
    [resolved] = world.published(pb.ComplaintResolved)
    # Each clock says whether its rule set is unconfirmed, as the shipped rule sets mark it.
    rules = RuleBook.load()
    unconfirmed = {d.kind: not rules.get(d.rule_set).confirmed for d in world.deadlines(complaint_id).values()}
    assert resolved == pb.ComplaintResolved(
        complaint_id=complaint_id, version=3, office_id="MH02", kind="COMPLAINT", state="MEDIATION_FAILED",
        outcome="MEDIATION_FAILED", handled_by="officer-0207", on_time=False, officer_ids=["officer-0207"],
        resolved_on=contracts.date_of(dt.date(2026, 11, 20)),
        clocks=[StatutoryClock(clock="acceptance", due_date=contracts.date_of(dt.date(2026, 11, 11)), met=False,
                               provisional_rule=unconfirmed["acceptance"]),
                StatutoryClock(clock="mediation", due_date=contracts.date_of(mediation.due_date), met=True,
                               provisional=True, provisional_rule=unconfirmed["mediation"])])
    # The mediation notice started at the end is told after the handling: no clock of it.
    assert "mediation_notice" in world.deadlines(complaint_id)


def test_the_system_is_never_credited_and_an_item_without_clocks_is_on_time(world):
    inquiry = world.create("INQUIRY")
    world.today = dt.date(2026, 11, 3)
    world.complaints.answer_inquiry(SYSTEM_CALLER, inquiry, "可以退货")
    [answered] = world.published(pb.ComplaintResolved)
    assert (answered.state, answered.handled_by, list(answered.officer_ids), list(answered.clocks)) == (
        "ANSWERED", "system", [], [])
    assert answered.on_time and contracts.day_of(answered.resolved_on) == dt.date(2026, 11, 3)


def test_a_report_decided_in_time_carries_its_extended_filing_clock(world):
    report = world.create("REPORT")
    [received] = world.published(pb.ComplaintReceived)
    assert (received.complaint_id, received.office_id, received.kind, received.rule_set) == (
        report, "MH02", "REPORT", "samr-order-121")
    assert contracts.day_of(received.filing_decision_due) == dt.date(2026, 11, 23)
    assert not received.HasField("acceptance_due")
    world.complaints.extend_filing_deadline(OFFICER_MH02, report, "局负责人", "需检测")
    world.complaints.verify_report(OFFICER_MH02, report, "属实")
    world.today = dt.date(2026, 12, 1)  # past the first due day, within the extension
    world.complaints.decide_report(OFFICER_MH02, report, True, "")
    [filed] = world.published(pb.ComplaintResolved)
    assert filed.on_time and list(filed.officer_ids) == ["officer-0207"]
    unconfirmed = not RuleBook.load().get("samr-order-121").confirmed
    assert list(filed.clocks) == [StatutoryClock(clock="filing_decision",
                                                 due_date=contracts.date_of(dt.date(2026, 12, 14)), met=True,
                                                 provisional_rule=unconfirmed)]
    [lead] = world.published(pb.CaseLeadRaised)
    assert (lead.complaint_id, lead.respondent.name, lead.respondent.street) == (report, "某超市", "七宝镇")


def test_rerouting_leaves_met_clocks_with_the_office_that_met_them(world):
    complaint_id = world.create()
    world.complaints.accept(SYSTEM_CALLER, complaint_id, "")
    world.complaints.reroute(SYSTEM_CALLER, complaint_id, "MH01", "经营地在莘庄镇")
    clocks = world.deadlines(complaint_id)
    assert (clocks["acceptance"].office_id, clocks["mediation"].office_id) == ("MH02", "MH01")


def test_a_street_belongs_to_its_newest_announcement_whatever_the_order(world):
    world.learn("MH03", ["颛桥镇"])
    world.learn("MH04", ["颛桥镇", "马桥镇"])
    world.learn("MH03", ["吴泾镇"], version=2)  # MH03's update, without the street it gave up
    with world.store.read() as session:
        assert [route(session, street, "") for street in ("颛桥镇", "马桥镇", "吴泾镇", "浦江镇")] == [
            "MH04", "MH04", "MH03", "_district_queue"]


@pytest.mark.parametrize("message", [
    command_center.OfficeRegistered(),
    command_center.OfficeRegistered(office_id="MH01", name="所"),
    command_center.OfficeUpdated(office_id="MH01", streets=["七宝镇"]),
    command_center.OfficeUpdated(office_id="MH01", name="所", streets=["七宝镇", " "]),
    command_center.OfficeUpdated(office_id="MH01", name="所", streets=["七" * 51]),
    command_center.OfficeRegistered(office_id="M" * 33, name="所", streets=["七宝镇"]),
])
def test_a_malformed_office_event_is_refused(message):
    # No publisher would write these: the typed message is built by hand to test the refusal.
    with pytest.raises(InvalidArgument, match="malformed office event"):
        read_announcement(message)


def test_an_office_event_is_read_with_its_version_and_trimmed_streets():
    announcement = read_announcement(command_center.OfficeUpdated(
        office_id="MH01", version=3, name="莘庄所", district="闵行区", streets=[" 莘庄镇", "春申 "]))
    assert announcement == OfficeAnnouncement("MH01", "莘庄所", "闵行区", ["莘庄镇", "春申"], 3)


def test_the_demo_spreads_items_over_every_office_once(store):
    world = World(store)
    world.today = dt.date.today()
    offices = yaml.safe_load(DISTRICT.read_text(encoding="utf-8"))["offices"]
    for office in offices:
        world.learn(office["id"], office["streets"])
    assert load_demo(world.workspace, world.complaints, world.sweep).complete
    with store.read() as session:
        by_office = dict(session.execute(select(Complaint.office_id, func.count()).group_by(Complaint.office_id)).all())
        states = set(session.scalars(select(Complaint.state).distinct()))
        overdue = session.scalar(select(func.count()).where(Complaint.overdue.is_(True)))
        leads = session.scalar(select(func.count()).where(Outbox.event_type == contracts.type_name(pb.CaseLeadRaised)))
    assert set(by_office) == {o["id"] for o in offices} | {"_district_queue"}
    assert states >= {"RECEIVED", "ACCEPTED", "REFUSED", "RESOLVED", "MEDIATION_FAILED", "VERIFIED", "CASE_FILED",
                      "ANSWERED"}
    assert overdue > 0 and leads > 0
    assert not load_demo(world.workspace, world.complaints, world.sweep).loaded  # never over existing data
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Complaint)) == sum(by_office.values())
