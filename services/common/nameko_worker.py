"""The nameko worker of a service (microservices mode): its subscriptions and timers.

Imported only in a process that eventlet has monkey-patched. Handlers run the same
Consumer.handle as in monolithic mode, through eventlet's tpool: the store calls block, and a
blocking call on the hub would stall every other greenthread of the worker.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

import eventlet
from eventlet import tpool
from kombu.entity import Queue
from nameko.events import BROADCAST, SERVICE_POOL, EventHandler
from nameko.messaging import QueueConsumer
from nameko.runners import ServiceRunner
from nameko.timer import timer

from services.common import worker_health
from services.common.amqp import configured_namespace, event_exchange, namespaced
from services.common.consumer import Consumer, Subscription, Timer, run_timer
from services.common.db import Store
from services.common.runtime import ServiceRuntime

log = logging.getLogger(__name__)

# Consumer.handle raises only while the store or the network is away (an event it cannot apply is
# parked): the delivery is requeued, after a wait so that an outage does not spin through the same
# message thousands of times a second.
REQUEUE_DELAY_SECONDS = 1.0

# The nameko config key our handlers read the broker namespace from (EVENT_NAMESPACE).
EVENT_NAMESPACE_CONFIG_KEY = "EVENT_NAMESPACE"
# The two loops whose beats /livez watches (services.common.worker_health).
CONSUMER_LOOP, CONTAINER_LOOP = "consumer", "container"


# nameko ships no types: its classes are Any to the type checker, and these extend two of them.
class HealthReportingQueueConsumer(QueueConsumer):  # type: ignore[misc]
    """nameko's queue consumer, reporting its drain loop and its connection to the process's health.

    Its loop runs on the worker's hub: on_iteration comes every drain timeout (1 s) while connected,
    on_connection_error at every failed attempt to reconnect, so a silent one is a stuck consumer.
    """

    def on_iteration(self) -> None:
        """Every drain of the connection (at least once a second): the loop beats."""
        worker_health.beat(CONSUMER_LOOP)
        super().on_iteration()

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **kwargs: Any) -> None:
        """After every (re)connection, once the queues are consumed: ready."""
        super().on_consume_ready(connection, channel, consumers, **kwargs)
        worker_health.mark_connected(CONSUMER_LOOP)

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        """A failed attempt to (re)connect: still beating, not ready."""
        worker_health.mark_disconnected(CONSUMER_LOOP, f"broker connection failed: {exc}; retrying in {interval} s")
        super().on_connection_error(exc, interval)

    def consume(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """kombu's consume loop (one broker connection); when it ends, by a lost connection or a stop,
        the worker consumes nothing until the next one is ready."""
        reason = "stopping"
        try:
            yield from super().consume(*args, **kwargs)
        except Exception as exc:
            reason = f"broker connection lost: {exc!r}"
            raise
        finally:
            worker_health.mark_disconnected(CONSUMER_LOOP, reason)


class NamespacedEventHandler(EventHandler):  # type: ignore[misc]
    """nameko's event handler, its queue and exchange names prefixed with the broker namespace.

    nameko names them itself ("evt-<source>-<type>--<service>.<method>" bound to "<source>.events");
    the namespace is applied to what it built, so every naming rule of nameko is kept as is.
    """

    queue_consumer = HealthReportingQueueConsumer()
    queue: Queue  # nameko's, made in setup

    def setup(self) -> None:
        """nameko's queue and binding, renamed into the namespace before anything is declared."""
        super().setup()
        namespace = self.container.config.get(EVENT_NAMESPACE_CONFIG_KEY)
        namespace = configured_namespace() if namespace is None else namespace
        if namespace:
            # Replaced before the queue consumer starts: it reads provider.queue when it connects.
            # kombu's Queue() is unannotated.
            self.queue = Queue(namespaced(self.queue.name, namespace),  # type: ignore[no-untyped-call]
                               exchange=event_exchange(self.source_service, namespace, self.container.config),
                               routing_key=self.queue.routing_key, durable=self.queue.durable,
                               auto_delete=self.queue.auto_delete, exclusive=self.queue.exclusive)


def _event_method(consumer: Consumer, subscription: Subscription) -> Callable[[object, dict[str, Any]], None]:
    def handle(self: object, payload: dict[str, Any]) -> None:
        try:
            tpool.execute(consumer.handle, subscription, payload)
        except Exception:
            log.exception("event delivery failed (store or network); requeueing",
                          extra={"service": consumer.service, "event_type": subscription.event_type})
            eventlet.sleep(REQUEUE_DELAY_SECONDS)
            raise

    handle.__name__ = subscription.name
    return handle


def _timer_method(service: str, spec: Timer, store: Store, interval_seconds: float) -> Callable[[object], None]:
    def tick(self: object) -> None:
        # The interval sizes the timer's lease, which must outlast the gap between two rounds.
        tpool.execute(run_timer, service, spec, store, interval_seconds)

    tick.__name__ = f"timer_{spec.name}"
    return tick


def _heartbeat(self: object) -> None:
    # Runs as an entrypoint: spawned by the container into its worker pool, on its hub. It stops
    # beating when the hub is blocked, the container is dead, or every worker slot is stuck.
    worker_health.beat(CONTAINER_LOOP)


def worker_class(runtime: ServiceRuntime, sweep_interval_seconds: float,
                 heartbeat_seconds: float | None = None) -> type:
    """The nameko service class of `runtime`: a handler per subscription, a timer per Timer, and
    with `heartbeat_seconds` the timer that proves to /livez that the container runs entrypoints."""
    consumer = runtime.consumer()
    handler_type = BROADCAST if runtime.broadcast else SERVICE_POOL
    attributes: dict[str, object] = {"name": runtime.name}
    for subscription in runtime.subscriptions:
        attributes[subscription.name] = NamespacedEventHandler.decorator(
            subscription.source, subscription.event_type, handler_type=handler_type,
            reliable_delivery=not runtime.broadcast, requeue_on_error=True,
        )(_event_method(consumer, subscription))
    for spec in runtime.timers:
        attributes[f"timer_{spec.name}"] = timer(interval=sweep_interval_seconds)(
            _timer_method(runtime.name, spec, runtime.store, sweep_interval_seconds))
    if heartbeat_seconds is not None:
        attributes["heartbeat"] = timer(interval=heartbeat_seconds, eager=True)(_heartbeat)
    class_name = "".join(part.title() for part in runtime.name.split("_")) + "Worker"
    return type(class_name, (), attributes)


def run_worker(runtime: ServiceRuntime, amqp_uri: str, sweep_interval_seconds: float,
               event_namespace: str | None = None) -> None:
    """Runs the worker until SIGTERM; `event_namespace` None: EVENT_NAMESPACE of the environment."""
    namespace = configured_namespace() if event_namespace is None else event_namespace
    health = worker_health.current()
    heartbeat_seconds = None
    if health is not None:
        health.expect([CONSUMER_LOOP, CONTAINER_LOOP] if runtime.subscriptions else [CONTAINER_LOOP])
        # Several beats per stall period: one late tick must not fail the probe.
        heartbeat_seconds = max(health.stall_seconds / 4, 0.2)
    runner = ServiceRunner(config={"AMQP_URI": amqp_uri, "max_workers": 10, "serializer": "json",
                                   EVENT_NAMESPACE_CONFIG_KEY: namespace})
    runner.add_service(worker_class(runtime, sweep_interval_seconds, heartbeat_seconds))

    stopping = threading.Event()
    # The handler only sets a flag: the hub may sleep in epoll for a long time, so a greenlet
    # spawned from a signal handler could wait that long; the loop below polls the flag instead.
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    if runtime.indicators is not None:
        runtime.indicators.start()  # a real thread: threads are not patched in the worker
    runner.start()
    if health is not None and not runtime.subscriptions:
        health.connected()  # nothing to consume: ready once the container runs its timers
    log.info("worker started", extra={"service": runtime.name, "event_namespace": namespace,
                                      "subscriptions": [s.name for s in runtime.subscriptions],
                                      "timers": [t.name for t in runtime.timers]})
    while not stopping.is_set():
        eventlet.sleep(0.2)
    log.info("worker stopping", extra={"service": runtime.name})
    # Waits for running handlers; unacknowledged deliveries go back to the queue.
    runner.stop()
    if runtime.indicators is not None:
        runtime.indicators.stop()
        runtime.indicators.flush()
