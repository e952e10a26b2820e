"""The demo district loaded in one process with every service and no demo data yet, and the means
to stop its loaders half-way and compare stores: shared by the tests of the demo's loading."""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator

from sqlalchemy import event, func, select

from services import monolith
from services.common import registry
from services.common.clock import Clock
from services.common.hosting import HostedService
from tests.conftest import make_settings

# Every service with demo data, in the order `make run` loads them (each builds on the events of
# the ones before it).
DEMO_SERVICES = [name for name in registry.names() if name != "gateway"]


class Interrupted(Exception):
    """The stand-in for a process stopped half-way (SIGTERM, power cut) in the tests."""


@contextlib.contextmanager
def interrupted_after(store, writes: int) -> Iterator[list[int]]:
    """Raises Interrupted right after the loader's `writes`-th writing transaction committed: its
    rows stay, and nothing after them happens. Counts only this thread's transactions (the relay's
    are not the loader's) that wrote something (a replayed request writes nothing). Yields a
    one-item list holding the count of writing transactions seen."""
    original = store.transaction
    loader = threading.get_ident()
    seen = [0]

    @contextlib.contextmanager
    def transaction():
        wrote = []
        with original() as session:
            event.listen(session, "after_flush", lambda *args: wrote.append(True))
            event.listen(session, "do_orm_execute",
                         lambda state: wrote.append(True) if state.is_update or state.is_delete else None)
            yield session
        if threading.get_ident() == loader and wrote:
            seen[0] += 1
            if seen[0] == writes:
                raise Interrupted(f"stopped after write {writes}")

    store.transaction = transaction
    try:
        yield seen
    finally:
        del store.transaction


def settle(hosted: list[HostedService]) -> None:
    for service in hosted:
        service.settle()


# How often a service republishes its indicators depends on when its background refresher runs
# (timing, not the demo's steps): those events, and the history assessment keeps of them, are left
# out of the comparison; the demo's own history rows (version 0) are kept.
REFRESH_EVENT = "IndicatorsChanged"


def table_counts(service: HostedService) -> dict[str, int]:
    """Rows per table of a service's store (every table its models declare), events per type."""
    models = importlib.import_module(f"services.{service.runtime.name}.models")
    counts: dict[str, int] = {}
    with service.runtime.store.read() as session:
        for table in models.Base.metadata.sorted_tables:
            if table.name in ("outbox", "inbox"):
                for event_type, count in session.execute(select(table.c.event_type, func.count())
                                                         .group_by(table.c.event_type)):
                    if not event_type.endswith(REFRESH_EVENT):
                        counts[f"{table.name}:{event_type}"] = count
            elif table.name == "indicator_history":
                counts[table.name] = session.scalar(select(func.count()).select_from(table)
                                                    .where(table.c.version == 0))
            elif table.name != "leases":
                counts[table.name] = session.scalar(select(func.count()).select_from(table))
    return counts


def start_empty(data_dir, clock: Clock | None = None) -> list[HostedService]:
    return monolith.start(make_settings(DATA_DIR=str(data_dir)), host="127.0.0.1",
                          ports=dict.fromkeys(registry.names(), 0), seed_demo=False, clock=clock)


def stop(hosted: list[HostedService]) -> None:
    for service in hosted:
        service.stop(0.5)
        service.runtime.store.dispose()


def load_uninterrupted(hosted: list[HostedService]) -> dict[str, int]:
    """Each service's loader once, in order; returns how many writing transactions each one took."""
    writes = {}
    for service in hosted:
        if service.runtime.name in DEMO_SERVICES:
            with interrupted_after(service.runtime.store, -1) as seen:
                outcome = service.runtime.seed_demo()
            assert outcome.loaded and outcome.complete, (service.runtime.name, outcome)
            writes[service.runtime.name] = seen[0]
        settle(hosted)
    return writes
