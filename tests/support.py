"""Hosting a real service for tests: migrated store, in-process bus, gRPC server on a free port."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import socket
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from services.common import migrate, registry
from services.common.bus import InProcessBus
from services.common.clock import shanghai_date
from services.common.config import Settings
from services.common.db import Store
from services.common.hosting import HostContext, HostedService
from services.common.runtime import ServiceRuntime

_HANDED_OUT: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port() -> int:
    """A port nobody listens on, never the same twice in this process, and below the ephemeral range:
    a port handed to a process that binds it a second later must not meanwhile become the local port
    of some outgoing connection (which is what ports from bind(0) are drawn from)."""
    high = _ephemeral_low() - 1
    rng = random.Random()
    for _ in range(1000):
        port = rng.randint(max(1025, high - 12000), high)
        if port in _HANDED_OUT:
            continue
        try:
            for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::")):
                with socket.socket(family) as sock:
                    sock.bind((address, port))
        except OSError:
            continue
        _HANDED_OUT.add(port)
        return port
    raise RuntimeError("no free port below the ephemeral range")


def monolith_command(grpc_ports: dict[str, int]) -> list[str]:
    """`python -m services.monolith` exactly as `make run` starts it, but on gRPC ports of the test's
    choosing (service name -> port): the registry's ports lie in Linux's ephemeral range
    (32768-60999), where any client connection of another process may hold one for as long as it lives."""
    return [sys.executable, "-m", "services.monolith",
            *(option for name, port in grpc_ports.items() for option in ("--grpc-port", f"{name}={port}"))]


@dataclass
class Clock:
    """The service's idea of today (Asia/Shanghai), movable by the test."""

    today: dt.date = field(default_factory=lambda: dt.date(2026, 11, 2))

    def __call__(self) -> dt.date:
        return self.today


@dataclass
class InstantClock:
    """One instant the test moves; the service reads now (UTC) and today (Asia/Shanghai) from it."""

    instant: dt.datetime

    def now(self) -> dt.datetime:
        return self.instant

    def __call__(self) -> dt.date:
        return shanghai_date(self.instant)

    @property
    def today(self) -> dt.date:
        return self()

    def advance(self, **delta: float) -> None:
        self.instant += dt.timedelta(**delta)


@dataclass
class RunningService:
    runtime: ServiceRuntime
    hosted: HostedService
    bus: InProcessBus
    channel: grpc.Channel
    clock: Clock

    @property
    def store(self) -> Store:
        return self.runtime.store

    def settle(self) -> None:
        """Publishes what is committed; the in-process bus applies it before this returns."""
        self.hosted.settle()

    def close(self) -> None:
        self.channel.close()
        self.hosted.stop(0.5)
        self.store.dispose()


def host(service: str, store_url: str, settings: Settings, clock: Clock | None = None,
         **build_options) -> RunningService:
    """`build_options` go to the service's build(), e.g. now= for a service that reads the time. Hosted
    as every host hosts it (`runtime.hosted`); the gateway's HTTP server on any free port."""
    clock = clock or Clock()
    store = Store(store_url)
    runtime = registry.builder(service)(settings, store, today=clock, **build_options)
    migrate.upgrade(service, runtime.migrations_dir, store.url)
    bus = InProcessBus()
    bus.subscribe(runtime.consumer(), runtime.subscriptions)
    hosted = runtime.hosted(settings, bus, port=0, host="127.0.0.1", run_timers=False,
                            context=HostContext(http_port=0))
    server = hosted.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    grpc.channel_ready_future(channel).result(timeout=10)
    return RunningService(runtime, hosted, bus, channel, clock)


def violations(error: grpc.RpcError) -> dict[str, str]:
    """The google.rpc.BadRequest field violations carried by an error, by field."""
    status = rpc_status.from_call(error)
    found: dict[str, str] = {}
    if status is None:
        return found
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            for violation in bad_request.field_violations:
                found[violation.field] = violation.description
    return found


class TcpProxy:
    """A TCP forwarder the test can cut and restore: the service's peer goes away without stopping
    the machine's own server (RabbitMQ, PostgreSQL)."""

    def __init__(self, target_host: str, target_port: int):
        import threading

        self._socket_module = socket
        self._threading = threading
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.enabled = True
        self._connections: list = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.enabled:
                client.close()
                continue
            try:
                upstream = self._socket_module.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)  # the timeout was for connecting: an idle peer is no error
            with self._lock:
                self._connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                self._threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, destination) -> None:
        try:
            while data := source.recv(65536):
                destination.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, destination):
                with contextlib.suppress(OSError):
                    sock.close()

    def cut(self) -> None:
        """Refuses new connections and drops the open ones."""
        self.enabled = False
        with self._lock:
            connections, self._connections = self._connections, []
        for sock in connections:
            try:
                sock.shutdown(self._socket_module.SHUT_RDWR)
                sock.close()
            except OSError:
                pass

    def restore(self) -> None:
        self.enabled = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@contextlib.contextmanager
def redis_key_prefix():
    """A key prefix of the caller's own on the local Redis (REDIS_URL), its keys removed afterwards;
    Redis unreachable fails the test under CI=true and skips it elsewhere."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required under CI=true but unavailable at {REDIS_URL}: {error}")
        pytest.skip(f"Redis unavailable at {REDIS_URL}: {error}")
    prefix = f"test:complaint-form:{uuid.uuid4().hex}:"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


def openapi_conformance(base_url: str, token: str, examples: int) -> tuple[int, dict[str, str]]:
    """schemathesis (its Python API: its pytest plugin does not run under pytest 9) draws valid and
    invalid requests for every operation of the document at `base_url`/api/v1/openapi.json but the
    stream (Server-Sent Events never end) and checks each answer's status, content type and body
    against it. Returns the requests made and each failing operation's report."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    failures: dict[str, str] = {}
    calls = [0]
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("/stream"):
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and operation.path.endswith(("/form-token", "/field/config")):
                continue  # no parameters, no body, no token: nothing in it can be made invalid

            @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case):
                calls[0] += 1
                case.call_and_validate(base_url=base_url, headers={"Authorization": f"Bearer {token}"},
                                       checks=checks, timeout=20)

            try:
                call()
            except Exception as failure:  # noqa: BLE001 - every operation's failures are reported together
                failures[f"{operation.label} ({mode.value})"] = str(failure)[:1500]
    return calls[0], failures
