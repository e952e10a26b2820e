"""Microservices mode on one machine, for fault tests: free ports, a PostgreSQL database per service
and a private RabbitMQ virtual host (the processes that use them are in processes.py).

Nothing here stops the machine's own PostgreSQL or RabbitMQ: a process is cut off by the proxy it
talks through, a broker is isolated by a virtual host of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from urllib.parse import urlparse, urlunparse

import psycopg

from tests.reliability import catalog

ROOT = catalog.ROOT


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.1):
    """Polls `predicate` until it returns something truthy; fails naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# ------------------------------------------------------------------------------------------ PostgreSQL


def plain_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def with_port(url: str, host: str, port: int) -> str:
    parsed = urlparse(url)
    netloc = parsed.netloc.rsplit("@", 1)
    user = netloc[0] + "@" if len(netloc) == 2 else ""
    return urlunparse(parsed._replace(netloc=f"{user}{host}:{port}"))


def database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


class Databases:
    """Creates databases (empty, or copies of a template) and drops them all at the end."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.created: list[str] = []

    def url(self, name: str) -> str:
        return urlunparse(urlparse(self.admin_url)._replace(path=f"/{name}"))

    def create(self, label: str, template: str | None = None) -> str:
        name = f"chaos_{uuid.uuid4().hex[:10]}_{label}"[:63]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for attempt in range(5):
                try:
                    if template:
                        # A template must have no other sessions; a copy of a seeded store takes ~0.1 s.
                        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                                     "AND pid <> pg_backend_pid()", (template,))
                        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                    else:
                        conn.execute(f'CREATE DATABASE "{name}"')
                    break
                except psycopg.errors.ObjectInUse:
                    if attempt == 4:
                        raise
                    time.sleep(0.5)  # another session copies the same template right now
        self.created.append(name)
        return self.url(name)

    def drop_all(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in reversed(self.created):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


def migrate(service: str, url: str) -> None:
    finished = subprocess.run([sys.executable, "-m", f"services.{service}", "migrate"], cwd=ROOT,
                              env={**os.environ, "DATABASE_URL": url, "LOG_FORMAT": "text"},
                              capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr[-3000:]


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def scalar(url: str, sql: str, params: tuple = ()):
    rows = query(url, sql, params)
    return rows[0][0] if rows else None


def tables(url: str) -> list[str]:
    return [r[0] for r in query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]


# Tables that change without a request: the indicator snapshot (the refresher thread, after a
# commit) and Alembic's version table. The outbox is compared by its events, not by sent_at/attempts
# (the relay), and without IndicatorsChanged (the refresher's).
_VOLATILE = ("indicator_snapshots",)


class Fingerprint:
    """A content hash of a service's store: equal before and after a call iff the call changed nothing."""

    def __init__(self, url: str, exclude: set[str] = frozenset()):
        self.url = plain_url(url)
        parts = []
        for table in tables(self.url):
            if table in _VOLATILE or table in exclude or table.startswith("alembic_version"):
                continue
            source = ("(SELECT event_id, event_type FROM outbox "
                      "WHERE event_type <> 'supervision.common.v1.IndicatorsChanged')"
                      if table == "outbox" else f'"{table}"')
            parts.append(f"SELECT '{table}' AS t, count(*) AS n, "
                         f"coalesce(sum(hashtextextended(x::text, 7)), 0) AS h FROM {source} x")
        self.sql = " UNION ALL ".join(parts) or "SELECT 'none', 0, 0"
        self._conn = psycopg.connect(self.url, autocommit=True)

    def __call__(self) -> tuple:
        return tuple(self._conn.execute(self.sql).fetchall())

    def by_table(self) -> dict[str, tuple]:
        return {row[0]: row[1:] for row in self()}

    def diff(self, before: tuple, after: tuple) -> list[str]:
        return [f"{b[0]}: {b[1]} -> {a[1]} rows" + ("" if b[1] != a[1] else " (content changed)")
                for b, a in zip(before, after, strict=True) if b != a]

    def close(self) -> None:
        self._conn.close()


def outbox_events(url: str, event_type: str | None = None) -> list[dict]:
    sql = "SELECT envelope FROM outbox" + (" WHERE event_type = %s" if event_type else "") + " ORDER BY id"
    return [r[0] for r in query(url, sql, (event_type,) if event_type else ())]


def unsent(url: str) -> int:
    return scalar(url, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")


def inbox_ids(url: str, source: str, event_type: str) -> list[str]:
    return [r[0] for r in query(url, "SELECT event_id FROM inbox WHERE source = %s AND event_type = %s",
                                (source, event_type))]


def row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables(url)
                if not t.startswith("alembic_version")}


# ------------------------------------------------------------------------------------------ RabbitMQ


class Broker:
    """A private virtual host per test when rabbitmqctl can make one (the broker is local); else the
    default one, with this suite's queues deleted before and after so no message crosses tests."""

    def __init__(self, base_uri: str):
        self.base_uri = base_uri
        parsed = urlparse(base_uri)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 5672
        self._ctl = shutil.which("rabbitmqctl") if self.host in ("127.0.0.1", "localhost") else None

    def _rabbitmqctl(self, *args: str) -> bool:
        if not self._ctl:
            return False
        try:
            done = subprocess.run([self._ctl, *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0

    @contextlib.contextmanager
    def vhost(self) -> Iterator[str]:
        name = f"chaos_{uuid.uuid4().hex[:10]}"
        user = urlparse(self.base_uri).username or "guest"
        if self._rabbitmqctl("add_vhost", name) and self._rabbitmqctl("set_permissions", "-p", name, user,
                                                                        ".*", ".*", ".*"):
            try:
                yield with_vhost(self.base_uri, name)
            finally:
                self._rabbitmqctl("delete_vhost", name)
            return
        self.delete_queues(self.base_uri)
        try:
            yield self.base_uri
        finally:
            self.delete_queues(self.base_uri)

    @staticmethod
    def delete_queues(uri: str) -> None:
        from kombu import Connection

        with Connection(uri, connect_timeout=5) as connection:
            channel = connection.channel()
            for service in catalog.service_names():
                for queue in catalog.worker_queues(service):
                    with contextlib.suppress(Exception):
                        channel.queue_delete(queue)
                        channel = connection.channel()


def with_vhost(uri: str, vhost: str) -> str:
    return urlunparse(urlparse(uri)._replace(path=f"/{vhost}"))


def amqp_via(uri: str, port: int) -> str:
    return with_port(uri, "127.0.0.1", port)


def queue_depths(uri: str, queues: list[str]) -> dict[str, int]:
    from kombu import Connection

    found = {}
    with Connection(uri, connect_timeout=5) as connection:
        for queue in queues:
            try:
                _, messages, _ = connection.channel().queue_declare(queue, passive=True)
            except Exception:  # noqa: BLE001 - not declared
                messages = -1
            found[queue] = messages
    return found


class Capture:
    """A queue of the test's own bound to a source's event exchange: every event published, as sent."""

    def __init__(self, uri: str, source: str):
        from kombu import Connection, Queue

        from services.common.amqp import configured_namespace, event_exchange

        self.connection = Connection(uri, connect_timeout=5)
        exchange = event_exchange(source, configured_namespace())
        self.queue = Queue(f"chaos-capture-{source}-{uuid.uuid4().hex[:6]}", exchange=exchange, routing_key="#",
                           auto_delete=False, durable=False, exclusive=True)
        self.queue = self.queue(self.connection.channel())
        self.queue.declare()

    def drain(self) -> list[dict]:
        got = []
        while (message := self.queue.get(no_ack=True)) is not None:
            got.append(json.loads(message.body))
        return got

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.queue.delete()
        self.connection.release()


def publisher(uri: str):
    """Publishes events as the outbox relay does (nameko's dispatcher, publisher confirms)."""
    from services.common.amqp import NamekoTransport

    return NamekoTransport(uri)
