"""The seven services of the center: the one list every host, tool and client reads.

Start order matters: a service's demo data builds on the events of the ones before it, and the
gateway, which aggregates the others, comes last. Each entry says where the service's code lives,
its gRPC port in monolithic mode (`make run`, and the default address of every client), whether it
answers `IndicatorSource` (an indicator source) and whether it has a nameko worker.

services/common imports no service: `builder` reaches a service's wiring by its package name.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from services.common.runtime import ServiceRuntime


@dataclass(frozen=True)
class ServiceSpec:
    """One service of the center: its name, its package and how it is run."""

    name: str
    package: str
    monolith_port: int
    has_indicators: bool
    has_worker: bool

    @property
    def worker_module(self) -> str:
        """The module whose `run(runtime, settings)` is the service's nameko worker (microservices mode)."""
        return f"{self.package}.worker"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("command_center", "services.command_center", 50051, has_indicators=True, has_worker=True),
    ServiceSpec("mobile_enforcement", "services.mobile_enforcement", 50052, has_indicators=True, has_worker=True),
    ServiceSpec("complaints", "services.complaints", 50053, has_indicators=True, has_worker=True),
    ServiceSpec("emergency", "services.emergency", 50054, has_indicators=True, has_worker=True),
    ServiceSpec("facilities", "services.facilities", 50055, has_indicators=True, has_worker=True),
    ServiceSpec("assessment", "services.assessment", 50056, has_indicators=True, has_worker=True),
    ServiceSpec("gateway", "services.gateway", 50057, has_indicators=False, has_worker=True),
)
_BY_NAME = {entry.name: entry for entry in SERVICES}


def spec(name: str) -> ServiceSpec:
    """The entry of the service called `name`; KeyError naming the known ones otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown service {name!r}; known: {', '.join(names())}") from None


def names() -> list[str]:
    """Every service's name, in start order."""
    return [entry.name for entry in SERVICES]


def sources() -> list[ServiceSpec]:
    """The indicator sources (指标来源): the services answering IndicatorSource, in start order."""
    return [entry for entry in SERVICES if entry.has_indicators]


def builder(name: str) -> Callable[..., ServiceRuntime]:
    """The service's `build(settings, store, *, today, now)` from its service.py, imported on demand."""
    module = importlib.import_module(f"{spec(name).package}.service")
    # Every service.py defines build(...) -> ServiceRuntime (docs/architecture.md, "One service, one shape").
    return cast("Callable[..., ServiceRuntime]", module.build)
