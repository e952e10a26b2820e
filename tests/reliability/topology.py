"""The microservices topology for fault tests: for every service of services.common.registry a copy
of its seeded store, an API process and (when it consumes events) a nameko worker, all talking to
RabbitMQ and PostgreSQL through addresses the test chooses (a proxy it can cut, or the real ones).

Broadcast consumers (the gateway's live model, one per replica, kept in memory) are left to the
gateway's own tests: they have no inbox to compare with the sources' outboxes.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from google.protobuf.message import Message

from tests.reliability import catalog
from tests.reliability.builders import fresh_ids, plausible
from tests.reliability.catalog import Method
from tests.reliability.cluster import (
    Databases,
    Fingerprint,
    inbox_ids,
    publisher,
    query,
    queue_depths,
    scalar,
    unsent,
    wait_until,
)
from tests.reliability.district import Harvest, Outcome, invoke
from tests.reliability.processes import Cluster, Process, indicator_sources
from tests.support import free_port


def fault_services() -> list[str]:
    return [s for s in catalog.service_names() if not catalog.spec(s).broadcast]


def consumers() -> list[str]:
    return [s for s in fault_services() if catalog.spec(s).subscriptions]


@dataclass
class Topology:
    cluster: Cluster
    urls: dict[str, str]
    apis: dict[str, Process] = field(default_factory=dict)
    workers: dict[str, Process] = field(default_factory=dict)
    harvest: Harvest = field(default_factory=Harvest)
    baseline: dict[str, int] = field(default_factory=dict)
    # Sent with every call the topology makes itself (a bureau leader's token under AUTH_MODE=jwt).
    metadata: tuple = ()

    @classmethod
    def start(cls, cluster: Cluster, databases: Databases, templates: dict[str, str], *, amqp_uri: str,
              copies: dict[str, str] | None = None, database_urls: dict[str, str] | None = None,
              services: list[str] | None = None, workers: bool = True, **env: str) -> Topology:
        """`copies`: stores already made (else copies of the templates); `database_urls`: what the
        processes are given instead (e.g. the same stores through a proxy)."""
        services = list(dict.fromkeys(services or list(copies or fault_services())))
        urls = dict(copies) if copies else {s: databases.create(s, template=templates[s]) for s in services}
        topology = cls(cluster, urls)
        if env.get("AUTH_MODE") == "jwt":
            from tests.reliability.district import bearer, token

            topology.metadata = bearer(token(["bureau_leader"], secret=env["JWT_SECRET"]))
        given = database_urls or {}
        if workers:
            for service in services:
                if catalog.spec(service).subscriptions:
                    topology.workers[service] = cluster.worker(service, given.get(service, urls[service]),
                                                               amqp_uri=amqp_uri, wait=False, **env)
        ports = {s: free_port() for s in services}
        for service in services:
            topology.apis[service] = cluster.serve(service, given.get(service, urls[service]), amqp_uri=amqp_uri,
                                                   grpc_port=ports[service], wait=False,
                                                   **{**indicator_sources(ports), **env})
        for process in topology.workers.values():
            process.wait_consuming(cluster.amqp_uri)
        for process in topology.apis.values():
            process.wait_serving()
        topology.mark()
        return topology

    def mark(self) -> dict[str, int]:
        """What the outboxes hold now: later events are the test's."""
        self.baseline = self.position()
        return self.baseline

    def position(self) -> dict[str, int]:
        return {s: scalar(url, "SELECT coalesce(max(id), 0) FROM outbox") for s, url in self.urls.items()}

    def learn(self, known: Harvest | None = None) -> Harvest:
        """What every method answers to an empty request, plus what `known` holds (records of services
        this topology does not run, e.g. the officers who sign for facilities)."""
        if known is not None:
            self.harvest.merge(known)
        for service, api in self.apis.items():
            for method in catalog.spec(service).methods:
                if method.server_streaming:
                    continue
                for message in invoke(api.channel, method, method.request_class(), self.metadata,
                                      timeout=10).messages():
                    self.harvest.absorb(message)
        return self.harvest

    def offices(self) -> list[str]:
        return self.harvest.offices()

    def call(self, method: Method, request, timeout: float = 10.0) -> Outcome:
        return invoke(self.apis[method.service].channel, method, request, self.metadata, timeout=timeout)

    def sweep(self, offices: list[str], seconds: float, services: list[str] | None = None) -> dict[str, int]:
        """Requests built from real records of each office, to every method of every service, for at
        most `seconds`: the writes of a working day (creates, transitions) among its reads."""
        deadline = time.monotonic() + seconds
        codes: dict[str, int] = {}
        for office in offices:
            for service in services or list(self.apis):
                for method in catalog.spec(service).methods:
                    if method.server_streaming:
                        continue
                    for request in plausible(method, self.harvest, office)[1:]:
                        if time.monotonic() > deadline:
                            return codes
                        outcome = self.call(method, request)
                        codes[outcome.code.name] = codes.get(outcome.code.name, 0) + 1
                        for message in outcome.messages():
                            self.harvest.absorb(message)
        return codes

    def find_writes(self, service: str, offices: list[str], limit: int = 12) -> list[tuple[Method, Message]]:
        """Requests built from real records that, sent now, changed the store and wrote an event, and
        that do it again with fresh ids (repeatable writes, e.g. creates)."""
        url = self.urls[service]
        fingerprint = Fingerprint(url)
        found: list[tuple[Method, Message]] = []
        try:
            for office in offices:
                for method in catalog.spec(service).methods:
                    if method.server_streaming or method in {m for m, _ in found}:
                        continue
                    for request in plausible(method, self.harvest, office)[1:]:
                        if self._writes(fingerprint, url, method, request) and \
                                self._writes(fingerprint, url, method, regenerate(request)):
                            found.append((method, request))
                            break
                    if len(found) >= limit:
                        return found
        finally:
            fingerprint.close()
        return found

    def _writes(self, fingerprint: Fingerprint, url: str, method: Method, request: Message) -> bool:
        before, events = fingerprint(), outbox_count(url)
        outcome = self.call(method, request)
        for message in outcome.messages():
            self.harvest.absorb(message)
        return outcome.ok and fingerprint() != before and outbox_count(url) > events

    def restart(self, service: str) -> Process:
        self.apis[service] = self.cluster.restart(self.apis[service])
        return self.apis[service]

    # ---------------------------------------------------------------- events

    def new_events(self, service: str, since: dict[str, int] | None = None) -> list[dict]:
        rows = query(self.urls[service], "SELECT envelope FROM outbox WHERE id > %s ORDER BY id",
                     ((since or self.baseline).get(service, 0),))
        return [r[0] for r in rows]

    def all_new_events(self, since: dict[str, int] | None = None) -> list[dict]:
        return [e for s in self.urls for e in self.new_events(s, since)]

    def backlog(self) -> dict[str, int]:
        return {s: unsent(url) for s, url in self.urls.items()}

    def expected_deliveries(self) -> dict[tuple[str, str, str], set[str]]:
        """(consumer, source, type) -> ids of the test's events the consumer must have applied."""
        expected: dict[tuple[str, str, str], set[str]] = {}
        for consumer in self.workers:
            for source, event_type in catalog.spec(consumer).consumes:
                if source not in self.urls:
                    continue
                ids = {e["id"] for e in self.new_events(source) if e["type"] == event_type}
                expected[(consumer, source, event_type)] = ids
        return expected

    def missing_deliveries(self) -> dict[tuple[str, str, str], int]:
        missing = {}
        for (consumer, source, event_type), ids in self.expected_deliveries().items():
            applied = set(inbox_ids(self.urls[consumer], source, event_type))
            if ids - applied:
                missing[(consumer, source, event_type)] = len(ids - applied)
        return missing

    def wait_delivered(self, timeout: float = 60.0) -> None:
        wait_until(lambda: not any(self.backlog().values()), timeout, "every outbox to be relayed")
        wait_until(lambda: not self.missing_deliveries(), timeout,
                   "every consumer to apply every event of its subscriptions")

    def queues_drained(self) -> bool:
        queues = [q for s in self.workers for q in catalog.worker_queues(s)]
        return all(depth == 0 for depth in queue_depths(self.cluster.amqp_uri, queues).values())

    def consumer_fingerprints(self) -> dict[str, tuple]:
        return {s: Fingerprint(self.urls[s])() for s in self.workers}

    def redeliver_everything(self, events: list[dict]) -> None:
        """Publishes the test's events a second time, as a relay that crashed before marking them sent
        would; the consumers' inboxes must absorb every one."""
        transport = publisher(self.cluster.amqp_uri)
        for envelope in events:
            transport.publish(envelope)
        wait_until(self.queues_drained, 60, "the consumers to take the repeated events")
        time.sleep(1.5)  # the last ones taken may still be in a handler


def outbox_count(url: str) -> int:
    """Events other than IndicatorsChanged (which a refresher adds on its own schedule)."""
    return scalar(url, "SELECT count(*) FROM outbox WHERE event_type <> 'supervision.common.v1.IndicatorsChanged'")


def regenerate(request: Message) -> Message:
    """The same request as a new one: a new request_id, new ids for the resources it carries."""
    fresh = fresh_ids(request)
    if "request_id" in fresh.DESCRIPTOR.fields_by_name:
        fresh.request_id = f"chaos-{uuid.uuid4().hex}"
    return fresh
