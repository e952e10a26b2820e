"""What `make run-micro` runs: per service its ports, its database and its processes."""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass, field
from urllib.parse import urlparse

FIRST_METRICS_PORT = 9101  # API 9101, worker 9102, next service 9103/9104, ...

# The gateway. It aggregates the others, so it starts last (the registry's start order), with its
# HTTP port and the gRPC address of every service's IndicatorSource in INDICATOR_SOURCES
# (services/common/sources.py); only the indicator sources started here are listed.
# deploy/k8s/base/services/gateway/kustomization.yaml sets the same variable for Kubernetes.
GATEWAY = "gateway"
GATEWAY_HTTP_PORT = 8080


def gateway_env(grpc_targets: dict[str, str]) -> dict[str, str]:
    return {"HTTP_PORT": str(GATEWAY_HTTP_PORT),
            "INDICATOR_SOURCES": ",".join(f"{name}={target}" for name, target in grpc_targets.items())}


@dataclass
class Service:
    name: str
    grpc_port: int
    api_metrics_port: int
    worker_metrics_port: int
    has_worker: bool
    database_url: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def http_port(self) -> int | None:
        return GATEWAY_HTTP_PORT if self.name == GATEWAY else None


@dataclass
class Child:
    service: str
    role: str
    process: subprocess.Popen
    started: threading.Event = field(default_factory=threading.Event)


def discover(only: list[str] | None) -> list[str]:
    """The services to run, in the registry's start order (the gateway, which aggregates the others, last)."""
    from services.common import registry

    names = registry.names()
    if only:
        unknown = sorted(set(only) - set(names))
        if unknown:
            raise SystemExit(f"run-micro: unknown service: {', '.join(unknown)} (have: {', '.join(names)})")
        names = [n for n in names if n in only]
    return names


def plan(names: list[str], admin_url: str) -> list[Service]:
    from services.common import registry

    services = []
    for index, name in enumerate(names):
        entry = registry.spec(name)
        metrics = FIRST_METRICS_PORT + 2 * index
        services.append(Service(name, entry.monolith_port, metrics, metrics + 1, has_worker=entry.has_worker,
                                database_url=database_url(admin_url, name)))
    gateway = next((s for s in services if s.name == GATEWAY), None)
    if gateway is not None:
        sources = {entry.name for entry in registry.sources()}
        gateway.extra_env = gateway_env({s.name: f"127.0.0.1:{s.grpc_port}" for s in services if s.name in sources})
    return services


def database_url(admin_url: str, service: str) -> str:
    return urlparse(admin_url)._replace(path=f"/supervision_{service}").geturl()
