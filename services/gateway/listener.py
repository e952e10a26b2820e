"""The API process's own subscription to the events of its live model (microservices mode).

Why the API process and not the gateway's nameko worker: the process that serves HTTP and gRPC
holds the live model, so it must see every event itself; a nameko worker runs eventlet-patched,
and gRPC must never run in a patched process. So each API process declares its own exclusive,
auto-delete queue bound to every source's "<source>.events" exchange (nameko's convention: topic
exchange, routing key = event type) and consumes it with kombu in a plain thread: a broadcast
subscription, as nameko's BROADCAST handler type would make it, so every replica gets every event
and keeps its own model.

An event that cannot be applied (malformed, of a type the model does not know, undecodable) is
counted, logged with its id and parked in the gateway store's dead-letter table, like every
consumer's.

Such a queue lives as long as its connection: events published while the listener reconnects are
not in the new queue. After every reconnect the listener therefore asks for a reconcile, which
repairs the model from the sources' own answers. Handlers are applied without the store's inbox
(a replica's model is its own); the live model's version checks and a short memory of event ids
make a redelivery harmless.

The exchanges and the queue are named in the broker namespace (EVENT_NAMESPACE), like the workers'.
The listener reports its drain loop and its connection to the process's worker health, which the
metrics port serves as /livez and /readyz.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable

from kombu import Connection, Exchange, Queue, binding

from services.common import contracts, worker_health
from services.common.amqp import configured_namespace, event_exchange, namespaced
from services.common.consumer import MALFORMED, REFUSED, Consumer, Subscription
from services.common.errors import DomainError
from services.common.events import Envelope, MalformedEvent
from services.common.metrics import EVENTS_CONSUMED

log = logging.getLogger(__name__)

REMEMBERED_IDS = 10_000
# What the AMQP transport raises when the broker goes away or refuses a declaration.
_BROKER_ERRORS = tuple(Connection("amqp://").connection_errors) + tuple(Connection("amqp://").channel_errors)
MAX_BACKOFF_SECONDS = 10.0
# The loop whose beats the process's /livez watches.
LISTENER_LOOP = "consumer"


class EventListener:
    def __init__(self, amqp_uri: str, subscriptions: list[Subscription], on_reconnect: Callable[[], None],
                 consumer: Consumer, service: str = "gateway", event_namespace: str | None = None):
        self.amqp_uri = amqp_uri
        # None: EVENT_NAMESPACE of the environment, as the process's workers and relay read it.
        self.namespace = configured_namespace() if event_namespace is None else event_namespace
        self.service = service
        # Used for its dead-letter table only: the live model is applied without the inbox.
        self.consumer = consumer
        self.on_reconnect = on_reconnect
        self._routes = {(s.source, s.event_type): s for s in subscriptions}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self.ready = threading.Event()  # consuming: events published from now on reach the model
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.queue_name = namespaced(f"{service}-live-{uuid.uuid4().hex[:12]}", self.namespace)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gateway-events", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _queue(self) -> Queue:
        bindings = [binding(self._exchange(source), routing_key=event_type) for source, event_type in self._routes]
        return Queue(self.queue_name, bindings=bindings, exclusive=True, auto_delete=True, durable=False)

    def _exchange(self, source: str) -> Exchange:
        exchange = event_exchange(source, self.namespace)
        # Declared as the publisher declares it: a second declaration with other flags is refused.
        return Exchange(exchange.name, type=exchange.type, durable=exchange.durable)

    def _run(self) -> None:
        failures = 0
        connected_before = False
        while not self._stop.is_set():
            try:
                with Connection(self.amqp_uri, heartbeat=20, connect_timeout=5) as connection:
                    connection.ensure_connection(max_retries=1)
                    with connection.Consumer(self._queue(), callbacks=[self._on_message], accept=["json"],
                                             prefetch_count=200):
                        if connected_before:
                            log.info("event stream resumed: reconciling what it may have missed")
                            self.on_reconnect()
                        connected_before = True
                        failures = 0
                        self.ready.set()
                        worker_health.mark_connected(LISTENER_LOOP)
                        while not self._stop.is_set():
                            try:
                                connection.drain_events(timeout=1.0)
                            except TimeoutError:
                                connection.heartbeat_check()
                            worker_health.beat(LISTENER_LOOP)
            except (OSError, *_BROKER_ERRORS) as exc:
                worker_health.mark_disconnected(LISTENER_LOOP, f"broker connection lost: {exc!r}")
                failures += 1
                wait = min(0.5 * 2 ** min(failures, 6), MAX_BACKOFF_SECONDS)
                log.warning("event stream interrupted; reconnecting", extra={"error": repr(exc), "retry_in_s": wait})
                self._stop.wait(wait)

    def _on_message(self, body, message) -> None:
        try:
            self._deliver(body)
        finally:
            message.ack()

    def _deliver(self, body) -> None:
        if not isinstance(body, dict):
            return
        subscription = self._routes.get((body.get("source"), contracts.routing_key(str(body.get("type") or ""))))
        if subscription is None:
            return
        try:
            envelope = Envelope.from_wire(body)
        except MalformedEvent as exc:
            self._park(subscription, body, MALFORMED, str(exc))
            return
        try:
            event = subscription.decode(envelope)
        except contracts.UndecodableEvent as exc:
            self._park(subscription, body, exc.reason, str(exc))
            return
        if envelope.id in self._seen:
            EVENTS_CONSUMED.labels(self.service, envelope.source, envelope.routing_key, "duplicate").inc()
            return
        self._seen[envelope.id] = None
        if len(self._seen) > REMEMBERED_IDS:
            self._seen.popitem(last=False)
        try:
            subscription.handler(None, event)
        except DomainError as error:
            self._park(subscription, body, REFUSED, error.message)
            return
        except Exception:  # the next reconcile repairs what this event would have done
            log.exception("event handler failed", extra={"event_id": envelope.id, "event_type": envelope.type})
            EVENTS_CONSUMED.labels(self.service, envelope.source, envelope.routing_key, "failed").inc()
            return
        EVENTS_CONSUMED.labels(self.service, envelope.source, envelope.routing_key, "applied").inc()

    def _park(self, subscription: Subscription, body: dict, reason: str, error: str) -> None:
        try:
            self.consumer.park(subscription, body, reason, error)
        except Exception:  # the store is down: the log line and the count must still say it
            log.exception("could not park an event", extra={"event_id": body.get("id"), "reason": reason})
