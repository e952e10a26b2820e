"""run_once: a retry of a Create returns the first result; a request_id reused for a different request
is refused and changes nothing."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from services.common import idempotency
from services.common.context import Caller, caller_var, request_var
from services.common.db import Store
from services.common.errors import AlreadyExists, InvalidArgument
from services.common.events import RequestKeyMixin
from services.common.idempotency import run_once, stored_key
from supervision.command_center.v1 import command_center_pb2 as pb


class Base(DeclarativeBase):
    pass


class RequestKey(RequestKeyMixin, Base):
    pass


class Office(Base):
    __tablename__ = "offices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    store = Store("sqlite:///" + str(tmp_path / "keys.db"))
    Base.metadata.create_all(store.engine)
    token = caller_var.set(Caller("officer-1", frozenset({"officer"}), "MH01"))
    yield store
    caller_var.reset(token)
    store.dispose()


def request(request_id: str, name: str) -> pb.CreateOfficeRequest:
    return pb.CreateOfficeRequest(request_id=request_id, office=pb.Office(id="", name=name, district="闵行区"))


def create_office(store: Store, message: pb.CreateOfficeRequest | None, request_id: str, name: str) -> tuple[str, str]:
    """What a Create method does: run_once inside the gRPC call whose request is `message`."""

    def create(session: Session) -> str:
        office = Office(id=str(uuid.uuid4()), name=name)
        session.add(office)
        return office.id

    def load(session: Session, office_id: str) -> tuple[str, str]:
        office = session.get(Office, office_id)
        return office.id, office.name

    token = request_var.set(message)
    try:
        return run_once(store, RequestKey, request_id, "CreateOffice", create, load)
    finally:
        request_var.reset(token)


def contents(store: Store) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    with store.read() as session:
        offices = [tuple(row) for row in session.execute(select(Office.id, Office.name).order_by(Office.id))]
        keys = [tuple(row) for row in session.execute(select(RequestKey.request_id, RequestKey.resource_id))]
    return offices, keys


def stored_hashes(store: Store) -> list[str]:
    with store.read() as session:
        return list(session.scalars(select(RequestKey.payload_hash)))


def test_the_same_request_sent_again_returns_the_first_result(store):
    first = create_office(store, request("r-1", "莘庄所"), "r-1", "莘庄所")
    again = create_office(store, request("r-1", "莘庄所"), "r-1", "莘庄所")
    assert again == first
    offices, keys = contents(store)
    assert offices == [first]
    assert keys == [(stored_key("r-1"), first[0])]
    assert stored_hashes(store) == [idempotency.payload_hash(request("", "莘庄所"))]


def test_a_request_id_reused_for_a_different_request_is_refused_and_changes_nothing(store):
    first = create_office(store, request("r-1", "莘庄所"), "r-1", "莘庄所")
    before = contents(store)
    with pytest.raises(AlreadyExists) as refused:
        create_office(store, request("r-1", "七宝所"), "r-1", "七宝所")
    assert "already used for a different request" in refused.value.message
    assert "new request_id" in refused.value.message
    assert [v.field for v in refused.value.violations] == ["request_id"]
    assert contents(store) == before
    # The first request still answers its retries.
    assert create_office(store, request("r-1", "莘庄所"), "r-1", "莘庄所") == first


def test_another_caller_may_use_the_same_request_id_for_its_own_request(store):
    create_office(store, request("r-1", "莘庄所"), "r-1", "莘庄所")
    token = caller_var.set(Caller("officer-2", frozenset({"officer"}), "MH02"))
    try:
        created = create_office(store, request("r-1", "七宝所"), "r-1", "七宝所")
    finally:
        caller_var.reset(token)
    assert created[1] == "七宝所"


def test_a_key_stored_before_payloads_were_kept_answers_as_a_retry(store):
    with store.transaction() as session:
        session.add(Office(id="office-old", name="莘庄所"))
        session.add(RequestKey(request_id=stored_key("r-old"), method="CreateOffice", resource_id="office-old",
                               created_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC)))
    assert stored_hashes(store) == [""]
    assert create_office(store, request("r-old", "七宝所"), "r-old", "七宝所") == ("office-old", "莘庄所")
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Office)) == 1


def test_outside_a_grpc_call_a_replay_answers_as_a_retry(store):
    """Demo loaders and domain tests call without a request message: nothing to compare."""
    first = create_office(store, None, "demo-1", "莘庄所")
    assert stored_hashes(store) == [""]
    assert create_office(store, None, "demo-1", "七宝所") == first
    assert create_office(store, request("demo-1", "七宝所"), "demo-1", "七宝所") == first


def test_the_request_id_itself_is_not_part_of_the_payload():
    payload_hash = idempotency.payload_hash
    assert payload_hash(request("a", "莘庄所")) == payload_hash(request("b", "莘庄所"))
    assert payload_hash(request("a", "莘庄所")) != payload_hash(request("a", "七宝所"))
    assert payload_hash(None) == ""


def test_a_request_id_used_for_another_method_is_still_invalid(store):
    create_office(store, request("r-1", "莘庄所"), "r-1", "莘庄所")
    token = request_var.set(request("r-1", "莘庄所"))
    try:
        with pytest.raises(InvalidArgument):
            run_once(store, RequestKey, "r-1", "RegisterOfficer", lambda s: "x", lambda s, i: i)
    finally:
        request_var.reset(token)
