"""Publishing events to RabbitMQ through nameko's event dispatcher (microservices mode).

Messages are persistent and publisher confirms are on, so `publish` returns only once the broker
has taken responsibility for the event; the relay marks the outbox row sent after that.
"""

from __future__ import annotations

from typing import Any

from nameko.standalone.events import event_dispatcher

# Fail fast and let the relay's own backoff decide when to try again: nameko's default policy
# would block the relay for seconds on every row while the broker is down.
_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 0.5}


class NamekoTransport:
    def __init__(self, amqp_uri: str):
        self._dispatch = event_dispatcher({"AMQP_URI": amqp_uri}, use_confirms=True,
                                          retry_policy=_RETRY_POLICY)

    def publish(self, wire: dict[str, Any]) -> None:
        # Exchange "<source>.events", routing key = event type: nameko's own convention, so a
        # plain @event_handler(source, type) subscribes.
        self._dispatch(wire["source"], wire["type"], wire)
