"""Shared fixtures for the services.common tests: a tiny schema on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from google.protobuf.message import Message
from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common import contracts
from services.common.db import Store
from services.common.events import AppliedVersionMixin, DeadLetterMixin, Envelope, InboxMixin, OutboxMixin
from supervision.command_center.v1.events_pb2 import OfficeUpdated


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
    pass


class AppliedVersion(AppliedVersionMixin, Base):
    pass


class DeadLetter(DeadLetterMixin, Base):
    pass


class Effect(Base):
    """What the test handlers write: one row per applied event."""

    __tablename__ = "effects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))
    note: Mapped[str] = mapped_column(String(200), default="")


MODELS = SimpleNamespace(Base=Base, Outbox=Outbox, Inbox=Inbox, AppliedVersion=AppliedVersion,
                         DeadLetter=DeadLetter, Effect=Effect)


@pytest.fixture
def models() -> SimpleNamespace:
    return MODELS


@pytest.fixture
def make_store(tmp_path) -> Iterator[Callable[[str], Store]]:
    stores: list[Store] = []

    def make(name: str = "x") -> Store:
        store = Store("sqlite:///" + str(tmp_path / f"{name}.db"))
        Base.metadata.create_all(store.engine)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.dispose()


@pytest.fixture
def store(make_store) -> Store:
    return make_store("x")


@pytest.fixture
def make_wire() -> Callable[..., dict[str, Any]]:
    """Deliveries as the relay sends them: a real contract message (command_center's OfficeUpdated
    unless `message` names another) encoded the way EventWriter.record encodes it; every envelope
    attribute overridable (a test of a broken delivery breaks it on purpose)."""

    def make(message: type[Message] = OfficeUpdated, **overrides: Any) -> dict[str, Any]:
        aggregate_id = overrides.pop("aggregate_id", "shop-1")
        version = overrides.get("aggregate_version", 1)
        body = message()
        fields = body.DESCRIPTOR.fields_by_name
        setattr(body, body.DESCRIPTOR.fields[0].name, aggregate_id)
        if "version" in fields and isinstance(version, int):
            body.version = version
        if "name" in fields:
            body.name = "Green Valley Market"
        source = overrides.pop("source", "command_center")
        wire = Envelope(id=str(uuid.uuid4()), source=source, type=contracts.type_name(message),
                        subject=f"office/{aggregate_id}", time=dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC),
                        office_id="office-1", aggregate_id=aggregate_id,
                        aggregate_version=version if isinstance(version, int) else 0,
                        data=contracts.encode(body)).to_wire()
        wire.update(overrides)
        return wire

    return make

