"""The operator's view of a service's dead letters: list them, replay one or all.

`python -m services.<service> dead-letters` lists the deliveries the service parked (with
DATABASE_URL, or the monolith's SQLite file under DATA_DIR); `--replay ID` or `--replay-all`
delivers them again to the same subscription, e.g. after an upgrade that knows their type or a fix
of the data a refusal named. A replayed event goes through the inbox and version checks like any
delivery, so replaying twice applies it once.
"""

from __future__ import annotations

import sys
from typing import TextIO

from sqlalchemy import select

from services.common.events import DeadLetterMixin
from services.common.runtime import ServiceRuntime


def waiting(runtime: ServiceRuntime) -> list[DeadLetterMixin]:
    """The parked deliveries not yet replayed, oldest first."""
    model = runtime.dead_letter_model
    if model is None:  # a service that consumes no events parks none
        return []
    with runtime.store.read() as session:
        return list(session.scalars(select(model).where(model.replayed_at.is_(None)).order_by(model.id)))


def run(runtime: ServiceRuntime, replay_ids: list[int], replay_all: bool, out: TextIO = sys.stdout) -> int:
    """Lists the waiting dead letters, or replays the named ones. Returns the exit status: 1 when a
    named one does not exist or was parked again, else 0."""
    consumer = runtime.consumer()
    if not replay_ids and not replay_all:
        rows = waiting(runtime)
        print(f"{runtime.name}: {len(rows)} parked event(s)", file=out)
        for row in rows:
            print(f"  #{row.id}  {row.parked_at:%Y-%m-%d %H:%M:%S}Z  {row.reason:<12} {row.subscription}  "
                  f"event {row.event_id} ({row.event_type or '?'}): {row.error}", file=out)
        return 0
    if runtime.broadcast:
        print(f"{runtime.name}: its live model is each replica's own memory and repairs itself from the sources "
              "(reconcile); its dead letters are for reading, not replaying", file=out)
        return 0
    ids = [row.id for row in waiting(runtime)] if replay_all else replay_ids
    applied = 0
    for dead_letter_id in ids:
        try:
            outcome = consumer.replay(runtime.subscriptions, dead_letter_id)
        except LookupError as exc:
            print(f"  #{dead_letter_id}: {exc}", file=out)
            continue
        print(f"  #{dead_letter_id}: {outcome}", file=out)
        applied += outcome != "rejected"
    print(f"{runtime.name}: {applied} of {len(ids)} replayed", file=out)
    return 0 if applied == len(ids) else 1
