"""Worker health (liveness from the consumer's beats, readiness from its connection), EVENT_NAMESPACE
and WORKER_STALL_SECONDS, and the names the namespace gives. (The probes served on the metrics port:
tests/integration/test_metrics_port.py.)"""

from __future__ import annotations

import pytest
from nameko.containers import ServiceContainer
from nameko.events import BROADCAST

from services.common.amqp import event_exchange, namespaced
from services.common.config import ConfigError, Settings
from services.common.nameko_worker import EVENT_NAMESPACE_CONFIG_KEY, NamespacedEventHandler
from services.common.worker_health import WorkerHealth


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_fresh_worker_is_alive_for_the_stall_limit_but_not_ready_until_connected():
    clock = Clock()
    health = WorkerHealth(60, ["consumer", "container"], clock=clock)
    assert health.liveness() == (True, "ok")
    assert health.readiness() == (False, "not connected to the broker yet")
    clock.now += 61  # never beat since the start
    alive, reason = health.liveness()
    assert not alive and "consumer silent for 61 s" in reason and "container silent for 61 s" in reason


def test_a_loop_silent_past_the_limit_fails_liveness_and_readiness_naming_it():
    clock = Clock()
    health = WorkerHealth(10, ["consumer", "container"], clock=clock)
    health.connected()
    for _ in range(3):
        clock.now += 8
        health.beat("consumer")
        health.beat("container")
    assert health.liveness() == (True, "ok") and health.readiness() == (True, "ok")
    clock.now += 8
    health.beat("consumer")
    clock.now += 3  # the container's last beat is now 11 s old
    assert health.liveness() == (False, "container silent for 11 s (limit 10 s)")
    assert health.readiness() == (False, "container silent for 11 s (limit 10 s)")


def test_a_lost_connection_is_not_ready_until_connected_again_and_still_alive_while_it_retries():
    clock = Clock()
    health = WorkerHealth(10, ["consumer"], clock=clock)
    health.connected()
    health.disconnected("broker connection lost: ConnectionResetError()")
    assert health.readiness() == (False, "broker connection lost: ConnectionResetError()")
    clock.now += 9
    health.beat("consumer")  # a reconnect attempt is the loop going round
    clock.now += 9
    assert health.liveness() == (True, "ok")
    health.connected()
    assert health.readiness() == (True, "ok")


def test_expect_watches_only_the_loops_named():
    clock = Clock()
    health = WorkerHealth(10, ["consumer"], clock=clock)
    clock.now += 20
    health.expect(["container"])  # a worker with timers only: no queue consumer to wait for
    assert health.liveness() == (True, "ok")
    clock.now += 11
    assert health.liveness() == (False, "container silent for 11 s (limit 10 s)")


@pytest.mark.parametrize("value", ["staging", "prod-2", "env_a.b", "A" * 32, ""])
def test_event_namespace_accepts_short_plain_names(value):
    assert Settings.from_env({"EVENT_NAMESPACE": value}).event_namespace == value


@pytest.mark.parametrize("value", ["a b", "stage/1", "é", "-x", ".x", "A" * 33, "x*"])
def test_event_namespace_refuses_anything_else_naming_the_variable(value):
    with pytest.raises(ConfigError, match="EVENT_NAMESPACE"):
        Settings.from_env({"EVENT_NAMESPACE": value})


def test_worker_stall_seconds_defaults_to_a_minute_and_must_be_positive():
    assert Settings.from_env({}).worker_stall_seconds == 60.0
    assert Settings.from_env({"WORKER_STALL_SECONDS": "5"}).worker_stall_seconds == 5.0
    for bad in ("0", "-1", "soon"):
        with pytest.raises(ConfigError, match="WORKER_STALL_SECONDS"):
            Settings.from_env({"WORKER_STALL_SECONDS": bad})


def test_names_in_a_namespace_are_prefixed_and_without_one_are_nameko_s_own():
    assert namespaced("evt-a-B--c.on_a_B", "") == "evt-a-B--c.on_a_B"
    assert namespaced("evt-a-B--c.on_a_B", "staging") == "staging.evt-a-B--c.on_a_B"
    assert event_exchange("command_center", "").name == "command_center.events"
    plain, prefixed = event_exchange("command_center", ""), event_exchange("command_center", "staging")
    assert prefixed.name == "staging.command_center.events"
    assert (prefixed.type, prefixed.durable, prefixed.delivery_mode) == (plain.type, plain.durable, plain.delivery_mode)


def handler_queue(namespace: str, **handler_options):
    """The queue a NamespacedEventHandler of a small service declares, with EVENT_NAMESPACE `namespace`."""
    def on_command_center_OfficeRegistered(self, payload):
        pass

    service = type("Worker", (), {"name": "assessment", "on_command_center_OfficeRegistered": NamespacedEventHandler
                                  .decorator("command_center", "OfficeRegistered", **handler_options)(
                                      on_command_center_OfficeRegistered)})
    container = ServiceContainer(service, {"AMQP_URI": "amqp://guest:guest@127.0.0.1:1/",
                                           EVENT_NAMESPACE_CONFIG_KEY: namespace})
    [handler] = list(container.entrypoints)
    handler.setup()  # names and binds the queue; connects to nothing
    return handler.queue


def test_the_handler_queue_and_its_exchange_carry_the_namespace():
    queue = handler_queue("staging")
    assert queue.name == "staging.evt-command_center-OfficeRegistered--assessment.on_command_center_OfficeRegistered"
    assert queue.exchange.name == "staging.command_center.events"
    assert (queue.routing_key, queue.durable, queue.auto_delete, queue.exclusive) == ("OfficeRegistered", True,
                                                                                      False, False)


def test_without_a_namespace_the_handler_queue_is_nameko_s():
    queue = handler_queue("")
    assert queue.name == "evt-command_center-OfficeRegistered--assessment.on_command_center_OfficeRegistered"
    assert queue.exchange.name == "command_center.events"


def test_a_broadcast_handler_keeps_its_exclusive_auto_delete_queue_in_the_namespace():
    queue = handler_queue("staging", handler_type=BROADCAST, reliable_delivery=False)
    assert queue.name.startswith("staging.evt-command_center-OfficeRegistered--assessment.on_command_center_"
                                 "OfficeRegistered-")
    assert (queue.auto_delete, queue.exclusive) == (True, True)


def test_run_micro_says_which_vhost_and_prefix_its_events_use():
    from tools.run_micro import describe_namespace

    assert describe_namespace("amqp://guest:guest@127.0.0.1:5672/supervision_micro", "") == (
        "RabbitMQ 127.0.0.1:5672, vhost supervision_micro, no EVENT_NAMESPACE prefix")
    assert describe_namespace("amqp://u:p@mq/", "staging") == (
        "RabbitMQ mq:5672, vhost /, EVENT_NAMESPACE staging (names staging.*)")
