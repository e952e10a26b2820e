"""PostgreSQL restarted or connections dropped: every process gets its store back without a restart.

Every service runs as in production (`serve` and `worker`), with DATABASE_URL pointing at a TCP proxy
in front of the machine's PostgreSQL. The test cuts the proxy (every open connection dropped, new
ones refused, as a database restart or a failover does), keeps calling and keeps publishing events
to the workers, then restores it. Without restarting anything: every API process answers its reads
and writes again (pre-pinged pools), its relay publishes the events of new writes, and every worker
applies the events that arrived while the store was away.
"""

from __future__ import annotations

import time
from urllib.parse import urlparse

import grpc
import pytest

from tests.reliability import catalog, stats
from tests.reliability.cluster import Broker, Databases, inbox_ids, publisher, scalar, wait_until, with_port
from tests.reliability.events import renewed, samples
from tests.reliability.processes import Cluster
from tests.reliability.topology import Topology, fault_services, outbox_count, regenerate

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.timeout(300)]

OUTAGE_SECONDS = 6.0
RECOVERY_SECONDS = 20.0


@pytest.fixture(scope="module")
def outage(seeded, learned, postgres_admin_url, amqp_uri, tmp_path_factory):
    """The district with its stores behind one proxy; the outage happens once, for every check."""
    broker = Broker(amqp_uri)
    databases = Databases(postgres_admin_url)
    with broker.vhost() as vhost:
        cluster = Cluster(tmp_path_factory.mktemp("db-outage"), vhost)
        admin = urlparse(postgres_admin_url)
        proxy = cluster.proxy(admin.hostname or "127.0.0.1", admin.port or 5432)
        try:
            copies = {s: databases.create(s, template=seeded[s]) for s in fault_services()}
            through_proxy = {s: with_port(url, "127.0.0.1", proxy.port) for s, url in copies.items()}
            topology = Topology.start(cluster, databases, seeded, amqp_uri=vhost, copies=copies,
                                      database_urls=through_proxy)
            topology.learn(learned)
            writes = {s: topology.find_writes(s, topology.offices()[:3], limit=1) for s in topology.apis}
            readers = {s: [m for m in catalog.spec(s).methods if not m.server_streaming
                           and topology.call(m, m.request_class()).ok] for s in topology.apis}
            pids = {p.pid for p in cluster.processes}

            proxy.cut()
            started = time.monotonic()
            during: dict[str, dict[str, int]] = {}
            slow: list[str] = []
            events: dict[str, list[dict]] = {}
            transport = publisher(vhost)
            for service in topology.workers:
                events[service] = [renewed(e, sub) for sub, e in samples(seeded, databases, service)][:3]
                for event in events[service]:
                    transport.publish(event)
            while time.monotonic() - started < OUTAGE_SECONDS:
                for service in topology.apis:
                    for method in readers[service][:3] + [m for m, _ in writes[service]]:
                        request = next((regenerate(r) for m, r in writes[service] if m is method), None) \
                            or method.request_class()
                        began = time.monotonic()
                        code = topology.call(method, request, timeout=10).code.name
                        if time.monotonic() - began > 5:
                            slow.append(f"{method.path}: {time.monotonic() - began:.1f} s")
                        during.setdefault(service, {}).setdefault(code, 0)
                        during[service][code] += 1
                time.sleep(0.2)
            proxy.restore()
            restored = time.monotonic()
            yield topology, writes, readers, events, during, slow, pids, restored
        finally:
            cluster.close()
            databases.drop_all()


def test_every_api_process_answers_again_without_a_restart(outage):
    topology, writes, readers, _, during, slow, pids, restored = outage

    def all_answer() -> bool:
        return all(topology.call(m, m.request_class(), timeout=5).ok for s in readers for m in readers[s])

    wait_until(all_answer, RECOVERY_SECONDS, "every service's reads to succeed again after the outage")
    recovered = time.monotonic() - restored
    for service, found in writes.items():
        assert found, f"no repeatable write found for {service}"
        method, request = found[0]
        events = outbox_count(topology.urls[service])
        assert topology.call(method, regenerate(request)).ok, f"{service} cannot write after the outage"
        assert outbox_count(topology.urls[service]) > events
    assert {p.pid for p in topology.cluster.processes} == pids and all(p.alive for p in topology.cluster.processes), \
        "a process was restarted or died"
    assert not slow, f"calls hung while the store was away: {slow}"
    stats.count("fault: database connections cut (services x calls during the outage)",
                sum(sum(c.values()) for c in during.values()))
    stats.note("database outage", f"answers during the outage: {during}; all reads back after {recovered:.1f} s")


def test_every_relay_publishes_again_after_the_outage(outage):
    topology, *_ = outage
    wait_until(lambda: not any(topology.backlog().values()), RECOVERY_SECONDS + 30,
               "every outbox to be relayed after the outage")


def test_every_worker_applies_the_events_that_came_while_its_store_was_away(outage):
    topology, _, _, events, *_ = outage
    pending = {(s, e["source"], e["type"], e["id"]) for s, sent in events.items() for e in sent}
    assert pending, "no event was published during the outage"

    def applied() -> bool:
        return all(event_id in inbox_ids(topology.urls[s], source, event_type)
                   for s, source, event_type, event_id in pending)

    wait_until(applied, RECOVERY_SECONDS + 30, "the workers to apply the events that arrived during the outage")
    stats.count("fault: database outage, events delivered to workers while their store was away", len(pending))
    for service, _, _, event_id in pending:
        assert scalar(topology.urls[service], "SELECT count(*) FROM inbox WHERE event_id = %s", (event_id,)) == 1


def test_while_the_store_is_away_the_api_answers_unavailable(outage):
    _, _, _, _, during, *_ = outage
    answered = {code for codes in during.values() for code in codes}
    assert answered <= {grpc.StatusCode.UNAVAILABLE.name, grpc.StatusCode.OK.name}, during
