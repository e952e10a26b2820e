"""`make run-micro`: the microservices topology on one machine, without Kubernetes.

For every service of services.common.registry (in its start order: the gateway last, with its HTTP port):
one PostgreSQL database (supervision_<service>, created when missing), its migrations, one API
process (`serve`) and one nameko worker (`worker`), all on distinct ports, events through RabbitMQ.
Then the demo district is loaded service by service, in the monolith's order, each service's
events delivered through RabbitMQ before the next one seeds (its demo builds on them), a progress
line per service; a loader that leaves something out (an office without officers) says what and
the start goes on. The gateway starts after the loading, so its history and alerts begin from the
whole district; run-micro is ready (its "就绪 ready" line) when the gateway's /readyz answers 200.

    .venv/bin/python tools/run_micro.py [--no-demo] [--only command_center,complaints]

Environment: POSTGRES_ADMIN_URL (default postgresql://postgres@127.0.0.1:5432/postgres; the server
that gets the databases), AMQP_URI (default amqp://guest:guest@127.0.0.1:5672/supervision_micro: a
virtual host of its own, made with rabbitmqctl on a local broker when missing, because the test
suites publish on the same broker and workers of the same service would share their queues, events
of test offices included; EVENT_NAMESPACE, when set, prefixes every name in it), and every variable of
README's table, passed on to the processes.
Ctrl-C (SIGINT) or SIGTERM stops the children: gateway first, then the API processes (they drain and
publish what they committed), then the workers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/supervision_micro"
FIRST_METRICS_PORT = 9101  # API 9101, worker 9102, next service 9103/9104, ...
START_TIMEOUT_SECONDS = 90
SETTLE_QUIET_SECONDS = 2.0
READY_PATH = "/readyz"

# ---------------------------------------------------------------------------------------------
# The gateway. It aggregates the others, so it starts last (the registry's start order), with its
# HTTP port and the gRPC address of every service's IndicatorSource in INDICATOR_SOURCES
# (services/common/sources.py); only the indicator sources started here are listed.
# deploy/k8s/base/services/gateway/kustomization.yaml sets the same variable for Kubernetes.
GATEWAY = "gateway"
GATEWAY_HTTP_PORT = 8080


def gateway_env(grpc_targets: dict[str, str]) -> dict[str, str]:
    return {"HTTP_PORT": str(GATEWAY_HTTP_PORT),
            "INDICATOR_SOURCES": ",".join(f"{name}={target}" for name, target in grpc_targets.items())}
# ---------------------------------------------------------------------------------------------


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


def create_databases(admin_url: str, services: list[Service]) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        for service in services:
            name = f"supervision_{service.name}"
            if name not in existing:
                conn.execute(f'CREATE DATABASE "{name}"')
                print(f"run-micro: created database {name}", file=sys.stderr)


def check_ports_free(services: list[Service]) -> None:
    ports = []
    for s in services:
        ports += [s.grpc_port, s.api_metrics_port] + ([s.worker_metrics_port] if s.has_worker else [])
        ports += [s.http_port] if s.http_port else []
    busy = []
    for port in ports:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                busy.append(port)
    if busy:
        raise SystemExit(f"run-micro: ports already in use: {busy} (is another run-micro or make run up?)")


def child_env(service: Service, amqp_uri: str, **ports: int) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": service.database_url, "AMQP_URI": amqp_uri,
           "PYTHONUNBUFFERED": "1", **service.extra_env}
    env.setdefault("LOG_FORMAT", "text")
    env.update({k: str(v) for k, v in ports.items()})
    return env


def migrate(service: Service, amqp_uri: str) -> None:
    result = subprocess.run([sys.executable, "-m", f"services.{service.name}", "migrate"], cwd=ROOT,
                            env=child_env(service, amqp_uri), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"run-micro: migrating {service.name} failed (exit {result.returncode})")


def spawn(service: Service, role: str, env: dict[str, str]) -> Child:
    process = subprocess.Popen([sys.executable, "-m", f"services.{service.name}", role], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                               start_new_session=True)  # the launcher decides the order of shutdown
    child = Child(service.name, role, process)
    threading.Thread(target=_pump, args=(child,), daemon=True).start()
    return child


def _pump(child: Child) -> None:
    """Copies a child's output, prefixed; notices the worker's "worker started" line."""
    prefix = f"[{child.service}/{child.role}] "
    for line in child.process.stdout:
        if "worker started" in line:
            child.started.set()
        sys.stderr.write(prefix + line)


def wait_ready(services: list[Service], children: list[Child], deadline: float) -> None:
    import grpc
    from grpc_health.v1 import health_pb2

    by_key = {(c.service, c.role): c for c in children}
    for service in services:
        api = by_key[(service.name, "serve")]
        with grpc.insecure_channel(f"127.0.0.1:{service.grpc_port}") as channel:
            stub = _health_stub(channel)
            while True:
                _check_alive(children)
                try:
                    if stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status == 1:
                        api.started.set()
                        break
                except grpc.RpcError:
                    pass
                _check_deadline(deadline, f"{service.name} serve is not SERVING")
                time.sleep(0.2)
        worker = by_key.get((service.name, "worker"))
        while worker is not None and not worker.started.wait(0.2):
            _check_alive(children)
            _check_deadline(deadline, f"{service.name} worker did not start")


def _health_stub(channel):
    from grpc_health.v1 import health_pb2_grpc

    return health_pb2_grpc.HealthStub(channel)


def _check_alive(children: list[Child]) -> None:
    for child in children:
        if child.process.poll() is not None:
            raise ChildExited(f"{child.service} {child.role} exited with status {child.process.returncode}")


def _check_deadline(deadline: float, what: str) -> None:
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
        _check_alive(children)
        backlog = {s.name: unsent(s) for s in services}
        consumed = sum(consumed_total(s.worker_metrics_port) for s in services if s.has_worker)
        if any(count for count, _ in backlog.values()) or consumed != last:
            quiet_since, last = time.monotonic(), consumed
        elif time.monotonic() - quiet_since >= SETTLE_QUIET_SECONDS:
            return
        stuck = "; ".join(f"{name}: {count} unsent{' (' + error[:200] + ')' if error else ''}"
                          for name, (count, error) in backlog.items() if count)
        _check_deadline(deadline, f"events still flowing ({stuck or 'consumers still busy'})")
        time.sleep(0.3)


def ensure_vhost(amqp_uri: str) -> None:
    """Makes the URI's virtual host on a local broker when it does not exist yet (rabbitmqctl)."""
    from kombu import Connection

    parsed = urlparse(amqp_uri)
    vhost = unquote(parsed.path[1:]) or "/"
    try:
        with Connection(amqp_uri, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
        return
    except Exception as error:  # noqa: BLE001 - any refusal: try to make the vhost, else say why
        reason = error
    ctl = shutil.which("rabbitmqctl")
    if vhost == "/" or parsed.hostname not in ("127.0.0.1", "localhost") or ctl is None:
        raise SystemExit(f"run-micro: cannot connect to {amqp_uri}: {reason}")
    user = parsed.username or "guest"
    for args in (["add_vhost", vhost], ["set_permissions", "-p", vhost, user, ".*", ".*", ".*"]):
        done = subprocess.run([ctl, *args], capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0 and "already exists" not in done.stderr + done.stdout:
            raise SystemExit(f"run-micro: rabbitmqctl {' '.join(args)} failed: {done.stderr.strip()}")
    print(f"run-micro: created RabbitMQ virtual host {vhost}", flush=True)


def declare_exchanges(amqp_uri: str, event_namespace: str, services: list[Service]) -> None:
    """Declares each service's event exchange ("<service>.events" in the namespace, as the workers do).

    nameko declares an exchange only when a consumer binds to it, and the relay publishes with
    confirms: until a consumer of a service's events exists (the gateway consumes every service's),
    the relay's publishes are refused with NOT_FOUND and retried.
    """
    from kombu import Connection

    from services.common.amqp import event_exchange

    with Connection(amqp_uri, connect_timeout=5) as connection:
        channel = connection.channel()
        for service in services:
            event_exchange(service.name, event_namespace).declare(channel=channel)


def seed(services: list[Service], children: list[Child], amqp_uri: str) -> None:
    from services.common.startup import progress_line

    for number, service in enumerate(services, start=1):
        print(f"run-micro: {progress_line(service.name, number, len(services))}", file=sys.stderr, flush=True)
        result = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--seed", service.name], cwd=ROOT,
                                env=child_env(service, amqp_uri), capture_output=True, text=True, check=False,
                                start_new_session=True)  # Ctrl-C reaches run-micro, which stops it
        if result.returncode != 0:
            sys.stderr.write(result.stdout + result.stderr)
            raise ChildExited(f"loading the demo data of {service.name} failed (exit {result.returncode})")
        for line in result.stdout.strip().splitlines():
            print(f"run-micro: {service.name}: {line}", file=sys.stderr, flush=True)
        # Wait for the relay (it polls every RELAY_POLL_SECONDS) and the consumers before the next
        # service seeds: its demo data builds on these events.
        settle(services, children, time.monotonic() + START_TIMEOUT_SECONDS)


def seed_one(name: str) -> None:
    """`--seed <service>` (a child process): the demo district into the service's empty store. The
    rows and their outbox events are committed here; the running API process's relay publishes them."""
    from services.common.config import Settings
    from services.common.db import Store

    settings = Settings.from_env()
    from services.common import registry

    runtime = registry.builder(name)(settings, Store(settings.database_url))
    if runtime.seed_demo is None:
        print("no demo data")
        return
    from services.monolith import demo_outcome

    outcome = demo_outcome(runtime.seed_demo())
    if runtime.indicators is not None:
        runtime.indicators.flush()
    print(describe_outcome(outcome))
    for item in outcome.skipped:
        print(f"略过 left out: {item}")
    runtime.store.dispose()


def describe_outcome(outcome) -> str:
    """One line for a service's DemoOutcome; what it left out is listed after it, never a failure."""
    if outcome.loaded:
        return "demo data loaded" if outcome.complete else "demo data partly loaded"
    return "demo data already complete" if outcome.complete else "demo data left out"


def wait_gateway_ready(port: int, children: list[Child], deadline: float) -> dict:
    """Polls the gateway's /readyz until it answers 200; returns its body."""
    import json
    import urllib.error

    while True:
        _check_alive(children)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{READY_PATH}", timeout=2) as response:
                return json.loads(response.read().decode())
        except (urllib.error.URLError, OSError, ValueError):
            pass  # 503 while it asks the sources, or not listening yet
        _check_deadline(deadline, "the gateway's /readyz did not answer 200")
        time.sleep(0.3)


def describe_namespace(amqp_uri: str, event_namespace: str) -> str:
    """Where this center's events live on the broker: its virtual host, and its name prefix if any."""
    parsed = urlparse(amqp_uri)
    where = f"RabbitMQ {parsed.hostname}:{parsed.port or 5672}, vhost {unquote(parsed.path[1:]) or '/'}"
    return where + (f", EVENT_NAMESPACE {event_namespace} (names {event_namespace}.*)" if event_namespace
                    else ", no EVENT_NAMESPACE prefix")


def print_table(services: list[Service], amqp_uri: str, event_namespace: str) -> None:
    rows = [("service", "gRPC", "API /metrics", "worker /metrics", "database")]
    for s in services:
        rows.append((s.name, f"127.0.0.1:{s.grpc_port}", f"http://127.0.0.1:{s.api_metrics_port}/metrics",
                     f"http://127.0.0.1:{s.worker_metrics_port}/metrics" if s.has_worker else "-",
                     f"supervision_{s.name}"))
        if s.http_port:
            rows.append(("", f"HTTP http://127.0.0.1:{s.http_port}/ (dashboard, /api/v1, /healthz)", "", "", ""))
    widths = [max(len(row[i]) for row in rows if row[2]) for i in range(5)]
    lines = ["", "智慧监管云中心 — microservices mode (make run-micro)", ""]
    lines += ["  " + ("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) if row[2] else
                      " " * (widths[0] + 2) + row[1]).rstrip() for row in rows]
    lines += ["", f"  Events: {describe_namespace(amqp_uri, event_namespace)}",
              "  workers: /livez and /readyz beside /metrics",
              f"  try: grpcurl -plaintext 127.0.0.1:{services[0].grpc_port} list", "  Ctrl-C stops everything.", ""]
    print("\n".join(lines), file=sys.stderr, flush=True)


def stop(children: list[Child], grace: float) -> None:
    """Gateway first, then the API processes (drain + last relay pass), then the workers."""
    def rank(child: Child) -> int:
        return 0 if child.service == GATEWAY else (1 if child.role == "serve" else 2)

    for group in sorted({rank(c) for c in children}):
        members = [c for c in children if rank(c) == group and c.process.poll() is None]
        for child in members:
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
        end = time.monotonic() + grace
        for child in members:
            try:
                child.process.wait(max(0.1, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"run-micro: {child.service} {child.role} did not stop in {grace:.0f}s; killing",
                      file=sys.stderr)
                child.process.kill()
                child.process.wait()


def start_service(service: Service, amqp_uri: str) -> list[Child]:
    """A service's worker (first: its queues must exist before anything is published), then its API."""
    children = []
    if service.has_worker:
        env = child_env(service, amqp_uri, METRICS_PORT=service.worker_metrics_port)
        children.append(spawn(service, "worker", env))
    ports = {"GRPC_PORT": service.grpc_port, "METRICS_PORT": service.api_metrics_port}
    if service.http_port:
        ports["HTTP_PORT"] = service.http_port
    children.append(spawn(service, "serve", child_env(service, amqp_uri, **ports)))
    return children


_received: list[int] = []


def _interrupt(signum: int, _frame) -> None:
    _received.append(signum)
    raise KeyboardInterrupt


def exit_status() -> int:
    """0 when stopped by SIGTERM (the ordinary way), 130 after Ctrl-C (SIGINT)."""
    return 130 if _received[:1] == [signal.SIGINT] else 0


def run() -> int:
    """The command: `main`, stopped cleanly by SIGTERM or Ctrl-C at any moment, from the first."""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        return main()
    except KeyboardInterrupt:  # before any child started (migrations, the broker): nothing to stop
        print("run-micro: stopped", file=sys.stderr)
        return exit_status()


def main() -> int:
    parser = argparse.ArgumentParser(prog="tools/run_micro.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo district")
    parser.add_argument("--only", help="comma-separated services (default: every service)")
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed:
        names = discover(None)
        if args.seed not in names:
            print(f"run-micro: unknown service {args.seed!r} to seed (have: {', '.join(names)})", file=sys.stderr)
            return 2
        seed_one(args.seed)
        return 0

    from services.common.config import ConfigError, Settings

    try:
        settings = Settings.from_env()  # the children would refuse a bad value anyway: say it once
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    admin_url = os.environ.get("POSTGRES_ADMIN_URL", DEFAULT_ADMIN_URL)
    amqp_uri = os.environ.get("AMQP_URI") or DEFAULT_AMQP_URI
    services = plan(discover(args.only.split(",") if args.only else None), admin_url)
    check_ports_free(services)
    create_databases(admin_url, services)
    for service in services:
        migrate(service, amqp_uri)
    print(f"run-micro: migrated {', '.join(s.name for s in services)}", file=sys.stderr)
    ensure_vhost(amqp_uri)
    print(f"run-micro: events in {describe_namespace(amqp_uri, settings.event_namespace)}", file=sys.stderr)
    declare_exchanges(amqp_uri, settings.event_namespace, services)

    children: list[Child] = []
    status = 0
    began = time.monotonic()
    try:
        # The gateway after the loading: it starts from the whole district, so the loading's climb
        # leaves no history and opens no "index dropped" alert.
        sources = [s for s in services if s.name != GATEWAY]
        gateway = [s for s in services if s.name == GATEWAY]
        for group in (sources, gateway):
            for service in group:
                children += start_service(service, amqp_uri)
            wait_ready(group, children, time.monotonic() + START_TIMEOUT_SECONDS)
            if group is sources and settings.demo_data and not args.no_demo:
                seed(sources, children, amqp_uri)
        if gateway:
            wait_gateway_ready(GATEWAY_HTTP_PORT, children, time.monotonic() + START_TIMEOUT_SECONDS)
        print_table(services, amqp_uri, settings.event_namespace)
        print(f"run-micro: 就绪 ready in {time.monotonic() - began:.0f}s", file=sys.stderr, flush=True)
        while True:
            time.sleep(0.5)
            _check_alive(children)
    except ChildExited as error:
        print(f"run-micro: {error}; stopping everything", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        status = exit_status()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):  # the shutdown below is bounded; let it finish
            signal.signal(sig, signal.SIG_IGN)
        print("run-micro: stopping", file=sys.stderr)
        stop(children, settings.drain_grace_seconds + 10)
    return status


if __name__ == "__main__":
    sys.exit(run())
