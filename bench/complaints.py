"""The complaints benchmarks, in one run: CreateComplaint through the full bootstrap on SQLite against
the bare echo server of the same run (goal: at least a quarter of its throughput), and
ListComplaints for one office, a page of 50, over 100,000 complaints (goal: p99 under 20 ms).

The 100,000 complaints are copies of complaints created through the API, spread over the 14 demo
offices and a year of arrival times, inserted in bulk into the service's store: the read path sees
what a year of intake leaves behind. Usage: python -m bench.complaints
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

from bench.harness import (
    free_port,
    machine,
    run_load,
    start_process,
    stop_process,
    wait_for_port,
    write_results,
)
from services.common.credit_code import check_character
from services.common.db import Store, sqlite_url
from services.complaints.domain.intake import new_id
from services.complaints.models import Complaint
from supervision.complaints.v1 import complaints_pb2 as pb
from supervision.complaints.v1 import complaints_pb2_grpc as pb_grpc

OFFICES = [f"MH{n:02d}" for n in range(1, 15)]
ROWS = int(os.environ.get("BENCH_COMPLAINTS", "100000"))


def complaint(n: int) -> pb.Complaint:
    body = f"91310112MA1G{n % 100000:05d}"
    message = pb.Complaint(
        kind=pb.COMPLAINT_KIND_COMPLAINT, channel=pb.CHANNEL_HOTLINE_12315,
        complainant=pb.Complainant(name="欧阳娜娜", phone="13912345678"),
        respondent=pb.Respondent(name=f"七宝鲜丰超市{n}号店", uscc=body + check_character(body),
                                 address="闵行区七宝镇漕宝路100号", street="七宝镇"),
        category="食品安全", description="购买的酸奶已过保质期，要求退货赔偿。", amount_yuan="38.50")
    message.received_at.FromDatetime(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    return message


def seed(store: Store, rows: int) -> None:
    """Copies of the complaints the API created, with new ids, offices and arrival times."""
    with store.read() as session:
        templates = [dict((c.key, getattr(row, c.key)) for c in Complaint.__table__.columns)
                     for row in session.scalars(select(Complaint).limit(50))]
    rng = random.Random(20261128)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=365)
    batch: list[dict] = []
    for n in range(rows):
        received = start + dt.timedelta(seconds=n * 365 * 86400 / rows)
        row = dict(templates[n % len(templates)])
        row.update(id=new_id(received), office_id=rng.choice(OFFICES), received_at=received)
        batch.append(row)
        if len(batch) == 5000:
            with store.transaction() as session:
                session.execute(insert(Complaint), batch)
            batch = []
    if batch:
        with store.transaction() as session:
            session.execute(insert(Complaint), batch)


async def loads(echo_port: int, port: int, seconds: float):
    async def echo(channel, _n):
        await channel.unary_unary("/bench.Echo/Echo")(b"\x0a\x04MH01")

    async def create(channel, n):
        await pb_grpc.ComplaintServiceStub(channel).CreateComplaint(
            pb.CreateComplaintRequest(request_id=f"bench-{time.time_ns()}-{n}", complaint=complaint(n)))

    echo_result = await run_load("bare echo (no interceptors)", f"127.0.0.1:{echo_port}", echo, seconds=seconds)
    create_result = await run_load("CreateComplaint (full bootstrap, SQLite)", f"127.0.0.1:{port}", create,
                                   seconds=seconds)
    return echo_result, create_result


async def list_loads(port: int, seconds: float):
    async def list_page(channel, n):
        await pb_grpc.ComplaintServiceStub(channel).ListComplaints(pb.ListComplaintsRequest(
            page_size=50, filter=f'office_id = "{OFFICES[n % len(OFFICES)]}"'))

    # One caller measures the read itself; eight show what queueing adds on two cores.
    return [await run_load(f"ListComplaints, office filter, page of 50, {ROWS:,} rows, {callers} caller(s)",
                           f"127.0.0.1:{port}", list_page, concurrency=callers, seconds=seconds)
            for callers in (1, 8)]


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "8"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        echo_port, port = free_port(), free_port()
        echo = start_process(["-m", "bench.echo_server", str(echo_port)])
        service = start_process(["-m", "bench.service_server", "complaints", str(port), str(work)])
        try:
            wait_for_port(echo_port, echo)
            wait_for_port(port, service)
            echo_result, create_result = asyncio.run(loads(echo_port, port, seconds))
            store = Store(sqlite_url(str(work), "complaints"))
            started = time.perf_counter()
            seed(store, ROWS)
            seeding = time.perf_counter() - started
            store.dispose()
            list_single, list_busy = asyncio.run(list_loads(port, seconds))
        finally:
            stop_process(echo)
            stop_process(service)
    ratio = create_result.throughput / echo_result.throughput
    lines = [
        "# complaints benchmarks", "",
        f"Command: `python -m bench.complaints` (also run by `make bench`); {time.strftime('%Y-%m-%d %H:%M UTC')}.",
        f"Machine: {machine()}", "",
        "| call | throughput (req/s) | p50 (ms) | p99 (ms) | requests | errors |", "|---|---|---|---|---|---|",
        echo_result.row(), create_result.row(), list_single.row(), list_busy.row(), "",
        f"- CreateComplaint / echo = {ratio:.2f} (goal >= 0.25)",
        f"- ListComplaints p99 = {list_single.p99_ms:.1f} ms over {ROWS:,} complaints, one caller (goal < 20 ms); "
        f"{list_busy.p99_ms:.1f} ms with eight concurrent callers; "
        f"{ROWS:,} rows seeded in {seeding:.1f} s", "",
    ]
    path = write_results("complaints", "\n".join(lines), {"machine": machine(), "echo": echo_result,
                                                          "create": create_result, "list": [list_single, list_busy]})
    print("\n".join(lines))
    print(f"written to {path}")


if __name__ == "__main__":
    main()
