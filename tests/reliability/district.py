"""The demo district in microservices mode: seeded templates, running `serve` processes, callers with
every role, and what their answers taught us (ids, offices, whole messages) to build requests from."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import grpc
import jwt
import psycopg
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from services.common import registry
from services.common.auth import issue_token
from tests.reliability import catalog, stats
from tests.reliability.catalog import Method, ServiceSpec
from tests.reliability.cluster import Databases, Fingerprint
from tests.reliability.processes import TRAIL_KEY_SETTINGS, Cluster, Process, indicator_sources
from tests.support import free_port

SECRET = "chaos-suite-secret-long-enough-for-every-hmac-algorithm-0123456789abcdef"
AUDIENCE = "supervision-cloud"

# Answers that bad input must never get (docs/architecture.md, "gRPC conventions": bad input never gets
# UNKNOWN or INTERNAL); UNAVAILABLE or a timeout here means the process died or hung on the request.
FORBIDDEN_CODES = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNIMPLEMENTED,
                   grpc.StatusCode.DATA_LOSS, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


# ------------------------------------------------------------------------------------------ tokens


def token(roles: list[str], office_id: str = "", *, secret: str = SECRET) -> str:
    return issue_token(secret, subject=f"chaos-{'-'.join(roles)}", roles=roles, office_id=office_id)


def custom_token(*, secret: str = SECRET, algorithm: str = "HS256", **claims) -> str:
    """A bureau leader's token with `claims` changed; a claim given as None is left out."""
    now = dt.datetime.now(dt.UTC)
    body = {"sub": "chaos", "roles": ["bureau_leader"], "aud": AUDIENCE, "iat": now,
            "exp": now + dt.timedelta(hours=1)}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, secret, algorithm=algorithm)


def bearer(value: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {value}"),)


@dataclass(frozen=True)
class Role:
    name: str
    metadata: tuple
    office_id: str = ""


# ------------------------------------------------------------------------------------------ calls


@dataclass
class Outcome:
    code: grpc.StatusCode
    response: Message | list[Message] | None
    details: str = ""

    @property
    def ok(self) -> bool:
        return self.code == grpc.StatusCode.OK

    def messages(self) -> list[Message]:
        if self.response is None:
            return []
        return self.response if isinstance(self.response, list) else [self.response]


STREAM_WINDOW = 2.0


def invoke(channel: grpc.Channel, method: Method, request: Message | bytes, metadata=(), timeout: float = 20.0,
           ) -> Outcome:
    """Calls a method; a server stream is read up to its first message (then cancelled), or for
    STREAM_WINDOW seconds when it stays open without sending (a live stream with nothing to say)."""
    serializer = (lambda raw: raw) if isinstance(request, bytes) else method.request_class.SerializeToString
    if method.server_streaming:
        call = channel.unary_stream(method.path, request_serializer=serializer,
                                    response_deserializer=method.response_class.FromString)
        responses: list[Message] = []
        stream = call(request, metadata=metadata, timeout=min(timeout, STREAM_WINDOW))
        try:
            for item in stream:
                responses.append(item)
                stream.cancel()
                break
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.CANCELLED and responses:
                pass
            elif error.code() == grpc.StatusCode.DEADLINE_EXCEEDED and timeout > STREAM_WINDOW:
                return Outcome(grpc.StatusCode.OK, responses, "stream open, nothing sent")
            else:
                return Outcome(error.code(), None, error.details() or "")
        return Outcome(grpc.StatusCode.OK, responses)
    call = channel.unary_unary(method.path, request_serializer=serializer,
                               response_deserializer=method.response_class.FromString)
    try:
        return Outcome(grpc.StatusCode.OK, call(request, metadata=metadata, timeout=timeout))
    except grpc.RpcError as error:
        return Outcome(error.code(), None, error.details() or "")


# ------------------------------------------------------------------------------------------ harvest


def walk(message: Message, visit) -> None:
    """Calls visit(message) for the message and every message nested in it."""
    visit(message)
    for descriptor, value in message.ListFields():
        if descriptor.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if descriptor.message_type.GetOptions().map_entry:
            values = value.values() if descriptor.message_type.fields_by_name["value"].message_type else []
        elif descriptor.is_repeated:
            values = value
        else:
            values = [value]
        for item in values:
            walk(item, visit)


# What an office user may see of every office: the ranking (the design's live index ranks the offices
# of the district). A foreign office in one of these messages is allowed as long as the message carries
# nothing but these fields; dimensions, indicators or records of another office are not.
RANKING_SUMMARIES: dict[str, set[str]] = {
    "supervision.gateway.v1.OfficeIndex": {"office_id", "office_name", "index", "rank", "scheme_version",
                                           "update_time"},
}


def names_record_of(message: Message, harvest: Harvest, office: str) -> bool:
    """Whether a request names (by id) a harvested record that belongs to `office`."""
    named: list[bool] = []

    def visit(m: Message) -> None:
        for descriptor, value in m.ListFields():
            if descriptor.type != FieldDescriptor.TYPE_STRING:
                continue
            values = value if descriptor.is_repeated else [value]
            if descriptor.name == "subject":  # "case/<id>": the record whose trail or document it is
                named.extend(harvest.office_of.get(v.partition("/")[2]) == office for v in values)
            elif descriptor.name == "id" or descriptor.name.endswith(("_id", "_ids")):
                named.extend(harvest.office_of.get(v) == office for v in values)

    walk(message, visit)
    return any(named)


def office_ids_in(message: Message, own: str = "") -> set[str]:
    """Every office a message speaks of (its `office_id` fields, the id of an Office), except offices
    shown only as a ranking summary."""
    found: set[str] = set()

    def visit(m: Message) -> None:
        fields = m.DESCRIPTOR.fields_by_name
        summary = RANKING_SUMMARIES.get(m.DESCRIPTOR.full_name)
        if summary is not None and {f.name for f, _ in m.ListFields()} <= summary:
            return
        if "office_id" in fields and fields["office_id"].type == FieldDescriptor.TYPE_STRING \
                and not fields["office_id"].is_repeated and m.office_id:
            found.add(m.office_id)
        if m.DESCRIPTOR.name == "Office" and "id" in fields and m.id:
            found.add(m.id)

    walk(message, visit)
    return found - {own} if own else found


class Harvest:
    """Values seen in answers, by field name, and whole messages, by type: the raw material of requests
    that get past validation (an existing id, a real office, a complaint as the service stored it)."""

    MAX_VALUES = 40
    MAX_MESSAGES = 12

    def __init__(self) -> None:
        self.values: dict[str, list] = defaultdict(list)
        self.messages: dict[str, list[bytes]] = defaultdict(list)
        self.office_of: dict[str, str] = {}  # resource id -> its office
        self.ids_of_type: dict[str, list[str]] = defaultdict(list)  # message type name -> ids seen

    def absorb(self, message: Message) -> None:
        def visit(m: Message) -> None:
            data = m.SerializeToString()
            bucket = self.messages[m.DESCRIPTOR.full_name]
            if len(data) < 200_000 and data not in bucket and len(bucket) < self.MAX_MESSAGES:
                bucket.append(data)
            fields = m.DESCRIPTOR.fields_by_name
            if "id" in fields and fields["id"].type == FieldDescriptor.TYPE_STRING and m.id:
                bucket = self.ids_of_type[m.DESCRIPTOR.name]
                if m.id not in bucket and len(bucket) < self.MAX_VALUES:
                    bucket.append(m.id)
                if "office_id" in fields and fields["office_id"].type == FieldDescriptor.TYPE_STRING \
                        and not fields["office_id"].is_repeated and m.office_id:
                    self.office_of.setdefault(m.id, m.office_id)
            for descriptor, value in m.ListFields():
                if descriptor.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP):
                    continue
                items = list(value) if descriptor.is_repeated else [value]
                bucket = self.values[descriptor.name]
                for item in items:
                    if isinstance(item, str | bytes) and (not item or len(item) > 300):
                        continue
                    if item not in bucket and len(bucket) < self.MAX_VALUES:
                        bucket.append(item)

        walk(message, visit)

    def merge(self, other: Harvest) -> Harvest:
        for key, values in other.values.items():
            bucket = self.values[key]
            bucket += [v for v in values if v not in bucket][: max(0, self.MAX_VALUES - len(bucket))]
        for key, items in other.messages.items():
            bucket = self.messages[key]
            bucket += [m for m in items if m not in bucket][: max(0, self.MAX_MESSAGES - len(bucket))]
        for key, ids in other.ids_of_type.items():
            bucket = self.ids_of_type[key]
            bucket += [i for i in ids if i not in bucket][: max(0, self.MAX_VALUES - len(bucket))]
        for key, office in other.office_of.items():
            self.office_of.setdefault(key, office)
        return self

    def snapshot(self) -> Harvest:
        """A frozen copy: a hypothesis run draws from it while answers keep feeding the original."""
        copy = Harvest()
        copy.values = defaultdict(list, {k: list(v) for k, v in self.values.items()})
        copy.messages = defaultdict(list, {k: list(v) for k, v in self.messages.items()})
        copy.office_of = dict(self.office_of)
        copy.ids_of_type = defaultdict(list, {k: list(v) for k, v in self.ids_of_type.items()})
        return copy

    def offices(self) -> list[str]:
        ids = {v for v in self.values.get("office_id", []) if isinstance(v, str)}
        ids |= {i for i in self.office_of.values()}
        return sorted(i for i in ids if i and not i.startswith("_"))


# ------------------------------------------------------------------------------------------ seeding


TEMPLATE_PREFIX = "chaostpl_"
TEMPLATE_LOCK = 7_700_770  # pg_advisory_lock key: one session seeds, the others wait and reuse
STALE_AFTER_SECONDS = 6 * 3600


def _sources_key() -> str:
    """Changes whenever anything the demo district is made of changes (code, rules, demo data,
    migrations, the list of services) or the day changes (the demo is dated relative to today)."""
    from services.common.clock import shanghai_today

    digest = hashlib.sha256(f"{registry.names()}|{shanghai_today().isoformat()}".encode())
    for path in sorted((catalog.ROOT / "services").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(catalog.ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def seed_templates(admin_url: str) -> dict[str, str]:
    """The demo district as `make run` loads it (monolith.start with demo data, events through the
    in-process bus), each service on a PostgreSQL database of its own, kept as templates.

    Loading takes a minute on PostgreSQL, so the templates are kept between runs under a name made
    from a hash of services/ and today's date: a run with unchanged code reuses them (CHAOS_RESEED=1
    forces a new load). Templates of other keys are dropped after six hours."""
    key = _sources_key()
    names = {service: f"{TEMPLATE_PREFIX}{key}_{service}"[:63] for service in catalog.service_names()}
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (TEMPLATE_LOCK,))
        try:
            complete = {row[0] for row in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s "
                "AND shobj_description(oid, 'pg_database') LIKE 'complete %%'", (f"{TEMPLATE_PREFIX}{key}_%",))}
            if set(names.values()) <= complete and os.environ.get("CHAOS_RESEED") != "1":
                return names
            for name in names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                conn.execute(f'CREATE DATABASE "{name}"')
            _load_demo({s: urlunparse(urlparse(admin_url)._replace(path=f"/{n}")) for s, n in names.items()})
            for name in names.values():
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
                conn.execute(f"COMMENT ON DATABASE \"{name}\" IS 'complete {int(time.time())}'")
            _drop_stale(conn, key)
            return names
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (TEMPLATE_LOCK,))


def _load_demo(urls: dict[str, str]) -> None:
    """`make run`'s demo district (monolith.start with demo data, SQLite stores under a temporary
    DATA_DIR), then each service's store copied into its migrated PostgreSQL database. Loading straight
    into PostgreSQL takes four times as long (thousands of small transactions, each a round trip)."""
    import tempfile

    from services import monolith
    from tests.conftest import make_settings

    saved = {key: os.environ.pop(key) for key in list(os.environ) if key.endswith("_DATABASE_URL")}
    try:
        with tempfile.TemporaryDirectory(prefix="chaos-demo-") as data_dir:
            hosted = monolith.start(make_settings(DATA_DIR=data_dir, DEMO_DATA="true", **TRAIL_KEY_SETTINGS),
                                    host="127.0.0.1",
                                    ports=dict.fromkeys(registry.names(), 0))
            for service in hosted:
                service.stop(0.5)
                service.runtime.store.dispose()
            for name, url in urls.items():
                _copy_store(name, f"sqlite:///{Path(data_dir) / (name + '.db')}", url)
    finally:
        os.environ.update(saved)


def _copy_store(service: str, source_url: str, target_url: str) -> None:
    """Every row of the service's tables, from its SQLite store into its migrated PostgreSQL database,
    through the models' own column types (times stay aware UTC, JSON stays JSON)."""
    import importlib

    from sqlalchemy import create_engine, func, inspect, select, text

    from services.common import migrate
    from services.common.db import normalise_url

    migrate.upgrade(service, catalog.ROOT / "services" / service / "migrations", normalise_url(target_url))
    module = importlib.import_module(f"services.{service}.models")
    metadata = {m.metadata for m in vars(module).values() if isinstance(m, type) and hasattr(m, "__table__")}
    tables = {t.name: t for md in metadata for t in md.sorted_tables}
    source = create_engine(source_url)
    target = create_engine(normalise_url(target_url))
    try:
        stored = {t for t in inspect(source).get_table_names() if not t.startswith("alembic_version")}
        assert stored <= set(tables), f"{service}: tables without a model, not copied: {stored - set(tables)}"
        ordered = [t for md in metadata for t in md.sorted_tables if t.name in stored]
        with source.connect() as reading, target.begin() as writing:
            # Migrations may have put rows of their own (a counter's first row): the copy replaces them.
            writing.execute(text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in ordered) + " CASCADE"))
            for table in ordered:
                rows = [dict(r) for r in reading.execute(select(table)).mappings()]
                for start in range(0, len(rows), 1000):
                    writing.execute(table.insert(), rows[start:start + 1000])
                for column in table.primary_key.columns:
                    if column.autoincrement is True or (column.autoincrement == "auto" and
                                                         column.type.python_type is int and
                                                         len(table.primary_key.columns) == 1):
                        highest = writing.execute(select(func.max(column))).scalar()
                        if highest is not None:
                            writing.execute(text("SELECT setval(pg_get_serial_sequence(:t, :c), :n)"),
                                            {"t": table.name, "c": column.name, "n": highest})
    finally:
        source.dispose()
        target.dispose()


def _drop_stale(conn, key: str) -> None:
    for name, comment in conn.execute(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname LIKE %s "
            "AND datname NOT LIKE %s", (f"{TEMPLATE_PREFIX}%", f"{TEMPLATE_PREFIX}{key}_%")).fetchall():
        made = int(comment.split()[1]) if comment and comment.startswith("complete ") else 0
        if time.time() - made > STALE_AFTER_SECONDS:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ------------------------------------------------------------------------------------------ the district


@dataclass
class Target:
    """One service of the district: its API process, its store and a fingerprint of the store."""

    spec: ServiceSpec
    database_url: str
    api: Process
    fingerprint: Fingerprint | None

    def call(self, method: Method, request: Message | bytes, metadata=(), timeout: float = 20.0) -> Outcome:
        return invoke(self.api.channel, method, request, metadata, timeout)


# Pages of each list the district's harvest reads (50 records each by default).
LEARN_PAGES = 10


def next_page_token(outcome: Outcome) -> str:
    """The next page's token of a successful List answer, else empty."""
    if not outcome.ok or not isinstance(outcome.response, Message):
        return ""
    return getattr(outcome.response, "next_page_token", "") if "next_page_token" in \
        outcome.response.DESCRIPTOR.fields_by_name else ""


@dataclass
class District:
    cluster: Cluster
    targets: dict[str, Target]
    harvest: Harvest = field(default_factory=Harvest)
    own_office: str = ""
    other_office: str = ""
    vhosts: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @classmethod
    def start(cls, templates: dict[str, str], databases: Databases, cluster: Cluster, broker) -> District:
        """Every service on a copy of its seeded store, each in a RabbitMQ virtual host of its own: no
        event reaches another process, so a store changes only through the calls made to it."""
        targets: dict[str, Target] = {}
        vhosts = contextlib.ExitStack()
        try:
            ports = {service: free_port() for service in catalog.service_names()}
            for service in catalog.service_names():
                url = databases.create(service, template=templates[service])
                api = cluster.serve(service, url, wait=False, grpc_port=ports[service],
                                    amqp_uri=vhosts.enter_context(broker.vhost()), AUTH_MODE="jwt",
                                    JWT_SECRET=SECRET, RECONCILE_INTERVAL_SECONDS="3600",
                                    **indicator_sources(ports))
                targets[service] = Target(catalog.spec(service), url, api, None)
            for target in targets.values():
                target.api.wait_serving()
            district = cls(cluster, targets, vhosts=vhosts)
            district.learn()
            district.settle()
            return district
        except BaseException:
            cluster.close()
            vhosts.close()
            raise

    def settle(self, quiet_seconds: float = 2.0) -> None:
        """Fingerprints each store; a table that changes while nobody calls (a recorder, a refresher
        catching up) is left out of the fingerprint."""
        for target in self.targets.values():
            target.fingerprint = Fingerprint(target.database_url)
        first = {name: target.fingerprint.by_table() for name, target in self.targets.items()}
        time.sleep(quiet_seconds)
        for name, target in self.targets.items():
            moving = {t for t, v in target.fingerprint.by_table().items() if first[name].get(t) != v}
            if moving:
                target.fingerprint.close()
                target.fingerprint = Fingerprint(target.database_url, exclude=moving)
                stats.note("tables left out of fingerprints (change on their own)", f"{name}: {sorted(moving)}")

    @property
    def leader(self) -> Role:
        return Role("bureau_leader", bearer(token(["bureau_leader"])))

    @property
    def auditor(self) -> Role:
        return Role("auditor", bearer(token(["auditor"])))

    def office_user(self, role: str = "office_head", office_id: str | None = None) -> Role:
        office_id = office_id or self.own_office
        return Role(role, bearer(token([role], office_id)), office_id)

    def learn(self) -> None:
        """Every method with an empty request as the bureau leader, lists followed page by page (up
        to LEARN_PAGES): what the district holds. Only the first page would miss every record of an
        office whose ids happen to sort late, and the access tests would then aim at the caller's own
        office's records instead of another's."""
        for target in self.targets.values():
            for method in target.spec.methods:
                request = method.request_class()
                for _ in range(LEARN_PAGES):
                    outcome = target.call(method, request, self.leader.metadata)
                    for message in outcome.messages():
                        self.harvest.absorb(message)
                    token = next_page_token(outcome)
                    if not token:
                        break
                    request = method.request_class()
                    request.page_token = token
        offices = self.harvest.offices()
        assert len(offices) >= 2, f"the demo district should have offices, found {offices}"
        self.own_office, self.other_office = offices[0], offices[1]

    def close(self) -> None:
        for target in self.targets.values():
            with contextlib.suppress(Exception):
                target.fingerprint.close()
        self.cluster.close()
        self.vhosts.close()
