"""services.common.demo: when a demo loader runs, what it records, and what it answers."""

from __future__ import annotations

import pytest
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import Store
from services.common.demo import (
    NOT_EMPTY,
    DemoLoadMixin,
    DemoOutcome,
    demo_load,
    record_completion,
    run_demo,
)


class Base(DeclarativeBase):
    pass


class DemoLoad(DemoLoadMixin, Base):
    pass


class Thing(Base):
    __tablename__ = "things"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'demo.db'}")
    Base.metadata.create_all(store.engine)
    yield store
    store.dispose()


def is_empty(session) -> bool:
    return session.scalar(select(Thing.name).limit(1)) is None


def loader(store: Store, names: list[str], *, fail_after: int | None = None, skip: str = ""):
    """Adds the named things one transaction each, skipping those already there; raises after
    `fail_after` of them, as an interrupted process would stop."""

    def load(skipped: list[str]) -> None:
        for number, name in enumerate(names):
            if fail_after is not None and number == fail_after:
                raise RuntimeError("interrupted")
            with store.transaction() as session:
                if session.get(Thing, name) is None:
                    session.add(Thing(name=name))
        if skip:
            skipped.append(skip)

    return load


def things(store: Store) -> list[str]:
    with store.read() as session:
        return list(session.scalars(select(Thing.name).order_by(Thing.name)))


def test_an_empty_store_is_loaded_and_recorded_complete(store):
    outcome = run_demo(store, DemoLoad, is_empty=is_empty, load=loader(store, ["a", "b"], skip="c: unknown"))
    assert outcome == DemoOutcome(loaded=True, complete=True, skipped=("c: unknown",))
    record = demo_load(store, DemoLoad)
    assert record.started_at <= record.completed_at and things(store) == ["a", "b"]
    # Complete: never again, and nothing is written.
    assert run_demo(store, DemoLoad, is_empty=is_empty, load=loader(store, ["z"])) == DemoOutcome(False, True)
    assert things(store) == ["a", "b"]


def test_an_interrupted_load_is_finished_by_the_next_run(store):
    with pytest.raises(RuntimeError):
        run_demo(store, DemoLoad, is_empty=is_empty, load=loader(store, ["a", "b", "c"], fail_after=1))
    started = demo_load(store, DemoLoad)
    assert started.completed_at is None and things(store) == ["a"]
    outcome = run_demo(store, DemoLoad, is_empty=is_empty, load=loader(store, ["a", "b", "c"]))
    assert outcome == DemoOutcome(loaded=True, complete=True)
    assert things(store) == ["a", "b", "c"]
    assert demo_load(store, DemoLoad).started_at == started.started_at  # the first start is kept


def test_a_store_with_other_data_is_left_alone(store):
    with store.transaction() as session:
        session.add(Thing(name="real"))
    outcome = run_demo(store, DemoLoad, is_empty=is_empty, load=loader(store, ["a"]))
    assert outcome == DemoOutcome(loaded=False, complete=False, skipped=(NOT_EMPTY,))
    assert things(store) == ["real"] and demo_load(store, DemoLoad) is None


def test_missing_prerequisites_start_nothing(store):
    outcome = run_demo(store, DemoLoad, is_empty=is_empty, load=loader(store, ["a"]),
                       missing_prerequisite=lambda session: "no offices yet")
    assert outcome == DemoOutcome(loaded=False, complete=False, skipped=("no offices yet",))
    assert things(store) == [] and demo_load(store, DemoLoad) is None


def test_completing_a_load_that_never_started_is_refused(store):
    with pytest.raises(ValueError, match="without having been started"):
        record_completion(store, DemoLoad)
    assert demo_load(store, DemoLoad) is None
