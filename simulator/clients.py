"""The simulator's connections: one gRPC channel per service, a health probe that tells which
services answer, and the gateway's HTTP API (the public complaint form and the dashboard's reads).

A service that does not answer is absent: the actions that need it are skipped with a log line,
and it is probed again now and then, so a service started later joins the run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common import registry

log = logging.getLogger("simulator")

# The gRPC service whose health says a service is there.
HEALTH_OF = {
    "command_center": "supervision.command_center.v1.TaskService",
    "mobile_enforcement": "supervision.mobile_enforcement.v1.SpotCheckService",
    "complaints": "supervision.complaints.v1.ComplaintService",
    "emergency": "supervision.emergency.v1.IncidentService",
    "facilities": "supervision.facilities.v1.RapidTestService",
    "assessment": "supervision.assessment.v1.ScoreService",
    "gateway": "supervision.gateway.v1.MonitoringService",
}
# service -> (monolith port, the gRPC service whose health says it is there), in the registry's order.
SERVICES: dict[str, tuple[int, str]] = {entry.name: (entry.monolith_port, HEALTH_OF[entry.name])
                                        for entry in registry.SERVICES}
GATEWAY_HTTP = "gateway_http"
DEFAULT_HTTP = "http://127.0.0.1:8080"
# The center's /metrics (METRICS_PORT): never on the gateway's public HTTP port.
DEFAULT_METRICS = "http://127.0.0.1:9090"
PROBE_SECONDS = 3.0
REPROBE_SECONDS = 30.0


class HttpError(Exception):
    def __init__(self, status: int, body: str):
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body


@dataclass
class Addresses:
    grpc: dict[str, str]
    http: str
    metrics: str = DEFAULT_METRICS

    @classmethod
    def monolith(cls, host: str = "127.0.0.1", overrides: dict[str, int] | None = None,
                 http: str = DEFAULT_HTTP, metrics: str = DEFAULT_METRICS) -> Addresses:
        ports = {name: port for name, (port, _) in SERVICES.items()} | (overrides or {})
        return cls({name: f"{host}:{port}" for name, port in ports.items()}, http.rstrip("/"), metrics.rstrip("/"))


class Clients:
    def __init__(self, addresses: Addresses, timeout: float):
        self.addresses = addresses
        self.timeout = timeout
        self.channels: dict[str, grpc.aio.Channel] = {}
        self.present: set[str] = set()
        self._stubs: dict[tuple[str, type], object] = {}
        self._probed_at = 0.0
        self._announced: dict[str, bool] = {}

    def channel(self, service: str) -> grpc.aio.Channel:
        channel = self.channels.get(service)
        if channel is None:
            channel = self.channels[service] = grpc.aio.insecure_channel(self.addresses.grpc[service])
        return channel

    def stub(self, service: str, stub_class):
        key = (service, stub_class)
        stub = self._stubs.get(key)
        if stub is None:
            stub = self._stubs[key] = stub_class(self.channel(service))
        return stub

    async def probe(self, force: bool = False) -> set[str]:
        """Which services answer now; logs each change once."""
        if not force and time.monotonic() - self._probed_at < REPROBE_SECONDS:
            return self.present
        self._probed_at = time.monotonic()
        names = list(SERVICES)
        answers = await asyncio.gather(*(self._healthy(name) for name in names), self._http_healthy())
        found = {name for name, ok in zip([*names, GATEWAY_HTTP], answers, strict=True) if ok}
        for name in [*names, GATEWAY_HTTP]:
            now_present = name in found
            if self._announced.get(name) != now_present:
                where = self.addresses.http if name == GATEWAY_HTTP else self.addresses.grpc.get(name, "(not started)")
                if now_present:
                    log.info("%s answers at %s", name, where)
                else:
                    log.info("%s does not answer at %s: its actions are skipped while it is absent", name, where)
                self._announced[name] = now_present
        self.present = found
        return found

    async def _healthy(self, service: str) -> bool:
        if service not in self.addresses.grpc:  # a center started without it
            return False
        stub = self.stub(service, health_pb2_grpc.HealthStub)
        try:
            answer = await stub.Check(health_pb2.HealthCheckRequest(service=SERVICES[service][1]),
                                      timeout=PROBE_SECONDS)
        except grpc.aio.AioRpcError:
            return False
        return answer.status == health_pb2.HealthCheckResponse.SERVING

    async def _http_healthy(self) -> bool:
        try:
            await self.http("GET", "/healthz", timeout=PROBE_SECONDS)
        except (HttpError, OSError):
            return False
        return True

    async def http(self, method: str, path: str, body: dict | None = None, timeout: float | None = None) -> dict:
        """One JSON request to the gateway, in a worker thread (urllib blocks); HttpError on >= 400."""
        raw = await asyncio.to_thread(self._http_blocking, method, path, body, timeout or self.timeout)
        return json.loads(raw) if raw else {}

    async def metrics_text(self) -> str | None:
        """The center's Prometheus metrics (METRICS_PORT), or None where they cannot be read."""
        try:
            raw = await asyncio.to_thread(self._http_blocking, "GET", "/metrics", None, self.timeout,
                                          self.addresses.metrics)
        except (HttpError, OSError):
            return None
        return raw.decode("utf-8", "replace")

    def _http_blocking(self, method: str, path: str, body: dict | None, timeout: float, base: str = "") -> bytes:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request((base or self.addresses.http) + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as error:
            raise HttpError(error.code, error.read().decode("utf-8", "replace")) from None
        return raw

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()
        self.channels.clear()
        self._stubs.clear()
