"""RabbitMQ unreachable while writes continue: the outboxes keep the events, and when the broker is back
every event is delivered and every consumer applies each exactly once.

Every service of the district runs as in production (an API process and a nameko worker on its own
PostgreSQL copy of the demo district), all of them talking to RabbitMQ through one TCP proxy. The
test cuts the proxy (open connections dropped, new ones refused), keeps writing through gRPC (requests
built from real records, to every method of every service), then restores it. Compared afterwards:
each source's outbox with each consumer's inbox, per subscription; then every event is published a
second time and no consumer's store may change.
"""

from __future__ import annotations

import time

import pytest

from tests.reliability import stats
from tests.reliability.cluster import amqp_via
from tests.reliability.topology import Topology

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.timeout(300)]

OUTAGE_WRITE_SECONDS = 10.0


def test_events_written_while_the_broker_is_away_are_all_delivered_once(seeded, learned, databases, cluster,
                                                                         broker):
    proxy = cluster.proxy(broker.host, broker.port)
    topology = Topology.start(cluster, databases, seeded, amqp_uri=amqp_via(cluster.amqp_uri, proxy.port))
    topology.learn(learned)
    offices = topology.offices()

    # Working normally first: the relays and workers are connected and deliver.
    topology.sweep(offices[:1], seconds=4)
    topology.wait_delivered()
    outage_started = topology.position()

    proxy.cut()
    codes = topology.sweep(offices[1:3], seconds=OUTAGE_WRITE_SECONDS)
    time.sleep(1.0)
    held = topology.backlog()
    outage_events = topology.all_new_events(since=outage_started)
    during_outage = len(outage_events)
    assert codes.get("OK", 0) > 0, f"no call succeeded while the broker was away: {codes}"
    assert during_outage > 0 and sum(held.values()) > 0, \
        f"the outage produced no held events (events {during_outage}, backlog {held}): nothing was tested"
    assert not cluster.dead(), f"a process died while the broker was away: {cluster.dead()}"

    proxy.restore()
    topology.wait_delivered(timeout=90)
    events = topology.all_new_events()
    expected = topology.expected_deliveries()
    stats.count("fault: broker outage, events written while it was away", during_outage)
    kinds: dict[str, int] = {}
    for event in outage_events:
        kinds[f"{event['source']}.{event['type']}"] = kinds.get(f"{event['source']}.{event['type']}", 0) + 1
    stats.note("broker outage events", ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    stats.count("fault: broker outage, deliveries checked (consumer x event)", sum(len(i) for i in expected.values()))

    # Exactly once: the same events again change no consumer's store.
    fingerprints = topology.consumer_fingerprints()
    topology.redeliver_everything(events)
    assert topology.consumer_fingerprints() == fingerprints, "a repeated event changed a consumer's store"
    assert not topology.missing_deliveries()
    assert not cluster.dead(), cluster.dead()
