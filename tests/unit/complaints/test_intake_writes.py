"""How CreateComplaint writes: the answer it builds from the rows it wrote is the item as stored, and
the lookups it shares with other steps (routing, the least-loaded handler, the duplicate check)
answer as their ORM queries did."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import inspect, select

from services.common.clock import SHANGHAI
from services.common.context import SYSTEM_CALLER
from services.complaints import messages
from services.complaints.domain import intake
from services.complaints.domain.assignment import OfficerAnnouncement, least_loaded
from services.complaints.domain.categories import Category, CategoryTree
from services.complaints.domain.complaints import ComplaintView
from services.complaints.domain.intake import ComplaintInput
from services.complaints.domain.routing import route
from services.complaints.models import Complaint, ComplaintDeadline, ComplaintHistory, OfficeStreet, RequestKey
from tests.unit.complaints.test_use_cases import OFFICER_MH02, World


@pytest.fixture
def world(store):
    world = World(store)
    world.learn("MH01", ["莘庄镇"])
    world.learn("MH02", ["七宝镇"])
    with store.transaction() as session:
        for officer_id in ("MH02-01", "MH02-02"):
            world.directory.apply_officer(session, OfficerAnnouncement(officer_id, "MH02", officer_id,
                                                                       "COMPLAINT_HANDLING", 1))
    return world


def _item(kind: str = "COMPLAINT", **changes) -> ComplaintInput:
    data = ComplaintInput(kind=kind, channel="HOTLINE_12315",
                          received_at=dt.datetime(2026, 11, 2, 9, tzinfo=SHANGHAI), complainant_name="李娜",
                          complainant_phone="13800001111", respondent_name="某超市", respondent_address="闵行区某路1号",
                          respondent_street="七宝镇", category="食品安全", description="过期食品 13800001111",
                          amount_yuan="12.50")
    return dataclasses.replace(data, **changes)


def _columns(row: object) -> dict:
    """The row's values, a time with its zone: equal instants in two zones are not the same answer."""
    values = {column.key: getattr(row, column.key) for column in type(row).__table__.columns}
    return {key: (value, value.tzinfo) if isinstance(value, dt.datetime) else value for key, value in values.items()}


def _same_view(world: World, created: ComplaintView, read: ComplaintView) -> None:
    rules = world.workspace.rules
    tree = world.workspace.categories.get(created.complaint.category_tree)
    assert messages.complaint_to_proto(created, rules, tree) == messages.complaint_to_proto(read, rules, tree)
    assert _columns(created.complaint) == _columns(read.complaint)
    assert [_columns(d) for d in created.deadlines] == [_columns(d) for d in read.deadlines]
    assert [_columns(h) for h in created.history] == [_columns(h) for h in read.history]
    assert (created.personal_data_visible, created.reward) == (read.personal_data_visible, read.reward)
    # Usable after the transaction, as rows read back are: nothing left to load.
    for row in (created.complaint, *created.deadlines, *created.history):
        assert inspect(row).detached and not inspect(row).unloaded


@pytest.mark.parametrize("kind", ["COMPLAINT", "REPORT", "INQUIRY"])
def test_the_answer_of_a_create_is_the_item_as_stored(world, kind):
    first = world.complaints.create_complaint(SYSTEM_CALLER, f"first-{kind}", _item(kind))
    created = world.complaints.create_complaint(SYSTEM_CALLER, f"again-{kind}", _item(kind, category_code="G0102"))
    assert created.complaint.possible_duplicate_of == (first.complaint.id if kind != "INQUIRY" else "")
    assert created.complaint.handler_id == ("MH02-02" if kind == "REPORT" else "")
    assert len(created.deadlines) == (0 if kind == "INQUIRY" else 1) and len(created.history) == 1
    _same_view(world, created, world.complaints.get_complaint(SYSTEM_CALLER, created.complaint.id))


def test_a_retry_answers_the_item_as_stored_and_a_masked_caller_sees_it_masked(world):
    created = world.complaints.create_complaint(OFFICER_MH02, "masked", _item("REPORT"))
    assert created.personal_data_visible
    retried = world.complaints.create_complaint(OFFICER_MH02, "masked", _item("REPORT"))
    _same_view(world, created, retried)
    other_office = dataclasses.replace(OFFICER_MH02, office_id="MH01")
    masked = world.complaints.create_complaint(other_office, "other-office", _item("REPORT"))
    assert not masked.personal_data_visible
    assert messages.complaint_to_proto(masked, world.workspace.rules).description == "过期食品 138****1111"


def test_a_create_writes_each_row_once(world):
    created = world.complaints.create_complaint(SYSTEM_CALLER, "once", _item("REPORT"))
    with world.store.read() as session:
        complaints = session.scalars(select(Complaint)).all()
        deadlines = session.scalars(select(ComplaintDeadline)).all()
        entries = session.scalars(select(ComplaintHistory)).all()
        keys = session.scalars(select(RequestKey)).all()
    assert [_columns(c) for c in complaints] == [_columns(created.complaint)]
    assert [_columns(d) for d in deadlines] == [_columns(d) for d in created.deadlines]
    assert [_columns(h) for h in entries] == [_columns(h) for h in created.history]
    assert [k.resource_id for k in keys] == [created.complaint.id]
    assert created.history[0].note == "channel HOTLINE_12315; handler MH02-01"


def test_the_least_loaded_handler_counts_changes_not_yet_written(world):
    report = world.complaints.create_complaint(SYSTEM_CALLER, "", _item("REPORT")).complaint
    assert report.handler_id == "MH02-01"
    with world.store.transaction() as session:
        assert least_loaded(session, "MH02") == "MH02-02"
        session.get(Complaint, report.id).handler_id = "MH02-02"  # pending, not flushed
        assert least_loaded(session, "MH02") == "MH02-01"


def test_routing_sees_streets_not_yet_written(world):
    with world.store.transaction() as session:
        assert route(session, "颛桥镇", "") == "_district_queue"
        session.add(OfficeStreet(street="颛桥镇", office_id="MH01"))  # pending, not flushed
        assert route(session, "颛桥镇", "") == "MH01"


def _tree(*class_codes: str) -> CategoryTree:
    nodes = {code: Category(code, code, "G", code, f"商品 / {code}") for code in class_codes}
    return CategoryTree("test-tree", "test", dt.date(2020, 1, 1), nodes, {})


@pytest.mark.parametrize("class_code", ["G_1", "G%1", "G/1"])
def test_a_class_code_matches_literally_in_the_duplicate_check(world, class_code):
    """LIKE's wildcards and escape character in a class code match only themselves."""
    tree = _tree(class_code, "GX1", "G/X")
    received = dt.datetime(2026, 11, 2, 1, tzinfo=dt.UTC)
    earlier = intake.new_complaint(_item(category_code=class_code + "01"), "MH02", received, tree)
    lookalikes = [intake.new_complaint(_item(category_code=code), "MH02", received, tree)
                  for code in ("GX101", "G/X01")]
    with world.store.transaction() as session:
        session.add_all(lookalikes)
        session.flush()
        later = intake.new_complaint(_item(category_code=class_code), "MH02", received, tree)
        later.received_at = received + dt.timedelta(hours=1)
        assert intake.find_duplicate(session, later, tree) == ""
        session.add(earlier)
        session.flush()
        assert intake.find_duplicate(session, later, tree) == earlier.id
