"""The in-process event bus of monolithic mode.

Delivery is synchronous, inside the publishing service's relay: the relay marks an outbox row
sent only after every consumer has applied the event, so a crash or a failing consumer leaves the
row unsent and it is delivered again (consumers' inboxes absorb the repeat). Nothing is held in
memory that a stop could lose.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from services.common import contracts
from services.common.consumer import Consumer, Subscription


class InProcessBus:
    """Carries events from a publishing service's relay straight to the subscribed consumers in the same process."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], list[tuple[Consumer, Subscription]]] = defaultdict(list)

    def subscribe(self, consumer: Consumer, subscriptions: list[Subscription]) -> None:
        """Routes the events of `subscriptions` to `consumer`."""
        for subscription in subscriptions:
            self._routes[(subscription.source, subscription.event_type)].append((consumer, subscription))

    def publish(self, wire: dict[str, Any]) -> None:
        """Applies the event in every subscribed service; raises if any of them failed."""
        failures = []
        # Routed like the broker routes: publisher and the message's short name; each subscription
        # then decodes the full type itself (an unknown one is parked, not dropped).
        key = (str(wire.get("source")), contracts.routing_key(str(wire.get("type") or "")))
        for consumer, subscription in self._routes.get(key, ()):
            try:
                consumer.handle(subscription, wire)
            except Exception as exc:  # noqa: BLE001 - the others still get the event; the relay retries
                failures.append(f"{consumer.service}: {exc!r}")
        if failures:
            raise DeliveryFailed("; ".join(failures))


class DeliveryFailed(RuntimeError):
    """At least one subscribed service failed to apply an event; the relay publishes it again."""
