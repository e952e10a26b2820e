"""The demo district's loading, interrupted and run again: every service's loader stopped after its
n-th committed write (several points per service, each run resuming the one before), then run to
the end, leaves exactly the rows an uninterrupted load leaves, in every table of every store; and
the loaders' records and refusals (services.common.demo)."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import threading
from collections.abc import Iterator

import grpc
import pytest
from sqlalchemy import event, func, select

from services import monolith
from services.assessment.models import OfficerAssessment, PeriodScore
from services.common import registry
from services.common.clock import Clock
from services.common.demo import NOT_EMPTY, DemoOutcome, demo_load
from services.common.hosting import HostedService
from supervision.command_center.v1 import command_center_pb2 as cc_pb
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
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


# Two districts loaded, one of them six times over in parts: minutes, not seconds.
@pytest.mark.timeout(900)
def test_a_load_interrupted_at_any_point_finishes_the_district_without_duplicates(tmp_path_factory):
    # One stopped instant for both districts: the demo places work relative to now (the day's rapid
    # tests up to the last slot before now), and the two loads run minutes apart.
    clock = Clock(dt.datetime.now(dt.UTC))
    reference = start_empty(tmp_path_factory.mktemp("reference"), clock)
    resumed = start_empty(tmp_path_factory.mktemp("resumed"), clock)
    try:
        writes = load_uninterrupted(reference)
        for service in resumed:
            name = service.runtime.name
            if name in DEMO_SERVICES:
                total = writes[name]
                # Right after the start record, a third and two thirds in, and just before the end
                # (the records and sweeps); each run resumes what the runs before it left.
                done = 0
                for point in sorted({1, total // 3, 2 * total // 3, total - 2} - {0}):
                    with interrupted_after(service.runtime.store, point - done), pytest.raises(Interrupted):
                        service.runtime.seed_demo()
                    done = point
                    # What the interrupted run committed reaches the others, as after a restart.
                    settle(resumed)
                    models = importlib.import_module(f"services.{name}.models")
                    record = demo_load(service.runtime.store, models.DemoLoad)
                    assert record is not None and record.completed_at is None, (name, point)
                outcome = service.runtime.seed_demo()
                assert outcome.loaded and outcome.complete, (name, outcome)
            settle(resumed)
        for before, after in zip(reference, resumed, strict=True):
            if after.runtime.name in DEMO_SERVICES:
                assert table_counts(after) == table_counts(before), after.runtime.name
        # Loaded and recorded complete: a further run leaves every store alone.
        for service in resumed:
            if service.runtime.name in DEMO_SERVICES:
                assert service.runtime.seed_demo() == DemoOutcome(loaded=False, complete=True)
    finally:
        stop([*reference, *resumed])


@pytest.fixture
def empty_district(tmp_path):
    hosted = start_empty(tmp_path)
    yield {service.runtime.name: service for service in hosted}
    stop(hosted)


def test_a_service_without_its_prerequisites_starts_nothing(empty_district):
    for name in ("mobile_enforcement", "complaints", "emergency", "facilities", "assessment"):
        outcome = empty_district[name].runtime.seed_demo()
        assert not outcome.loaded and not outcome.complete and outcome.skipped, name
        assert NOT_EMPTY not in outcome.skipped
        models = importlib.import_module(f"services.{name}.models")
        assert demo_load(empty_district[name].runtime.store, models.DemoLoad) is None, name


def test_an_office_without_officers_is_left_out_not_fatal(empty_district):
    """An office the demo's data does not know, with no officers: every service loads the rest and
    says what it left out of that office (assessment used to stop with "has no officers to assess")."""
    hosted = list(empty_district.values())
    center = empty_district["command_center"]
    assert center.runtime.seed_demo().complete
    with grpc.insecure_channel(f"127.0.0.1:{center.server.port}") as channel:
        cc_grpc.OfficeServiceStub(channel).CreateOffice(cc_pb.CreateOfficeRequest(
            request_id="unstaffed", office=cc_pb.Office(id="PBA1FA0", name="临港市场监督管理所", district="闵行区",
                                                        streets=["临港新片区"])))
    settle(hosted)
    for name in DEMO_SERVICES[1:]:
        outcome = empty_district[name].runtime.seed_demo()
        assert outcome.loaded and outcome.complete, (name, outcome)
        settle(hosted)
        if name in ("mobile_enforcement", "facilities", "assessment"):
            assert any("PBA1FA0" in item for item in outcome.skipped), (name, outcome.skipped)
    with empty_district["assessment"].runtime.store.read() as session:
        # 15 offices (the new one is ranked) in each of the demo's three closed quarters.
        assert session.scalar(select(func.count()).select_from(PeriodScore)) == 15 * 3
        assert session.scalar(select(func.count()).select_from(OfficerAssessment)) == 14 * 8
