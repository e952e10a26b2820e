"""Stores: one SQLAlchemy engine per service, SQLite by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, DateTime, Dialect, Engine, Table, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator


class TableMixin:
    """Base of the column mixins every service's tables share (outbox, trails, demo loads, ...)."""

    if TYPE_CHECKING:
        # What the declarative base gives each mapped subclass; a mixin alone has no such constructor.
        def __init__(self, **columns: Any) -> None:
            """A keyword per mapped column."""


def table_of(model: type[Any]) -> Table:
    """The table a mapped class (of a shared mixin) is stored in, for Core statements on it."""
    table: Table = model.__table__
    return table


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend.

    SQLite hands back naive values; normalising here is the one place that knows it,
    so domain code can compare datetimes without asking where they came from.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Checks the value is aware and stores it in UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use an aware UTC datetime")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """The stored value as an aware UTC datetime (SQLite's naive ones read as UTC)."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    """Now, as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


def normalise_url(url: str) -> str:
    """postgresql:// means psycopg 3 here; SQLAlchemy's default driver would be psycopg2."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def sqlite_url(data_dir: str, service: str) -> str:
    """The SQLite file of `service` under `data_dir`, the directory made when missing."""
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(data_dir) / (service + '.db')}"


# A start-up check, not a call: an address that drops packets must not hold the process for minutes.
STORE_CHECK_TIMEOUT_SECONDS = 5


def shown_url(url: str) -> str:
    """`url` fit for a log or an error message: its password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<not a database URL>"


def unreachable_reason(url: str, *, timeout_seconds: float = STORE_CHECK_TIMEOUT_SECONDS) -> str | None:
    """Why the store at `url` cannot be opened (one connection and a SELECT 1), or None when it can.

    Catches only errors of the database driver and of the URL: those are an operator's to fix (a wrong
    host, a database not created, a file in a directory one may not write); anything else is a bug and
    is raised.
    """
    url = normalise_url(url)
    try:
        if url.startswith("sqlite"):
            # sqlite3 creates a missing file: what can fail is its directory or a file that is not a database.
            engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": timeout_seconds})
        else:
            engine = create_engine(url, poolclass=NullPool,
                                   connect_args={"connect_timeout": max(1, round(timeout_seconds)),
                                                 "prepare_threshold": None})
    except (ArgumentError, ImportError, ValueError) as exc:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        # The driver's own first line says it best ("connection refused", "database ... does not exist").
        original = str(exc.orig).strip().splitlines()
        return original[0] if original else type(exc.orig).__name__
    finally:
        engine.dispose()
    return None


def make_engine(url: str, *, pool_size: int = 10, sqlite_immediate: bool = True) -> Engine:
    """An engine for `url`: SQLite in WAL mode (writers BEGIN IMMEDIATE, readers query-only) or PostgreSQL
    through psycopg 3 with pre-ping and no server-side prepared statements."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
            # pysqlite's own transaction handling is switched off so that the begin hook below
            # decides how a transaction starts.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            if not sqlite_immediate:
                cursor.execute("PRAGMA query_only=ON")  # a read session can never write by mistake
            cursor.close()

        if sqlite_immediate:
            # A writer takes the lock at BEGIN; a deferred BEGIN that reads and then writes fails
            # at once when another writer got in between.
            @event.listens_for(engine, "begin")
            def _sqlite_begin(conn: Connection) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        # The read engine issues no BEGIN: each query reads the latest committed snapshot.
        return engine
    # pre_ping: a restarted database or a dropped connection is noticed at checkout and the
    # pool reconnects, so the service answers again without a restart.
    # prepare_threshold=None: psycopg prepares a statement on the server after its fifth run on a
    # connection, and behind PgBouncer in transaction mode (Debian 12 ships 1.18, which cannot track
    # prepared statements) the next transaction may land on a server connection that lacks it, or
    # already has one of that name ("prepared statement _pg3_0 already exists"). Every statement
    # is parsed anew instead: correct with or without a pooler in front.
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         pool_recycle=1800, connect_args={"prepare_threshold": None})


class Store:
    """The engines and session factories of one service.

    On SQLite, queries use a second engine whose transactions do not take the write lock,
    so reads never queue behind writes (WAL gives them a consistent snapshot).
    """

    def __init__(self, url: str):
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.read_engine = make_engine(self.url, sqlite_immediate=False) if self.is_sqlite else self.engine
        self._writes = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time. Writers of this process queue on a lock instead of in
        # SQLite's busy handler, which sleeps in growing steps and turned contention into
        # multi-second tail latencies (bench/results). Other processes still meet the busy timeout.
        self._write_lock = threading.Lock() if self.is_sqlite else contextlib.nullcontext()
        self._reads = sessionmaker(self.read_engine, expire_on_commit=False)
        # Called after every commit with what the transaction noted in session.info (events
        # written, offices whose indicators moved): the relay and the indicator refresher wake.
        self.after_commit: list[Callable[[dict[str, Any]], None]] = []

    @property
    def is_sqlite(self) -> bool:
        """Whether the store is a SQLite file (one writer at a time) rather than PostgreSQL."""
        return self.url.startswith("sqlite")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any exception."""
        with self._write_lock, self._writes() as session:
            with session.begin():
                yield session
            if session.info:
                notes = dict(session.info)
                for listener in self.after_commit:
                    listener(notes)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries only; closing it ends the transaction and keeps loaded objects usable."""
        with self._reads() as session:
            yield session

    def dispose(self) -> None:
        """Closes every pooled connection of the store (at shutdown, or before a fork)."""
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
