"""The spot-check draw's benchmarks, in one run on one machine:

- DrawPlan over 1,000,000 entities and 500 officers at 5% (goal: under 3 s and under 500 MB): the
  whole use case on SQLite (read both directory snapshots, draw, store the plan, its compressed
  snapshots and one scheduled inspection per target), measured in a fresh process so its peak
  resident memory is its own; the pure draw alone, timed and traced with tracemalloc; and
  VerifyPlan, which recomputes the draw from the stored snapshots.
- The inspection write path (RecordFindings: a finding upserted, a trail record hash-chained, the
  inspection's version bumped) through the full gRPC bootstrap on SQLite, against the bare echo
  server of the same run.

Usage: python -m bench.mobile_enforcement_draw   (writes bench/results/<date>-mobile_enforcement.md)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import insert

from bench.harness import (
    LoadResult,
    free_port,
    machine,
    run_load,
    start_process,
    stop_process,
    wait_for_port,
    write_results,
)
from services.common import migrate
from services.common.clock import shanghai_today
from services.common.context import SYSTEM_CALLER
from services.common.credit_code import ALPHABET, check_character
from services.common.db import Store, utcnow
from services.common.working_days import WorkingDayCalendar
from services.mobile_enforcement.domain import draw, vocabulary
from services.mobile_enforcement.domain.checklists import Catalog
from services.mobile_enforcement.domain.directory import Directory
from services.mobile_enforcement.domain.inspections import Inspections, LocationInput, ScheduleInput
from services.mobile_enforcement.domain.rules import RuleBook
from services.mobile_enforcement.domain.spot_checks import PlanInput, SpotChecks, read_entity_snapshot, read_roster
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.models import Conflict, Entity, Officer
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc

ROOT = Path(__file__).resolve().parent.parent
SERVICE = "mobile_enforcement"
ENTITIES = int(os.environ.get("BENCH_ENTITIES", "1000000"))
OFFICERS = 500
RATIO_BASIS_POINTS = 500
# Of every 200 entities: 120 low, 50 medium, 20 high, 9 very high, 1 key supervision object.
TIERS = ["LOW"] * 120 + ["MEDIUM"] * 50 + ["HIGH"] * 20 + ["VERY_HIGH"] * 9 + ["KEY"]
CATEGORIES = list(vocabulary.CATEGORIES)


def workspace(store: Store) -> Workspace:
    return Workspace(store, RuleBook.load(), Catalog.load(), WorkingDayCalendar.load(), shanghai_today, utcnow)


def code(number: int) -> str:
    """A valid credit code for every number below 31^9."""
    digits = []
    for _ in range(9):
        number, digit = divmod(number, 31)
        digits.append(ALPHABET[digit])
    first_17 = "91310112" + "".join(reversed(digits))
    return first_17 + check_character(first_17)


def populate(url: str, entities: int) -> None:
    """One office, 500 certified officers (five with a declared conflict), `entities` businesses."""
    store = Store(url)
    migrate.upgrade(SERVICE, ROOT / "services" / SERVICE / "migrations", store.url)
    work = workspace(store)
    now = utcnow()
    with store.transaction() as session:
        Directory(work).apply_office(session, "MH01", name="莘庄市场监督管理所", district="闵行区", streets=["莘庄镇"])
        session.execute(insert(Officer), [
            {"id": f"MH01-{n:03d}", "name": f"执法员{n}", "office_id": "MH01", "group": "SUPERVISION",
             "certificate_no": f"SH{n:04d}", "certificate_expires": dt.date(2030, 12, 31)} for n in range(OFFICERS)])
    for start in range(0, entities, 50_000):
        with store.transaction() as session:
            session.execute(insert(Entity), [
                {"uscc": code(n), "name": f"企业{n}", "category": CATEGORIES[n % len(CATEGORIES)],
                 "address": f"莘庄镇{n % 900}号", "street": "莘庄镇", "office_id": "MH01",
                 "risk_level": "LOW" if TIERS[n % 200] == "KEY" else TIERS[n % 200],
                 "key_supervision": TIERS[n % 200] == "KEY", "created_at": now, "updated_at": now, "version": 1}
                for n in range(start, min(start + 50_000, entities))])
    with store.transaction() as session:
        session.execute(insert(Conflict), [
            {"officer_id": f"MH01-{n:03d}", "entity_id": code(n * 199), "reason": "近亲属", "declared_by": "bench",
             "created_at": now} for n in range(5)])
    store.dispose()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def measure(url: str) -> dict:
    """Runs in a fresh process: DrawPlan, VerifyPlan, then the pure draw on its own."""
    store = Store(url)
    spot_checks = SpotChecks(workspace(store))
    baseline = peak_rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    plan = spot_checks.draw_plan(SYSTEM_CALLER, "", PlanInput(
        office_id="MH01", name="基准抽查", categories=[], ratio_basis_points=RATIO_BASIS_POINTS, tier_ratios=[],
        inspectors_per_target=0, seed="bench-2026", due_date=None)).plan
    draw_seconds = time.perf_counter() - started
    # CPU time too: on a machine shared with other work, the wall time says more about the neighbours.
    draw_cpu_seconds = time.process_time() - cpu_started
    draw_peak = peak_rss_mb()
    started = time.perf_counter()
    verification = spot_checks.verify(SYSTEM_CALLER, plan.id)
    verify_seconds = time.perf_counter() - started
    with store.read() as session:
        started = time.perf_counter()
        entities = read_entity_snapshot(session, "MH01", [])
        roster = read_roster(session, "MH01", shanghai_today())
        read_seconds = time.perf_counter() - started
    ratios = dict.fromkeys(draw.GROUPS[1:], RATIO_BASIS_POINTS)
    started = time.perf_counter()
    draw.draw(plan.seed, entities, roster, ratios, 2, plan.rounding, RATIO_BASIS_POINTS)
    pure_seconds = time.perf_counter() - started
    tracemalloc.start()
    draw.draw(plan.seed, entities, roster, ratios, 2, plan.rounding, RATIO_BASIS_POINTS)
    pure_traced_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    store.dispose()
    return {"population": plan.population_count, "targets": plan.target_count,
            "key_objects": plan.key_object_count, "inspectors": plan.eligible_inspector_count,
            "draw_plan_seconds": draw_seconds, "draw_plan_cpu_seconds": draw_cpu_seconds,
            "baseline_rss_mb": baseline, "draw_plan_peak_rss_mb": draw_peak,
            "verify_seconds": verify_seconds, "verified": verification.matches,
            "snapshot_read_seconds": read_seconds, "pure_draw_seconds": pure_seconds,
            "pure_draw_traced_peak_mb": pure_traced_peak}


# ---------------------------------------------------------------- inspection write path


def prepare_inspections(data_dir: Path | None, count: int, url: str = "") -> list[str]:
    """In progress inspections, ready for findings: in the store at `url` when given (PostgreSQL),
    else in the service's own SQLite file under `data_dir`."""
    store = Store(url or f"sqlite:///{data_dir / (SERVICE + '.db')}")
    migrate.upgrade(SERVICE, ROOT / "services" / SERVICE / "migrations", store.url)
    work = workspace(store)
    now = utcnow()
    with store.transaction() as session:
        Directory(work).apply_office(session, "MH01", name="莘庄所", district="闵行区", streets=["莘庄镇"])
        session.execute(insert(Officer), [
            {"id": f"MH01-{n:03d}", "name": "执法员", "office_id": "MH01", "group": "SUPERVISION",
             "certificate_no": f"SH{n:04d}", "certificate_expires": dt.date(2030, 12, 31)} for n in range(2)])
        session.execute(insert(Entity), [
            {"uscc": code(n), "name": f"餐馆{n}", "category": "CATERING", "address": "x", "street": "莘庄镇",
             "office_id": "MH01", "risk_level": "LOW", "key_supervision": False, "created_at": now,
             "updated_at": now, "version": 1} for n in range(count)])
    inspections = Inspections(work)
    ids = []
    for n in range(count):
        view = inspections.schedule(SYSTEM_CALLER, "", ScheduleInput(code(n), "ROUTINE", "", None))
        inspections.start(SYSTEM_CALLER, view.inspection.id, ["MH01-000", "MH01-001"], LocationInput(31.1, 121.4, ""))
        ids.append(view.inspection.id)
    store.dispose()
    return ids


async def write_loads(echo_port: int, service_port: int, inspection_ids: list[str], seconds: float) -> list[LoadResult]:
    items = [f"CAT-{n:02d}" for n in range(1, 13)]

    async def echo(channel, _n):
        await channel.unary_unary("/bench.Echo/Echo")(b"\x0a\x04MH01")

    async def record(channel, n):
        await pb_grpc.InspectionServiceStub(channel).RecordFindings(pb.RecordFindingsRequest(
            id=inspection_ids[n % len(inspection_ids)], findings=[pb.Finding(
                item_code=items[n % len(items)], result=pb.ITEM_RESULT_FAIL, note="现场发现问题",
                evidence_refs=[f"evidence/{n}.jpg"])]))

    return [await run_load("bare echo (no interceptors)", f"127.0.0.1:{echo_port}", echo, seconds=seconds),
            await run_load("RecordFindings (commit + hash-chained trail, SQLite)", f"127.0.0.1:{service_port}",
                           record, seconds=seconds)]


def write_path(work: Path, seconds: float) -> list[LoadResult]:
    data_dir = work / "service"
    data_dir.mkdir()
    ids = prepare_inspections(data_dir, 64)
    echo_port, service_port = free_port(), free_port()
    echo = start_process(["-m", "bench.echo_server", str(echo_port)])
    service = start_process(["-m", "bench.service_server", SERVICE, str(service_port), str(data_dir)])
    try:
        wait_for_port(echo_port, echo)
        wait_for_port(service_port, service)
        return asyncio.run(write_loads(echo_port, service_port, ids, seconds))
    finally:
        stop_process(echo)
        stop_process(service)


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "8"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'draw.db'}"
        started = time.perf_counter()
        populate(url, ENTITIES)
        populate_seconds = time.perf_counter() - started
        child = subprocess.run([sys.executable, "-m", "bench.mobile_enforcement_draw", "--measure", url], cwd=ROOT,
                               capture_output=True, text=True, check=True)
        drawn = json.loads(child.stdout.strip().splitlines()[-1])
        loads = write_path(work, seconds)
    echo, record = loads
    lines = [
        "# mobile_enforcement benchmarks", "",
        f"Command: `python -m bench.mobile_enforcement_draw`; {time.strftime('%Y-%m-%d %H:%M UTC')}.",
        f"Machine: {machine()}", "",
        f"## DrawPlan: {drawn['population']:,} entities, {OFFICERS} officers, 5% of the plan, SQLite", "",
        f"Directory loaded in {populate_seconds:.0f} s (not measured). {drawn['targets']:,} targets drawn "
        f"({drawn['key_objects']:,} key supervision objects drawn whole), {drawn['inspectors']} eligible inspectors, "
        "2 per target, 5 declared conflicts.", "",
        "| step | time (s) | memory | goal |", "|---|---|---|---|",
        f"| DrawPlan use case (read snapshots, draw, store plan + snapshots + {drawn['targets']:,} inspections) | "
        f"{drawn['draw_plan_seconds']:.2f} | peak RSS {drawn['draw_plan_peak_rss_mb']:.0f} MB "
        f"(process before the draw: {drawn['baseline_rss_mb']:.0f} MB) | < 3 s, < 500 MB |",
        f"| of which: reading both snapshots | {drawn['snapshot_read_seconds']:.2f} | | |",
        f"| pure draw (in memory) | {drawn['pure_draw_seconds']:.2f} | tracemalloc peak "
        f"{drawn['pure_draw_traced_peak_mb']:.1f} MB | |",
        f"| VerifyPlan (decompress, check digests, redraw, compare) | {drawn['verify_seconds']:.2f} | | "
        f"matches: {drawn['verified']} |", "",
        "## Inspection write path, concurrent grpc.aio client (32 callers), servers in their own processes", "",
        "| call | throughput (req/s) | p50 (ms) | p99 (ms) | requests | errors |", "|---|---|---|---|---|---|",
        *[r.row() for r in loads], "",
        f"- RecordFindings / echo = {record.throughput / echo.throughput:.2f}", "",
    ]
    path = write_results(SERVICE, "\n".join(lines), {"machine": machine(), "draw": drawn, "write_path": loads,
                                                    "populate_seconds": populate_seconds})
    print("\n".join(lines))
    print(f"written to {path}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        print(json.dumps(measure(sys.argv[2])))
    else:
        main()
