"""What the suite covers, discovered rather than listed: the services of services.common.registry,
the gRPC methods their servers register (from the generated descriptors), their stores' tables and
the events they publish and consume. A service that lands later is covered without edits here."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, MethodDescriptor

from services.common import registry
from services.common.amqp import configured_namespace, namespaced
from services.common.config import Settings
from services.common.consumer import Subscription
from services.common.db import Store

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Method:
    service: str  # ours, e.g. "command_center"
    grpc_service: str  # e.g. "supervision.command_center.v1.OfficeService"
    name: str  # e.g. "CreateOffice"
    input: Descriptor
    output: Descriptor
    server_streaming: bool

    @property
    def path(self) -> str:
        return f"/{self.grpc_service}/{self.name}"

    @property
    def id(self) -> str:
        return f"{self.service}:{self.grpc_service.rsplit('.', 1)[-1]}.{self.name}"

    @property
    def request_class(self):
        return message_factory.GetMessageClass(self.input)

    @property
    def response_class(self):
        return message_factory.GetMessageClass(self.output)


@dataclass
class ServiceSpec:
    name: str
    grpc_services: list[str]
    methods: list[Method]
    subscriptions: list[Subscription] = field(default_factory=list)
    broadcast: bool = False
    has_timers: bool = False

    @property
    def consumes(self) -> set[tuple[str, str]]:
        return {(s.source, s.type_name) for s in self.subscriptions}


def service_names() -> list[str]:
    """Every service the monolith hosts, in its start order (a service's demo builds on the ones before)."""
    return registry.names()


def _import_generated(grpc_service: str) -> None:
    """Imports every *_pb2 module of the service's proto package, so its descriptors are in the pool."""
    package = grpc_service.rsplit(".", 1)[0]  # supervision.command_center.v1
    module = importlib.import_module(package)
    for info in pkgutil.iter_modules(module.__path__):
        if info.name.endswith("_pb2"):
            importlib.import_module(f"{package}.{info.name}")


def _settings() -> Settings:
    return Settings.from_env({"LOG_FORMAT": "text", "DEMO_DATA": "false"})


@functools.cache
def spec(service: str) -> ServiceSpec:
    # A store that is never connected: building the runtime only wires objects together.
    store = Store("postgresql://nobody@127.0.0.1:1/never_connected")
    runtime = registry.builder(service)(_settings(), store)
    pool = descriptor_pool.Default()
    methods: list[Method] = []
    for grpc_service in runtime.grpc_service_names:
        _import_generated(grpc_service)
        descriptor = pool.FindServiceByName(grpc_service)
        for method in descriptor.methods:
            method: MethodDescriptor
            if getattr(method, "client_streaming", False):
                continue  # no such method in the contracts; a bidirectional one would need its own driver
            methods.append(Method(service, grpc_service, method.name, method.input_type, method.output_type,
                                  bool(getattr(method, "server_streaming", False))))
    return ServiceSpec(service, list(runtime.grpc_service_names), methods, list(runtime.subscriptions),
                       bool(runtime.broadcast), bool(runtime.timers))


def all_methods() -> list[Method]:
    return [m for s in service_names() for m in spec(s).methods]


def consumers_of(source: str, event_type: str) -> list[str]:
    return [s for s in service_names() if (source, event_type) in spec(s).consumes]


def worker_queues(service: str) -> list[str]:
    """The durable queues nameko declares for the service's (service-pool) subscriptions."""
    found = spec(service)
    if found.broadcast:
        return []
    # In this run's broker namespace (EVENT_NAMESPACE, which the workers started from here inherit).
    return [namespaced(f"evt-{s.source}-{s.event_type}--{service}.{s.name}", configured_namespace())
            for s in found.subscriptions]
