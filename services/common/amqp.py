"""Publishing events to RabbitMQ through nameko's publisher (microservices mode).

Messages are persistent and publisher confirms are on, so `publish` returns only once the broker
has taken responsibility for the event; the relay marks the outbox row sent after that. The
exchange is declared with every publish (kombu declares once per connection): until some consumer
had bound to `<source>.events`, RabbitMQ refused publishes to it and events stayed in the outbox.
"""

from __future__ import annotations

from typing import Any

from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange

from services.common import contracts

# Fail fast and let the relay's own backoff decide when to try again: nameko's default policy
# would block the relay for seconds on every row while the broker is down.
_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 0.5}


class NamekoTransport:
    def __init__(self, amqp_uri: str):
        self._config = {"AMQP_URI": amqp_uri}
        self._publisher = Publisher(amqp_uri, use_confirms=True, serializer="json", retry_policy=_RETRY_POLICY)
        self._exchanges: dict[str, Any] = {}

    def publish(self, wire: dict[str, Any]) -> None:
        # Exchange "<source>.events", routing key = the message's short name: nameko's own
        # convention, so a plain @event_handler(source, "OfficeRegistered") subscribes; events
        # written before the contracts were typed used the same keys, so queues kept their names.
        source = wire["source"]
        exchange = self._exchanges.get(source)
        if exchange is None:
            exchange = self._exchanges[source] = get_event_exchange(source, self._config)
        self._publisher.publish(wire, exchange=exchange, routing_key=contracts.routing_key(wire["type"]),
                                declare=[exchange])
