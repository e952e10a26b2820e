"""CreateOffice and UpdateOffice answer from what they wrote, without reading it back: each answer, and
the event each records, must be exactly what a read of the store gives afterwards, on SQLite and on
PostgreSQL (whose collation may order duty scopes otherwise than Python does)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
from sqlalchemy import func, insert, select

from services.command_center import messages, service
from services.command_center.domain.groups import GROUPS
from services.command_center.domain.officers import OfficerInput, Officers
from services.command_center.domain.offices import OfficeInput, Offices, OfficeView
from services.command_center.domain.workspace import Workspace
from services.command_center.models import (
    Office,
    OfficeResponsibility,
    OfficeStreet,
    Outbox,
    RegistryGeneration,
    RequestKey,
)
from services.common import migrate
from services.common.context import SYSTEM_CALLER
from services.common.db import Store
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from services.common.idempotency import stored_key
from services.common.working_days import WorkingDayCalendar

TODAY = dt.date(2026, 11, 2)
# Keys that code point order (Python's, SQLite's) and ICU's en-US order (PostgreSQL) sort differently.
SCOPES = {"wet_market": "农贸市场", "port": "港口", "zone1": "一区", "zone_a": "甲区", "hospital": "医院"}


@pytest.fixture(params=["sqlite", "postgresql"])
def offices(request, tmp_path):
    """Offices (and Officers) on a migrated store: a SQLite file, or a PostgreSQL database whose
    collation is ICU's en-US."""
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'cc.db'}", None
    else:
        admin_url = request.getfixturevalue("postgres_admin_url")
        name = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
                         " LOCALE 'C.UTF-8'")
        url, drop = urlparse(admin_url)._replace(scheme="postgresql+psycopg", path=f"/{name}").geturl(), name
    store = Store(url)
    migrate.upgrade("command_center", str(Path(service.__file__).with_name("migrations")), store.url)
    workspace = Workspace(store, lambda: TODAY, WorkingDayCalendar.load(), scopes=SCOPES)
    yield Offices(workspace), Officers(workspace)
    store.dispose()
    if drop:
        with psycopg.connect(request.getfixturevalue("postgres_admin_url"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{drop}" WITH (FORCE)')


def read_back(offices: Offices, office_id: str) -> OfficeView:
    with offices.workspace.store.read() as session:
        return offices._view(session, office_id)


def same_as_stored(offices: Offices, answer: OfficeView) -> None:
    assert messages.office_to_proto(answer) == messages.office_to_proto(read_back(offices, answer.office.id))


def events(offices: Offices) -> list[dict]:
    with offices.workspace.store.read() as session:
        return [row["data"] for row in session.scalars(select(Outbox.envelope).order_by(Outbox.id))]


def generation(offices: Offices) -> int:
    with offices.workspace.store.read() as session:
        return session.scalars(select(RegistryGeneration.value)).one()


def stored_rows(offices: Offices) -> tuple[int, ...]:
    with offices.workspace.store.read() as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (Office, OfficeStreet, OfficeResponsibility, Outbox, RequestKey, RegistryGeneration))


def hire(officers: Officers, officer_id: str, office_id: str, group: str, expires: dt.date | None) -> None:
    officers.register_officer(SYSTEM_CALLER, "", OfficerInput(officer_id, "甲", office_id, group,
                                                              "SH" + officer_id if expires else "", expires))


def test_a_new_office_answers_and_is_announced_as_it_is_stored(offices):
    offices, _ = offices
    before = generation(offices)
    answer = offices.create_office(SYSTEM_CALLER, "r-1", OfficeInput(
        "MH01", " 莘庄所 ", " 闵行区 ", [" 莘庄镇", "莘庄工业区 ", "春申"], ["zone_a", "wet_market", "zone1", "port"]))
    same_as_stored(offices, answer)
    assert (answer.office.name, answer.office.district, answer.office.version) == ("莘庄所", "闵行区", 1)
    assert answer.streets == ["莘庄镇", "莘庄工业区", "春申"]  # stripped, in the order given
    assert [(g.kind, g.officer_count, g.certified_count) for g in answer.groups] == [(k, 0, 0) for k in GROUPS]
    assert answer.office.created_at == answer.office.updated_at
    [event] = events(offices)
    assert event["streets"] == answer.streets
    assert event["duty_scopes"] == read_back(offices, "MH01").duty_scopes == answer.duty_scopes
    assert (event["name"], event["district"], event["version"]) == ("莘庄所", "闵行区", "1")
    assert generation(offices) == before + 1


def test_the_store_orders_the_declared_scopes(offices):
    offices, _ = offices
    answer = offices.create_office(SYSTEM_CALLER, "", OfficeInput("MH01", "所", "区", ["镇"],
                                                                  ["zone1", "zone_a", "wet_market"]))
    if offices.workspace.store.is_sqlite:
        assert answer.duty_scopes == ["wet_market", "zone1", "zone_a"]  # by code point
    else:
        assert answer.duty_scopes == ["wet_market", "zone_a", "zone1"]  # ICU: punctuation before digits


def test_a_retry_is_answered_from_the_store(offices):
    offices, officers = offices
    first = offices.create_office(SYSTEM_CALLER, "r-1", OfficeInput("MH01", "所", "区", ["镇"], ["port"]))
    hire(officers, "o1", "MH01", "SUPERVISION", TODAY + dt.timedelta(days=3))
    again = offices.create_office(SYSTEM_CALLER, "r-1", OfficeInput("MH01", "所", "区", ["镇"], ["port"]))
    assert [g.officer_count for g in first.groups] == [0, 0, 0, 0]
    assert [(g.kind, g.officer_count, g.certified_count) for g in again.groups if g.officer_count] == [
        ("SUPERVISION", 1, 1)]
    same_as_stored(offices, again)
    assert len(events(offices)) == 2  # OfficeRegistered and OfficerRegistered, nothing for the retry


def test_a_refused_office_stores_nothing(offices):
    offices, _ = offices
    offices.create_office(SYSTEM_CALLER, "r-1", OfficeInput("MH01", "所", "区", ["莘庄镇"], ["port"]))
    before = stored_rows(offices), generation(offices)
    with pytest.raises(FailedPrecondition) as taken:
        offices.create_office(SYSTEM_CALLER, "r-2", OfficeInput("MH02", "所", "区", ["七宝镇", " 莘庄镇"], ["port"]))
    assert [(v.field, v.description) for v in taken.value.violations] == [
        ("office.streets[1]", "莘庄镇 is covered by office MH01")]
    with pytest.raises(AlreadyExists):
        offices.create_office(SYSTEM_CALLER, "r-3", OfficeInput("MH01", "所", "区", ["七宝镇"], ["port"]))
    assert (stored_rows(offices), generation(offices)) == before


@pytest.mark.parametrize(("mask", "change"), [
    ([], OfficeInput("MH01", " 新名 ", "闵行区", ["春申", " 新镇"], ["hospital", "zone1", "zone_a"])),
    (["streets"], OfficeInput("MH01", "", "", ["新镇 ", "莘庄镇"])),
    (["duty_scopes"], OfficeInput("MH01", "", "", [], ["zone1", "wet_market", "zone_a"])),
    (["duty_scopes"], OfficeInput("MH01", "", "", [], [])),
    (["name", "district"], OfficeInput("MH01", "莘庄所", " 新区 ", [])),
    (["name"], OfficeInput("MH01", "莘庄所", "", [])),  # the same name: the version still moves
])
def test_an_updated_office_answers_and_is_announced_as_it_is_stored(offices, mask, change):
    offices, officers = offices
    offices.create_office(SYSTEM_CALLER, "", OfficeInput("MH01", "莘庄所", "闵行区", ["莘庄镇", "春申"],
                                                         ["port", "zone_a"]))
    hire(officers, "o1", "MH01", "SUPERVISION", TODAY + dt.timedelta(days=3))
    hire(officers, "o2", "MH01", "GENERAL", TODAY - dt.timedelta(days=1))
    hire(officers, "o3", "MH01", "GENERAL", None)
    before = generation(offices)
    answer = offices.update_office(SYSTEM_CALLER, change, mask, 1)
    same_as_stored(offices, answer)
    assert answer.office.version == 2
    assert [(g.kind, g.officer_count, g.certified_count) for g in answer.groups] == [
        ("GENERAL", 2, 0), ("SUPERVISION", 1, 1), ("CASE_HANDLING", 0, 0), ("COMPLAINT_HANDLING", 0, 0)]
    event = events(offices)[-1]
    assert (event["name"], event["district"], event["version"]) == (answer.office.name, answer.office.district, "2")
    assert event["streets"] == answer.streets
    assert event.get("duty_scopes", []) == answer.duty_scopes
    assert generation(offices) == before + 1


def test_a_refused_update_changes_nothing(offices):
    offices, _ = offices
    offices.create_office(SYSTEM_CALLER, "", OfficeInput("MH01", "所", "区", ["莘庄镇"], ["port"]))
    offices.create_office(SYSTEM_CALLER, "", OfficeInput("MH02", "所", "区", ["七宝镇"]))
    before, answer = stored_rows(offices), read_back(offices, "MH01")
    with pytest.raises(FailedPrecondition):
        offices.update_office(SYSTEM_CALLER, OfficeInput("MH01", "新名", "区", ["春申", "七宝镇"], ["hospital"]), [], 0)
    assert stored_rows(offices) == before
    assert messages.office_to_proto(read_back(offices, "MH01")) == messages.office_to_proto(answer)


def test_a_create_beaten_to_its_request_id_answers_with_what_the_first_request_created(offices):
    offices, _ = offices
    store = offices.workspace.store
    if store.is_sqlite:
        pytest.skip("one writer at a time: no other request can commit in between")
    noted = offices.workspace.touched

    def first_request_commits_meanwhile(session, office_ids):
        # Another call with the same request_id commits its office and key while this one is in its
        # transaction: this one's key then conflicts, and its second attempt answers as a retry.
        noted(session, office_ids)
        if office_ids == ["MH01"]:
            now = dt.datetime.now(dt.UTC)
            with store.engine.begin() as other:
                other.execute(insert(Office), [dict(id="MH09", name="七宝所", district="闵行区", created_at=now,
                                                    updated_at=now, version=1)])
                other.execute(insert(OfficeStreet), [dict(street="七宝镇", office_id="MH09", position=0)])
                other.execute(insert(RequestKey), [dict(request_id=stored_key("r-1"), method="CreateOffice",
                                                        resource_id="MH09", created_at=now, payload_hash="")])

    offices.workspace.touched = first_request_commits_meanwhile
    answer = offices.create_office(SYSTEM_CALLER, "r-1", OfficeInput("MH01", "莘庄所", "闵行区", ["莘庄镇"], ["port"]))
    assert (answer.office.id, answer.streets, answer.duty_scopes) == ("MH09", ["七宝镇"], [])
    same_as_stored(offices, answer)
    with store.read() as session:
        assert session.get(Office, "MH01") is None


def test_streets_equal_once_stripped_are_refused_as_invalid_and_nothing_is_stored(offices):
    # The streets are stored stripped, so " 镇" and "镇" are one street listed twice: refused as bad
    # input, never left to the store's key (an IntegrityError, INTERNAL to the caller).
    offices, _ = offices
    offices.create_office(SYSTEM_CALLER, "", OfficeInput("MH01", "所", "区", ["莘庄镇"]))
    before = stored_rows(offices), generation(offices)
    with pytest.raises(InvalidArgument) as refused:
        offices.create_office(SYSTEM_CALLER, "r-1", OfficeInput("MH02", "所", "区", ["七宝镇", " 七宝镇"]))
    assert [v.field for v in refused.value.violations] == ["office.streets[1]"]
    with pytest.raises(InvalidArgument):
        offices.update_office(SYSTEM_CALLER, OfficeInput("MH01", "", "", ["春申", "春申 "]), ["streets"], 0)
    assert (stored_rows(offices), generation(offices)) == before
