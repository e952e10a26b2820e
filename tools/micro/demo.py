"""`make run-micro`'s demo district: each service's loader run in a process of its own against its
database, its events delivered through RabbitMQ before the next service loads."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tools.micro.readiness import START_TIMEOUT_SECONDS, ChildExited, settle
from tools.micro.topology import Child, Service

ROOT = Path(__file__).resolve().parents[2]
RUN_MICRO = ROOT / "tools" / "run_micro.py"


def seed(services: list[Service], children: list[Child], env_of: Callable[[Service], dict[str, str]]) -> None:
    """The demo district, service by service (`run_micro.py --seed <service>` each), each one's events
    settled before the next seeds."""
    from services.common.startup import progress_line

    for number, service in enumerate(services, start=1):
        print(f"run-micro: {progress_line(service.name, number, len(services))}", file=sys.stderr, flush=True)
        result = subprocess.run([sys.executable, str(RUN_MICRO), "--seed", service.name], cwd=ROOT,
                                env=env_of(service), capture_output=True, text=True, check=False,
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
