"""What typed event contracts cost on the event path, beside the form they replaced, in one run.

Write: a transaction that records one InspectionCompleted (two officers, a clock) into a SQLite
outbox through EventWriter.record (the message encoded to its proto3 JSON form), against the same
transaction storing the pre-contract envelope (a dictionary, as the old writer stored it).
Read: what a consumer does with one delivery before its handler runs: Envelope.from_wire plus the
decode into the message (new), or plus reading the pre-contract dictionary into the message
(legacy_events, what an old event in a queue costs now), against Envelope.from_wire alone (the old
consumers read the dictionary's keys as they went). Usage: python -m bench.event_contracts
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bench.harness import machine, write_results
from services.common import contracts
from services.common.consumer import Subscription
from services.common.db import Store, utcnow
from services.common.events import Envelope, EventWriter
from services.mobile_enforcement.models import Base, Outbox
from supervision.common.v1.events_pb2 import StatutoryClock
from supervision.mobile_enforcement.v1.events_pb2 import InspectionCompleted

ROUNDS = int(os.environ.get("BENCH_EVENT_ROUNDS", "3000"))


def message(n: int) -> InspectionCompleted:
    return InspectionCompleted(
        inspection_id=f"I-{n}", version=3, office_id="MH02", entity_id="91310112MA1G000013", kind="ROUTINE",
        outcome="COMPLIANT", completed_at=contracts.timestamp_of(utcnow()),
        publication_due=contracts.date_of(utcnow().date()), officer_ids=["MH02-01", "MH02-02"],
        completed_on=contracts.date_of(utcnow().date()), category="PHARMACY",
        clocks=[StatutoryClock(clock="due_date", due_date=contracts.date_of(utcnow().date()), met=True)])


def old_data(n: int) -> dict:
    """The dictionary the pre-contract publisher wrote for the same inspection."""
    today = utcnow().date().isoformat()
    return {"inspection_id": f"I-{n}", "office_id": "MH02", "entity_id": "91310112MA1G000013", "kind": "ROUTINE",
            "plan_id": "", "outcome": "COMPLIANT", "rectification_due": "", "lead_case_id": "",
            "completed_at": utcnow().isoformat(), "publication_due": today}


def per_call_us(run: Callable[[int], object], rounds: int = ROUNDS) -> dict[str, float]:
    """Microseconds per call: median and p99 of single calls, after a warm-up."""
    for n in range(min(200, rounds)):
        run(n)
    times = []
    for n in range(rounds):
        started = time.perf_counter()
        run(n)
        times.append((time.perf_counter() - started) * 1e6)
    times.sort()
    return {"p50_us": statistics.median(times), "p99_us": times[int(len(times) * 0.99) - 1], "calls": rounds}


def measure(work: Path) -> dict:
    store = Store(f"sqlite:///{work / 'outbox.db'}")
    Base.metadata.create_all(store.engine)
    writer = EventWriter("mobile_enforcement", Outbox)

    def write_typed(n: int) -> None:
        with store.transaction() as session:
            writer.record(session, message(n), aggregate_type="inspection", aggregate_id=f"I-{n}", version=3,
                          office_id="MH02")

    def write_dict(n: int) -> None:
        envelope = Envelope(id=str(uuid.uuid4()), source="mobile_enforcement", type="InspectionCompleted",
                            subject=f"inspection/I-{n}", time=utcnow(), office_id="MH02", aggregate_id=f"I-{n}",
                            aggregate_version=3, data=old_data(n))
        with store.transaction() as session:
            session.add(Outbox(event_id=envelope.id, event_type=envelope.type, envelope=envelope.to_wire(),
                               created_at=envelope.time, attempts=0))

    subscription = Subscription("mobile_enforcement", InspectionCompleted, lambda session, event: None)
    typed_wire = json.loads(json.dumps(Envelope(
        id="e", source="mobile_enforcement", type=contracts.type_name(InspectionCompleted), subject="inspection/I-1",
        time=utcnow(), aggregate_id="I-1", aggregate_version=3, data=contracts.encode(message(1))).to_wire()))
    old_wire = json.loads(json.dumps(Envelope(
        id="e", source="mobile_enforcement", type="InspectionCompleted", subject="inspection/I-1", time=utcnow(),
        aggregate_id="I-1", aggregate_version=3, data=old_data(1)).to_wire()))
    try:
        return {
            "write": {"typed": per_call_us(write_typed), "pre_contract": per_call_us(write_dict)},
            "read": {"typed": per_call_us(lambda n: subscription.decode(Envelope.from_wire(typed_wire))),
                     "pre_contract_upgraded": per_call_us(
                         lambda n: subscription.decode(Envelope.from_wire(old_wire))),
                     "pre_contract_as_it_was": per_call_us(lambda n: Envelope.from_wire(old_wire))},
            "bytes": {"typed": len(json.dumps(typed_wire, ensure_ascii=False).encode()),
                      "pre_contract": len(json.dumps(old_wire, ensure_ascii=False).encode())},
        }
    finally:
        store.dispose()


def markdown(found: dict) -> str:
    write, read, size = found["write"], found["read"], found["bytes"]
    lines = [f"# Event contracts: the cost on the event path ({time.strftime('%Y-%m-%d')})", "",
             f"Machine: {found['machine']['cpu']} ({found['machine']['cpu_count']} cores), Python "
             f"{found['machine']['python']}; {write['typed']['calls']} calls each, single-threaded, one run.", "",
             "| step | typed contract | before (dictionary) | ratio |", "|---|---|---|---|",
             f"| write: transaction recording one InspectionCompleted (p50 / p99 µs) | "
             f"{write['typed']['p50_us']:.0f} / {write['typed']['p99_us']:.0f} | "
             f"{write['pre_contract']['p50_us']:.0f} / {write['pre_contract']['p99_us']:.0f} | "
             f"{write['typed']['p50_us'] / write['pre_contract']['p50_us']:.2f} x |",
             f"| read: envelope and message before the handler (p50 / p99 µs) | "
             f"{read['typed']['p50_us']:.0f} / {read['typed']['p99_us']:.0f} | "
             f"{read['pre_contract_as_it_was']['p50_us']:.0f} / {read['pre_contract_as_it_was']['p99_us']:.0f} | "
             f"{read['typed']['p50_us'] / read['pre_contract_as_it_was']['p50_us']:.2f} x |",
             f"| read: an old-form event upgraded to the message (p50 / p99 µs) | "
             f"{read['pre_contract_upgraded']['p50_us']:.0f} / {read['pre_contract_upgraded']['p99_us']:.0f} | "
             "— | — |",
             f"| envelope size on the wire (bytes) | {size['typed']} | {size['pre_contract']} | "
             f"{size['typed'] / size['pre_contract']:.2f} x |", ""]
    return "\n".join(lines)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        found = measure(Path(tmp)) | {"machine": machine()}
    text = markdown(found)
    path = write_results("event-contracts", text, found)
    print(text)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
