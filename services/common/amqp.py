"""Publishing events to RabbitMQ through nameko's publisher (microservices mode), and the names of
everything the center declares on the broker.

Messages are persistent and publisher confirms are on, so `publish` returns only once the broker
has taken responsibility for the event; the relay marks the outbox row sent after that. The
exchange is declared with every publish (kombu declares once per connection): until some consumer
had bound to `<source>.events`, RabbitMQ refused publishes to it and events stayed in the outbox.

Broker namespace: environments sharing a broker are kept apart by a virtual host of their own (in
AMQP_URI). Where a vhost cannot be had, EVENT_NAMESPACE prefixes every exchange and queue name
("staging.command_center.events", "staging.evt-command_center-..."), so two centers never bind to
each other's exchanges nor consume each other's queues.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from kombu.entity import Exchange
from nameko.amqp.publish import Publisher
from nameko.standalone.events import get_event_exchange

from services.common import contracts
from services.common.config import event_namespace_setting

# Fail fast and let the relay's own backoff decide when to try again: nameko's default policy
# would block the relay for seconds on every row while the broker is down.
_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 0.5}


def configured_namespace(env: Mapping[str, str] | None = None) -> str:
    """EVENT_NAMESPACE of the process's environment (validated as Settings.from_env validates it)."""
    return event_namespace_setting(os.environ if env is None else env)


def namespaced(name: str, namespace: str) -> str:
    """`name` in `namespace`: "<namespace>.<name>", or `name` itself without a namespace."""
    return f"{namespace}.{name}" if namespace else name


def event_exchange(source: str, namespace: str, config: Mapping[str, Any] | None = None) -> Exchange:
    """The topic exchange `source` publishes to: nameko's "<source>.events", in `namespace`."""
    exchange: Exchange = get_event_exchange(source, dict(config or {}))
    if namespace:
        # kombu's Exchange() is unannotated.
        exchange = Exchange(namespaced(exchange.name, namespace), type=exchange.type,  # type: ignore[no-untyped-call]
                            durable=exchange.durable,
                            delivery_mode=exchange.delivery_mode, auto_delete=exchange.auto_delete,
                            no_declare=exchange.no_declare)
    return exchange


class NamekoTransport:
    """Publishes the relay's events to the service's exchange on RabbitMQ, with publisher confirms."""

    def __init__(self, amqp_uri: str, event_namespace: str | None = None):
        self._config = {"AMQP_URI": amqp_uri}
        # None: EVENT_NAMESPACE of the environment, as every other part of the process reads it.
        self.namespace = configured_namespace() if event_namespace is None else event_namespace
        self._publisher = Publisher(amqp_uri, use_confirms=True, serializer="json", retry_policy=_RETRY_POLICY)
        self._exchanges: dict[str, Exchange] = {}

    def publish(self, wire: dict[str, Any]) -> None:
        """Publishes one event; returns once the broker has confirmed it."""
        # Exchange "<source>.events", routing key = the message's short name: nameko's own
        # convention, so a plain @event_handler(source, "OfficeRegistered") subscribes; events
        # written before the contracts were typed used the same keys, so queues kept their names.
        source = wire["source"]
        exchange = self._exchanges.get(source)
        if exchange is None:
            exchange = self._exchanges[source] = event_exchange(source, self.namespace, self._config)
        self._publisher.publish(wire, exchange=exchange, routing_key=contracts.routing_key(wire["type"]),
                                declare=[exchange])
