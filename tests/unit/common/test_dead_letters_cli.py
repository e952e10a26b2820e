"""The operator's dead-letter command: what it lists, what a replay does, and where it refuses."""

from __future__ import annotations

import io
from pathlib import Path

from services.common import dead_letters
from services.common.consumer import Subscription
from services.common.errors import FailedPrecondition
from services.common.runtime import ServiceRuntime
from supervision.command_center.v1.events_pb2 import OfficeUpdated


def _runtime(store, models, subscriptions, broadcast: bool = False) -> ServiceRuntime:
    return ServiceRuntime(name="inspection", store=store, outbox_model=models.Outbox, inbox_model=models.Inbox,
                          version_model=models.AppliedVersion, migrations_dir=Path("."), grpc_registrations=list,
                          grpc_service_names=[], subscriptions=subscriptions, dead_letter_model=models.DeadLetter,
                          broadcast=broadcast)


def test_it_lists_what_is_parked_and_replays_it_once_the_cause_is_fixed(store, models, make_wire):
    refusing = {"on": True}

    def handler(session, event) -> None:
        if refusing["on"]:
            raise FailedPrecondition("office MH09 is not known yet")
        session.add(models.Effect(event_id=event.id, note=event.message.name))

    runtime = _runtime(store, models, [Subscription("command_center", OfficeUpdated, handler)])
    wire = make_wire()
    runtime.consumer().handle(runtime.subscriptions[0], wire)
    listing = io.StringIO()

    dead_letters.run(runtime, [], False, out=listing)

    assert "inspection: 1 parked event(s)" in listing.getvalue()
    assert wire["id"] in listing.getvalue() and "office MH09 is not known yet" in listing.getvalue()

    assert dead_letters.run(runtime, [], True, out=io.StringIO()) == 1  # refused again: still parked
    assert len(dead_letters.waiting(runtime)) == 1

    refusing["on"] = False
    replayed = io.StringIO()
    assert dead_letters.run(runtime, [], True, out=replayed) == 0
    assert "1 of 1 replayed" in replayed.getvalue()
    assert dead_letters.waiting(runtime) == []
    assert dead_letters.run(runtime, [], True, out=io.StringIO()) == 0  # nothing left to replay


def test_an_unknown_id_is_reported_not_fatal(store, models):
    out = io.StringIO()

    assert dead_letters.run(_runtime(store, models, []), [404], False, out=out) == 1
    assert "#404: no dead letter 404" in out.getvalue()


def test_a_broadcast_consumer_refuses_to_replay(store, models):
    out = io.StringIO()

    assert dead_letters.run(_runtime(store, models, [], broadcast=True), [], True, out=out) == 0
    assert "repairs itself" in out.getvalue()
