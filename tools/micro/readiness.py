"""When `make run-micro`'s processes are up, and when the events between them have settled."""

from __future__ import annotations

import time
import urllib.request

from tools.micro.topology import Child, Service

START_TIMEOUT_SECONDS = 90
SETTLE_QUIET_SECONDS = 2.0
READY_PATH = "/readyz"


def wait_ready(services: list[Service], children: list[Child], deadline: float) -> None:
    import grpc
    from grpc_health.v1 import health_pb2

    by_key = {(c.service, c.role): c for c in children}
    for service in services:
        api = by_key[(service.name, "serve")]
        with grpc.insecure_channel(f"127.0.0.1:{service.grpc_port}") as channel:
            stub = _health_stub(channel)
            while True:
                check_alive(children)
                try:
                    if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                        api.started.set()
                        break
                except grpc.RpcError:
                    pass
                check_deadline(deadline, f"{service.name} serve is not SERVING")
                time.sleep(0.2)
        worker = by_key.get((service.name, "worker"))
        while worker is not None and not worker.started.wait(0.2):
            check_alive(children)
            check_deadline(deadline, f"{service.name} worker did not start")


def _health_stub(channel):
    from grpc_health.v1 import health_pb2_grpc

    return health_pb2_grpc.HealthStub(channel)


def check_alive(children: list[Child]) -> None:
    """ChildExited when any child process has exited."""
    for child in children:
        if child.process.poll() is not None:
            raise ChildExited(f"{child.service} {child.role} exited with status {child.process.returncode}")


def check_deadline(deadline: float, what: str) -> None:
    """ChildExited naming `what` once the deadline (time.monotonic()) has passed."""
    if time.monotonic() > deadline:
        raise ChildExited(f"timed out: {what}")


class ChildExited(Exception):
    pass


def consumed_total(port: int) -> float:
    """supervision_events_consumed_total of a worker, summed over every label."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
        text = response.read().decode()
    return sum(sample.value for family in text_string_to_metric_families(text)
               if family.name == "supervision_events_consumed"
               for sample in family.samples if sample.name.endswith("_total"))


def unsent(service: Service) -> tuple[int, str]:
    """(unsent outbox rows, the last publish error among them)."""
    import psycopg

    with psycopg.connect(service.database_url, connect_timeout=5) as conn:
        try:
            count, error = conn.execute("SELECT count(*), max(last_error) FROM outbox WHERE sent_at IS NULL").fetchone()
        except psycopg.errors.UndefinedTable:  # a service without an outbox (the gateway)
            return 0, ""
    return count, error or ""


def settle(services: list[Service], children: list[Child], deadline: float) -> None:
    """Returns when every outbox is empty and no worker consumed anything for a while."""
    quiet_since, last = time.monotonic(), None
    while True:
        check_alive(children)
        backlog = {s.name: unsent(s) for s in services}
        consumed = sum(consumed_total(s.worker_metrics_port) for s in services if s.has_worker)
        if any(count for count, _ in backlog.values()) or consumed != last:
            quiet_since, last = time.monotonic(), consumed
        elif time.monotonic() - quiet_since >= SETTLE_QUIET_SECONDS:
            return
        stuck = "; ".join(f"{name}: {count} unsent{' (' + error[:200] + ')' if error else ''}"
                          for name, (count, error) in backlog.items() if count)
        check_deadline(deadline, f"events still flowing ({stuck or 'consumers still busy'})")
        time.sleep(0.3)


def wait_gateway_ready(port: int, children: list[Child], deadline: float) -> dict:
    """Polls the gateway's /readyz until it answers 200; returns its body."""
    import json
    import urllib.error

    while True:
        check_alive(children)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{READY_PATH}", timeout=2) as response:
                return json.loads(response.read().decode())
        except (urllib.error.URLError, OSError, ValueError):
            pass  # 503 while it asks the sources, or not listening yet
        check_deadline(deadline, "the gateway's /readyz did not answer 200")
        time.sleep(0.3)
