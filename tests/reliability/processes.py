"""The processes of a fault test: `serve` and `worker` processes of the services, started with the
environment the test chooses, watched until they serve or consume, killed or stopped at the end.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.reliability import catalog
from tests.reliability.cluster import ROOT, plain_url, queue_depths, wait_until
from tests.support import TcpProxy, free_port

START_TIMEOUT = 60.0


@dataclass
class Process:
    service: str
    command: str
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen | None = None
    grpc_port: int = 0
    metrics_port: int = 0
    channel: grpc.Channel | None = None
    _log: object = field(default=None, repr=False)

    def start(self) -> Process:
        self._log = self.log_path.open("ab")
        self.popen = subprocess.Popen([sys.executable, "-m", f"services.{self.service}", self.command], cwd=ROOT,
                                      env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def tail(self, chars: int = 3000) -> str:
        return self.log()[-chars:]

    def kill(self) -> None:
        """SIGKILL: no drain, no last relay pass, no handler finishing."""
        if self.alive:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)
        self._close()

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit status."""
        if self.alive:
            self.popen.terminate()
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        self._close()
        return self.popen.returncode if self.popen else 0

    def _close(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def wait_serving(self, timeout: float = START_TIMEOUT) -> Process:
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.grpc_port}")
        health = health_pb2_grpc.HealthStub(self.channel)

        def serving() -> bool:
            if not self.alive:
                raise AssertionError(f"{self.service} serve exited: {self.tail()}")
            try:
                return health.Check(health_pb2.HealthCheckRequest(), timeout=1).status \
                    == health_pb2.HealthCheckResponse.SERVING
            except grpc.RpcError:
                return False

        wait_until(serving, timeout, f"{self.service} serve to answer health checks", interval=0.2)
        return self

    def wait_consuming(self, amqp_uri: str, timeout: float = START_TIMEOUT) -> Process:
        """The worker has started its entrypoints (nameko declared and consumes its queues)."""

        def started() -> bool:
            if not self.alive:
                raise AssertionError(f"{self.service} worker exited: {self.tail()}")
            return '"worker started"' in self.log() or "worker started" in self.log()

        wait_until(started, timeout, f"{self.service} worker to start")
        queues = catalog.worker_queues(self.service)
        if queues:
            wait_until(lambda: min(queue_depths(amqp_uri, queues).values()) >= 0, timeout,
                       f"{self.service} worker's queues")
        return self

    def healthy(self) -> bool:
        try:
            return health_pb2_grpc.HealthStub(self.channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5).status == health_pb2.HealthCheckResponse.SERVING
        except grpc.RpcError:
            return False


def indicator_sources(grpc_ports: dict[str, int]) -> dict[str, str]:
    """INDICATOR_SOURCES for processes that read other services' indicators (the gateway, assessment):
    every started service that is a known indicator source."""
    try:
        from services.common.sources import SOURCES
    except ImportError:
        return {}
    listed = ",".join(f"{name}=127.0.0.1:{port}" for name, port in grpc_ports.items() if name in SOURCES)
    return {"INDICATOR_SOURCES": listed} if listed else {}


# The evidence trail key of every process of the suite and of the seeded district (district.py):
# trails sealed by one process must verify in another.
TRAIL_KEY_SETTINGS = {"TRAIL_KEYS": "chaos:" + base64.b64encode(b"reliability-suite-trail-key-0001").decode(),
                      "TRAIL_ACTIVE_KEY_ID": "chaos"}


def base_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.endswith("_DATABASE_URL")}
    env.update({"LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "RELAY_POLL_SECONDS": "0.2",
                "SWEEP_INTERVAL_SECONDS": "3600", "DRAIN_GRACE_SECONDS": "2", "DEMO_DATA": "false",
                "AUTH_MODE": "off", **TRAIL_KEY_SETTINGS})
    env.update(extra)
    return env


class Cluster:
    """The processes of one test; everything it started is killed at the end."""

    def __init__(self, log_dir: Path, amqp_uri: str, **env: str):
        self.log_dir = log_dir
        self.amqp_uri = amqp_uri
        self.env = env
        self.processes: list[Process] = []
        self.proxies: list = []

    def serve(self, service: str, database_url: str, *, amqp_uri: str | None = None, wait: bool = True,
              grpc_port: int = 0, **env: str) -> Process:
        grpc_port, metrics_port = grpc_port or free_port(), free_port()
        env.setdefault("HTTP_PORT", str(free_port()))
        process = Process(service, "serve", base_env(**self.env, DATABASE_URL=plain_url(database_url),
                                                     AMQP_URI=amqp_uri or self.amqp_uri, GRPC_PORT=str(grpc_port),
                                                     METRICS_PORT=str(metrics_port), **env),
                          self._log_path(service, "serve"), grpc_port=grpc_port, metrics_port=metrics_port)
        self.processes.append(process.start())
        return process.wait_serving() if wait else process

    def worker(self, service: str, database_url: str, *, amqp_uri: str | None = None, wait: bool = True,
               **env: str) -> Process:
        process = Process(service, "worker", base_env(**self.env, DATABASE_URL=plain_url(database_url),
                                                      AMQP_URI=amqp_uri or self.amqp_uri,
                                                      METRICS_PORT=str(free_port()), **env),
                          self._log_path(service, "worker"))
        self.processes.append(process.start())
        return process.wait_consuming(self.amqp_uri) if wait else process

    def restart(self, process: Process, wait: bool = True) -> Process:
        """The same command again (same environment, ports and log file), after the old one is gone."""
        process.kill()
        again = Process(process.service, process.command, process.env, process.log_path,
                        grpc_port=process.grpc_port, metrics_port=process.metrics_port)
        self.processes.append(again.start())
        if not wait:
            return again
        return again.wait_serving() if again.command == "serve" else again.wait_consuming(self.amqp_uri)

    def proxy(self, host: str, port: int) -> TcpProxy:
        proxy = TcpProxy(host, port)
        self.proxies.append(proxy)
        return proxy

    def _log_path(self, service: str, command: str) -> Path:
        return self.log_dir / f"{service}-{command}-{len(self.processes)}.log"

    def dead(self) -> str:
        """The processes that exited although the test did not stop them, with the end of their logs."""
        gone = [p for p in self.processes if p.popen is not None and p.popen.poll() is not None
                and p.popen.returncode != -9 and p._log is not None]
        return "\n".join(f"{p.service} {p.command} exited {p.popen.returncode}:\n{p.tail(2000)}" for p in gone)

    def logs(self) -> str:
        return "\n".join(p.log() for p in self.processes)

    def close(self) -> None:
        for process in self.processes:
            process.kill()
        for proxy in self.proxies:
            proxy.close()
