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
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.micro.demo import seed, seed_one  # noqa: E402 - after ROOT is on sys.path
from tools.micro.readiness import (  # noqa: E402
    START_TIMEOUT_SECONDS,
    ChildExited,
    check_alive,
    wait_gateway_ready,
    wait_ready,
)
from tools.micro.topology import GATEWAY, GATEWAY_HTTP_PORT, Child, Service, discover, plan  # noqa: E402

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/supervision_micro"


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
                seed(sources, children, lambda service: child_env(service, amqp_uri))
        if gateway:
            wait_gateway_ready(GATEWAY_HTTP_PORT, children, time.monotonic() + START_TIMEOUT_SECONDS)
        print_table(services, amqp_uri, settings.event_namespace)
        print(f"run-micro: 就绪 ready in {time.monotonic() - began:.0f}s", file=sys.stderr, flush=True)
        while True:
            time.sleep(0.5)
            check_alive(children)
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
