from __future__ import annotations

import datetime as dt

import pytest

from services.gateway.domain.alerts import AlertRules
from services.gateway.domain.live import LiveIndex
from services.gateway.domain.schemes import load_starting_scheme

SOURCES = ("command_center", "complaints", "facilities")


class Now:
    """A movable UTC clock."""

    def __init__(self) -> None:
        self.value = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.value

    def advance(self, **delta: float) -> None:
        self.value += dt.timedelta(**delta)


@pytest.fixture
def now() -> Now:
    return Now()


@pytest.fixture
def scheme():
    return load_starting_scheme()


@pytest.fixture
def live(scheme, now) -> LiveIndex:
    return LiveIndex(scheme, AlertRules.load(), SOURCES, now)


class Recorded:
    """Every change a live index published, in order."""

    def __init__(self, live: LiveIndex):
        self.changes = []
        live.subscribe(lambda view, changes: self.changes.extend(changes))

    def kinds(self) -> list[str]:
        return [c.kind for c in self.changes]

    def clear(self) -> None:
        self.changes.clear()


@pytest.fixture
def recorded(live) -> Recorded:
    return Recorded(live)
