"""Contract tests: an event produced by its publisher's own code, consumed by the real consumer.

`center("command_center", "complaints", ...)` hosts the named services as `make run` would (each
on a migrated SQLite store, a gRPC server on a free port, one movable clock) and subscribes every
hosted service's consumer to every other one's in-process bus. A test calls the publisher's gRPC
API, the same call that records the event in production; `settle()` relays the committed outbox
rows (their JSON, read back from the store) until every consumer has applied everything; the test
then asserts the consumer's effect through its own API or store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.consumer import APPLIED, Consumer
from tests.conftest import make_settings
from tests.support import Clock, RunningService, host


class Center:
    def __init__(self, tmp_path, clock: Clock):
        self.tmp_path = tmp_path
        self.clock = clock
        self.services: dict[str, RunningService] = {}

    def add(self, *names: str, **settings: str) -> Center:
        for name in names:
            running = host(name, f"sqlite:///{self.tmp_path / (name + '.db')}", make_settings(**settings), self.clock)
            for other in self.services.values():
                other.bus.subscribe(running.runtime.consumer(), running.runtime.subscriptions)
                running.bus.subscribe(other.runtime.consumer(), other.runtime.subscriptions)
            self.services[name] = running
        return self

    def __getitem__(self, name: str) -> RunningService:
        return self.services[name]

    def settle(self, rounds: int = 10) -> None:
        """Publishes every committed event, and the events their consumers write in turn."""
        for _ in range(rounds):
            moved = 0
            for running in self.services.values():
                if running.runtime.indicators is not None:
                    running.runtime.indicators.flush()
                while published := running.hosted.relay.relay_once():
                    moved += published
            if not moved:
                return
        raise AssertionError(f"events still flowing after {rounds} rounds")

    def close(self) -> None:
        for running in self.services.values():
            running.close()


@pytest.fixture
def center(tmp_path):
    """center(*service names) -> a Center hosting them, connected both ways."""
    made: list[Center] = []

    def make(*names: str, clock: Clock | None = None, **settings: str) -> Center:
        built = Center(tmp_path, clock or Clock()).add(*names, **settings)
        made.append(built)
        return built

    yield make
    for built in made:
        built.close()


# ------------------------------------------------------------------ every subscription has a test

HERE = Path(__file__).parent
# (consumer service, subscription name) of every event a contract test got applied in this session.
APPLIED_SUBSCRIPTIONS: set[tuple[str, str]] = set()
COVERAGE_TEST = "test_every_subscription.py"


@pytest.fixture(autouse=True, scope="session")
def record_applied_subscriptions():
    """Notes which subscriptions the contract tests exercised (for test_every_subscription.py)."""
    # _apply_in applies one event in both paths: a delivery on its own and one of a group.
    original = Consumer._apply_in

    def applying(self, session, subscription, event):
        outcome = original(self, session, subscription, event)
        if outcome == APPLIED:
            APPLIED_SUBSCRIPTIONS.add((self.service, subscription.name))
        return outcome

    Consumer._apply_in = applying
    yield
    Consumer._apply_in = original


def pytest_collection_modifyitems(config, items):
    """The coverage check runs after every other test of the session."""
    last = [item for item in items if item.path.name == COVERAGE_TEST]
    items[:] = [item for item in items if item.path.name != COVERAGE_TEST] + last
