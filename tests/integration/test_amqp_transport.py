"""The transport publishes to an exchange no consumer has declared yet (a fresh broker)."""

from __future__ import annotations

import uuid

from kombu import Connection, Queue

from services.common.amqp import NamekoTransport, configured_namespace, event_exchange


def test_the_first_publish_of_a_new_source_declares_its_exchange(amqp_uri):
    source = f"source_{uuid.uuid4().hex[:8]}"
    NamekoTransport(amqp_uri).publish({"id": "e-1", "source": source, "type": "Happened", "data": {}})
    with Connection(amqp_uri) as connection:
        exchange = event_exchange(source, configured_namespace())
        channel = connection.channel()
        exchange.bind(channel).declare(passive=True)  # raises NOT_FOUND if the transport did not declare it
        queue = Queue(f"probe-{source}", exchange=exchange, routing_key="Happened", auto_delete=True)
        queue.bind(channel).declare()
        NamekoTransport(amqp_uri).publish({"id": "e-2", "source": source, "type": "Happened", "data": {}})
        message = queue.bind(channel).get(no_ack=True)
        assert message is not None and message.payload["id"] == "e-2"
        exchange.bind(channel).delete()
