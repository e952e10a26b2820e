"""Real service processes for integration tests: start, wait until a worker consumes, stop."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from kombu import Connection

from services.common.amqp import configured_namespace, namespaced

ROOT = Path(__file__).resolve().parent.parent


def worker_queue(source: str, event_type: str, service: str, namespace: str | None = None) -> str:
    """The durable queue nameko declares for `service`'s handler of `source`'s `event_type`, in the
    broker namespace (None: this process's EVENT_NAMESPACE, which the workers it starts inherit)."""
    namespace = configured_namespace() if namespace is None else namespace
    return namespaced(f"evt-{source}-{event_type}--{service}.on_{source}_{event_type}", namespace)


def worker_queues(service: str, namespace: str | None = None) -> list[str]:
    """Every queue `service`'s worker consumes, from the subscriptions its handlers declare."""
    from services.common.config import Settings
    from services.common.db import Store

    with tempfile.TemporaryDirectory() as scratch:
        store = Store(f"sqlite:///{scratch}/wiring.db")  # built, never used: only the wiring is read
        try:
            runtime = importlib.import_module(f"services.{service}.service").build(Settings.from_env({}), store)
            return [worker_queue(s.source, s.event_type, service, namespace) for s in runtime.subscriptions]
        finally:
            store.dispose()


def start_worker(service: str, **env: str) -> subprocess.Popen:
    """The service's nameko worker on fresh queues, returned once it consumes all of them.

    The broker is shared by every test (and by earlier runs): messages left in a durable queue
    while no worker ran would reach this worker first and make the test's expectations race them.
    """
    queues = worker_queues(service, env.get("EVENT_NAMESPACE"))  # the worker's own, else this process's
    with Connection(env["AMQP_URI"]) as connection:
        for queue in queues:
            connection.default_channel.queue_delete(queue)
    process = start_service(service, "worker", **env)
    wait_for_queues(env["AMQP_URI"], queues, process)
    return process


def start_service(service: str, command: str, **env: str) -> subprocess.Popen:
    """`python -m services.<service> <command>` with the environment plus `env`."""
    variables = {**os.environ, "METRICS_PORT": "0", "LOG_FORMAT": "text", "SWEEP_INTERVAL_SECONDS": "3600", **env}
    return subprocess.Popen([sys.executable, "-m", f"services.{service}", command], cwd=ROOT, env=variables,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for_queues(amqp_uri: str, queues: list[str], process: subprocess.Popen, timeout: float = 30.0) -> None:
    """Returns once the worker has declared its queues: events published after that reach it."""
    deadline = time.monotonic() + timeout
    with Connection(amqp_uri) as connection:
        for queue in queues:
            while True:
                try:
                    connection.default_channel.queue_declare(queue, passive=True)
                    break
                except Exception:  # noqa: BLE001 - not declared yet
                    connection.close()
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"{process.args} did not start: {process.communicate()[0][-3000:]}")
                    time.sleep(0.2)


def stop(process: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM, then the process must exit 0 within `timeout`."""
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"{process.args} did not stop within {timeout:.0f} s of SIGTERM")
    assert process.returncode == 0, process.stdout.read()[-3000:]


def http_get(port: int, path: str) -> tuple[int, str]:
    """(status, body) of GET `path` on 127.0.0.1:`port`; (0, the error) while nothing listens there."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)
