"""Shared fixtures for the services.common tests: a tiny schema on a real SQLite file."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import Store
from services.common.events import AppliedVersionMixin, InboxMixin, OutboxMixin


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
    pass


class AppliedVersion(AppliedVersionMixin, Base):
    pass


class Effect(Base):
    """What the test handlers write: one row per applied event."""

    __tablename__ = "effects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))
    note: Mapped[str] = mapped_column(String(200), default="")


MODELS = SimpleNamespace(Base=Base, Outbox=Outbox, Inbox=Inbox, AppliedVersion=AppliedVersion, Effect=Effect)


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
    """Wire dicts as a producer would send them; every field overridable."""

    def make(**overrides: Any) -> dict[str, Any]:
        aggregate_id = overrides.pop("aggregate_id", "shop-1")
        wire = {
            "id": str(uuid.uuid4()), "source": "registry", "type": "shop.updated",
            "subject": f"shop/{aggregate_id}", "time": "2026-03-02T08:00:00Z", "office_id": "office-1",
            "aggregate_id": aggregate_id, "aggregate_version": 1, "traceparent": "",
            "data": {"name": "Green Valley Market"},
        }
        wire.update(overrides)
        return wire

    return make

