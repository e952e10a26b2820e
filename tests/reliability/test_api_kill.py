"""An API process killed (SIGKILL) in the middle of a write: the change and its event are both there,
or neither is; and an event committed but not yet relayed when the process died is published by the
next one.

Every service runs its `serve` on a copy of its seeded store (RabbitMQ through a proxy the test can
cut). For each service the test finds a repeatable write (requests built from real records that change
the store and write an event, again with fresh ids) and then:

A. holds a SHARE lock on the outbox, sends the write, waits until its transaction waits for the lock
   (the change written, not committed), SIGKILLs the process: neither the change nor an event remain;
B. the same with a table the write changes locked instead;
C. cuts the broker, sends the write (committed: change and event both there, the event unsent),
   SIGKILLs the process, restores the broker, starts a new process: the event is published.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.reliability import stats
from tests.reliability.cluster import (
    Broker,
    Capture,
    Databases,
    Fingerprint,
    amqp_via,
    plain_url,
    query,
    scalar,
    wait_until,
)
from tests.reliability.district import invoke
from tests.reliability.processes import Cluster
from tests.reliability.topology import Topology, fault_services, outbox_count, regenerate

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.timeout(180)]

SERVICES = fault_services()


@pytest.fixture(scope="module")
def api_topology(seeded, learned, postgres_admin_url, amqp_uri, tmp_path_factory):
    broker = Broker(amqp_uri)
    databases = Databases(postgres_admin_url)
    with broker.vhost() as vhost:
        cluster = Cluster(tmp_path_factory.mktemp("api-kill"), vhost)
        proxy = cluster.proxy(broker.host, broker.port)
        try:
            topology = Topology.start(cluster, databases, seeded, amqp_uri=amqp_via(vhost, proxy.port),
                                      workers=False)
            topology.learn(learned)
            yield topology, proxy
        finally:
            cluster.close()
            databases.drop_all()


def _other_sessions(url: str) -> int:
    return scalar(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND state <> 'idle'")


def _waiting_on(url: str, table: str) -> int:
    return scalar(url, "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                       "WHERE c.relname = %s AND NOT l.granted", (table,))


def _kill_while_waiting_on(topology: Topology, service: str, table: str, method, request) -> None:
    url = plain_url(topology.urls[service])
    api = topology.apis[service]
    call = api.channel.unary_unary(method.path, request_serializer=method.request_class.SerializeToString,
                                   response_deserializer=method.response_class.FromString)
    with psycopg.connect(url) as locker:
        locker.execute(f'LOCK TABLE "{table}" IN SHARE MODE')
        future = call.future(request, metadata=topology.metadata, timeout=30)
        wait_until(lambda: _waiting_on(url, table), 20, f"{service}'s write to wait for the lock on {table}")
        api.kill()
        locker.rollback()
    future.cancel()
    # The killed process's session finds its client gone once it gets the lock, and rolls back.
    wait_until(lambda: _other_sessions(url) == 0, 20, "the killed process's transaction to end")


@pytest.mark.parametrize("service", SERVICES)
def test_an_api_process_killed_mid_write_leaves_the_change_and_its_event_both_or_neither(service, api_topology):
    topology, proxy = api_topology
    writes = topology.find_writes(service, topology.offices()[:3], limit=2)
    assert writes, f"no repeatable write with an event found for {service} among requests built from its records"
    method, request = writes[0]
    url = topology.urls[service]
    fingerprint = Fingerprint(url)
    try:
        # Which tables does one such write change (besides the outbox and the idempotency keys)?
        before = fingerprint()
        assert invoke(topology.apis[service].channel, method, regenerate(request), topology.metadata).ok
        touched = [line.split(":")[0] for line in fingerprint.diff(before, fingerprint())]
        domain = [t for t in touched if t not in ("outbox", "request_keys")] or touched

        for table in ("outbox", domain[0]):
            before, events = fingerprint(), outbox_count(url)
            _kill_while_waiting_on(topology, service, table, method, regenerate(request))
            assert fingerprint() == before and outbox_count(url) == events, \
                f"killed while waiting on {table}, {service} kept part of a write: " + \
                "; ".join(fingerprint.diff(before, fingerprint()))
            topology.restart(service)
            stats.count("fault: API SIGKILL mid-write (transaction in flight)", 1)

        # C: committed, not relayed, then killed: the next process publishes it.
        capture = Capture(topology.cluster.amqp_uri, service)
        try:
            proxy.cut()
            before, events = fingerprint(), outbox_count(url)
            last = scalar(url, "SELECT coalesce(max(id), 0) FROM outbox")
            assert invoke(topology.apis[service].channel, method, regenerate(request), topology.metadata).ok
            assert fingerprint() != before and outbox_count(url) > events, "the write left no change or no event"
            written = [r[0] for r in query(url, "SELECT event_id FROM outbox WHERE id > %s AND sent_at IS NULL "
                                                "AND event_type <> 'supervision.common.v1.IndicatorsChanged'", (last,))]
            assert written, "the event went out although the broker was cut"
            topology.apis[service].kill()
            proxy.restore()
            topology.restart(service)
            wait_until(lambda: not scalar(url, "SELECT count(*) FROM outbox WHERE event_id = ANY(%s) "
                                               "AND sent_at IS NULL", (written,)), 60,
                       "the new process to publish what the killed one committed")
            received: set[str] = set()
            wait_until(lambda: received.update(e["id"] for e in capture.drain()) or set(written) <= received, 20,
                       "the events on the broker")
        finally:
            proxy.restore()
            capture.close()
        stats.count("fault: API SIGKILL after commit, before relay", 1)
        stats.note("API kill", f"{service}: {method.name}, tables {', '.join(['outbox', domain[0]])}")
        assert topology.apis[service].healthy()
    finally:
        fingerprint.close()
