"""Two replicas of a service on one store: two API processes relaying the same outbox (and refreshing
the same indicators), and two workers of each consumer taking turns on the same queues.

Writes go to both API replicas at once. Every event must reach the broker exactly once (a queue of
the test's own, bound to each source's exchange, sees each event id once); IndicatorsChanged never
carries the same version of an office twice; every consumer's inbox holds exactly the events of its
subscriptions; publishing every event again changes no consumer's store.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.reliability import catalog, stats
from tests.reliability.cluster import Capture, query
from tests.reliability.district import invoke
from tests.reliability.topology import Topology, consumers, fault_services, regenerate

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.timeout(300)]

WRITES = 16


def _consumers_of(service: str) -> list[str]:
    return sorted({c for c in consumers() for source, _ in catalog.spec(c).consumes if source == service})


@pytest.mark.parametrize("service", fault_services())
def test_two_replicas_publish_each_event_once_and_consumers_apply_it_once(service, seeded, learned, databases,
                                                                           cluster):
    """Two API replicas of `service` on one store, and two worker replicas of each service consuming its
    events (PostgreSQL allows 100 connections: one service's replicas at a time)."""
    readers = _consumers_of(service)
    topology = Topology.start(cluster, databases, seeded, amqp_uri=cluster.amqp_uri,
                              services=list(dict.fromkeys([service, *readers])), workers=False)
    for consumer in readers:
        topology.workers[consumer] = cluster.worker(consumer, topology.urls[consumer], wait=False)
        extra = cluster.worker(consumer, topology.urls[consumer], wait=False)
        for process in (topology.workers[consumer], extra):
            process.wait_consuming(cluster.amqp_uri)
    second = cluster.serve(service, topology.urls[service])
    topology.learn(learned)
    writes = topology.find_writes(service, topology.offices()[:3], limit=3)
    assert writes, f"no repeatable write with an event found for {service}"
    topology.wait_delivered()

    capture = Capture(cluster.amqp_uri, service)
    try:
        start = topology.position()
        replicas = itertools.cycle([topology.apis[service], second])
        requests = itertools.cycle(writes)
        jobs = [(next(replicas), *next(requests)) for _ in range(WRITES)]
        with ThreadPoolExecutor(6) as pool:
            outcomes = list(pool.map(lambda job: invoke(job[0].channel, job[1], regenerate(job[2]), timeout=30),
                                     jobs))
        assert sum(o.ok for o in outcomes) >= len(jobs) // 2, Counter(o.code.name for o in outcomes)
        topology.wait_delivered(timeout=90)
        time.sleep(0.5)
        published = Counter(e["id"] for e in capture.drain())
    finally:
        capture.close()

    written = {e["id"] for e in topology.new_events(service, since=start)}
    twice = [i for i, n in published.items() if n > 1]
    repeated_versions = query(topology.urls[service],
                              "SELECT envelope->>'subject', envelope->>'aggregate_version', count(*) FROM outbox "
                              "WHERE event_type = 'supervision.common.v1.IndicatorsChanged' AND id > %s "
                              "GROUP BY 1, 2 HAVING count(*) > 1",
                              (start[service],))
    stats.count("fault: two API replicas (+ two workers per consumer), writes", len(jobs))
    stats.count("fault: two replicas, events checked for single publication", len(written))
    assert not twice, f"{len(twice)} event(s) published more than once"
    assert not written - set(published), f"{len(written - set(published))} event(s) never published"
    assert not repeated_versions, f"IndicatorsChanged versions published twice: {repeated_versions[:3]}"

    events = topology.new_events(service, since=start)
    fingerprints = topology.consumer_fingerprints()
    topology.redeliver_everything(events)
    assert topology.consumer_fingerprints() == fingerprints, "a repeated event changed a consumer's store"
    assert not cluster.dead(), cluster.dead()
