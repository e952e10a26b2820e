"""The nameko worker of a service (microservices mode): its subscriptions and timers.

Imported only in a process that eventlet has monkey-patched. Handlers run the same
Consumer.handle as in monolithic mode, through eventlet's tpool: the store calls block, and a
blocking call on the hub would stall every other greenthread of the worker.
"""

from __future__ import annotations

import logging
import signal
import threading

import eventlet
from eventlet import tpool
from nameko.events import BROADCAST, SERVICE_POOL, event_handler
from nameko.runners import ServiceRunner
from nameko.timer import timer

from services.common.consumer import Consumer, Subscription, Timer, run_timer
from services.common.runtime import ServiceRuntime

log = logging.getLogger(__name__)

# Consumer.handle raises only while the store or the network is away (an event it cannot apply is
# parked): the delivery is requeued, after a wait so that an outage does not spin through the same
# message thousands of times a second.
REQUEUE_DELAY_SECONDS = 1.0


def _event_method(consumer: Consumer, subscription: Subscription):
    def handle(self, payload):
        try:
            tpool.execute(consumer.handle, subscription, payload)
        except Exception:
            log.exception("event delivery failed (store or network); requeueing",
                          extra={"service": consumer.service, "event_type": subscription.event_type})
            eventlet.sleep(REQUEUE_DELAY_SECONDS)
            raise

    handle.__name__ = subscription.name
    return handle


def _timer_method(service: str, spec: Timer, store):
    def tick(self):
        tpool.execute(run_timer, service, spec, store)

    tick.__name__ = f"timer_{spec.name}"
    return tick


def worker_class(runtime: ServiceRuntime, sweep_interval_seconds: float) -> type:
    consumer = runtime.consumer()
    handler_type = BROADCAST if runtime.broadcast else SERVICE_POOL
    attributes: dict[str, object] = {"name": runtime.name}
    for subscription in runtime.subscriptions:
        attributes[subscription.name] = event_handler(
            subscription.source, subscription.event_type, handler_type=handler_type,
            reliable_delivery=not runtime.broadcast, requeue_on_error=True,
        )(_event_method(consumer, subscription))
    for spec in runtime.timers:
        attributes[f"timer_{spec.name}"] = timer(interval=sweep_interval_seconds)(
            _timer_method(runtime.name, spec, runtime.store))
    class_name = "".join(part.title() for part in runtime.name.split("_")) + "Worker"
    return type(class_name, (), attributes)


def run_worker(runtime: ServiceRuntime, amqp_uri: str, sweep_interval_seconds: float) -> None:
    runner = ServiceRunner(config={"AMQP_URI": amqp_uri, "max_workers": 10, "serializer": "json"})
    runner.add_service(worker_class(runtime, sweep_interval_seconds))

    stopping = threading.Event()
    # The handler only sets a flag: the hub may sleep in epoll for a long time, so a greenlet
    # spawned from a signal handler could wait that long; the loop below polls the flag instead.
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    if runtime.indicators is not None:
        runtime.indicators.start()  # a real thread: threads are not patched in the worker
    runner.start()
    log.info("worker started", extra={"service": runtime.name,
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
