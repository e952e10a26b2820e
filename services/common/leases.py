"""Leases: one replica among many does a piece of periodic work (a sweep, the gateway's history).

A lease is a row `leases(name, holder, expires_at)` in the service's own store, taken or renewed by
one conditional UPSERT: the row becomes ours when it is missing, already ours, or expired. Nothing
lives in a database session between statements, which is why this and not an advisory lock:

- A session-level `pg_try_advisory_lock` taken in one transaction and released in another breaks
  behind PgBouncer in transaction mode: the unlock may run on another server connection, the lock
  stays with the first one for as long as PgBouncer keeps it open, and that sweep stops on every
  replica.
- A transaction-level `pg_try_advisory_xact_lock` would be safe there, but only for work done in
  the same transaction on the same connection; the sweeps open transactions of their own (one per
  record, so a failing record does not undo the others), and the gateway writes history from another
  thread than the one that would hold the lock.

A lease also expires on its own: a holder that was killed, or cut off from the database, frees it
after `seconds` without anyone's help. Time is the database's clock (`clock_timestamp()`), so
replicas whose clocks disagree still agree on who holds a lease.

SQLite has one process per file (the monolith): every lease is always this process's.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import logging
import os
import socket
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import String, TextClause, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Store, TableMixin, UTCDateTime

log = logging.getLogger(__name__)

# A timer's lease lasts this many sweep intervals and is renewed at each of the holder's runs: the
# holder keeps sweeping round after round (exactly one replica runs per round), survives one late
# tick, and when it dies another replica takes over within this many intervals.
TIMER_LEASE_INTERVALS = 2.5
# At a clean exit, the leases a process keeps between runs are released within this time, so a
# rolling restart does not leave the sweeps waiting for them to expire.
RELEASE_AT_EXIT_SECONDS = 3.0
# While a run lasts, its lease is renewed this many times per lease duration, so a sweep longer than
# the lease is never run by a second replica at the same time.
RENEWALS_PER_LEASE = 3

_UPSERT = """
    INSERT INTO leases (name, holder, expires_at)
    VALUES (:name, :holder, clock_timestamp() + make_interval(secs => :seconds))
    ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
    WHERE {free}
    RETURNING holder
"""
# Taken when free, or renewed when ours.
TAKE = text(_UPSERT.format(free="leases.holder = EXCLUDED.holder OR leases.expires_at <= clock_timestamp()"))
# Taken only when free: a turn at shared work that should pass among the replicas.
CLAIM = text(_UPSERT.format(free="leases.expires_at <= clock_timestamp()"))
RELEASE = text("DELETE FROM leases WHERE name = :name AND holder = :holder")


class LeaseMixin(TableMixin):
    """Who holds each lease of this service, and until when (services.common.leases)."""

    __tablename__ = "leases"

    # "<service>.<work>", e.g. complaints.sweep_complaint_deadlines or gateway.history.
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    # The process holding it (host, pid and a random part: a restarted process is a new holder).
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


def new_holder() -> str:
    """A holder's name: host and pid for the operator, and a random part so that it is unique even
    when pods reuse host names and pids."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


# One holder per store: a store is one process's view of its database (a replica), and tests run
# several replicas in one process.
_holders: weakref.WeakKeyDictionary[Store, str] = weakref.WeakKeyDictionary()
_holders_lock = threading.Lock()


def holder_of(store: Store | None) -> str:
    """The holder name this store's leases are taken under."""
    if store is None:
        return "local"
    with _holders_lock:
        return _holders.setdefault(store, new_holder())


class Lease:
    """One named lease of a store, as seen by one holder."""

    def __init__(self, store: Store | None, name: str, seconds: float, holder: str | None = None):
        self.store = store
        self.name = name
        self.seconds = seconds
        self.holder = holder or holder_of(store)

    @property
    def always_mine(self) -> bool:
        """Whether the lease needs no taking: no shared store, or SQLite (one process writes it)."""
        return self.store is None or self.store.is_sqlite

    def acquire(self) -> bool:
        """Takes the lease, or renews it when it is ours, for `seconds`; False while another holds it."""
        return self._take(TAKE)

    def claim(self) -> bool:
        """Takes the lease for `seconds` only when it is free (missing or expired), even when the
        last holder was this one: one turn at work that any replica may do, at most one per lease."""
        return self._take(CLAIM)

    def _take(self, statement: TextClause) -> bool:
        if self.store is None or self.always_mine:
            return True
        with self.store.transaction() as session:
            taken = session.execute(statement, {"name": self.name, "holder": self.holder,
                                                "seconds": self.seconds}).scalar_one_or_none()
        return taken is not None

    def release(self) -> None:
        """Gives the lease up at once (a clean stop), so another replica need not wait for it to expire."""
        if self.store is None or self.always_mine:
            return
        with self.store.transaction() as session:
            session.execute(RELEASE, {"name": self.name, "holder": self.holder})

    def release_at_exit(self) -> None:
        """Releases the lease when the process exits cleanly (it is kept between runs otherwise)."""
        if not self.always_mine:
            with _holders_lock:
                _kept_until_exit[(id(self.store), self.name)] = self

    @contextmanager
    def kept(self) -> Iterator[None]:
        """Renews the lease in the background while the block runs (work that may outlast it)."""
        if self.always_mine:
            yield
            return
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.seconds / RENEWALS_PER_LEASE):
                try:
                    if not self.acquire():
                        log.error("lease lost while its work was running", extra={"lease": self.name})
                except Exception:  # the store may be away for a moment; the next renewal tries again
                    log.warning("lease not renewed; retrying", extra={"lease": self.name}, exc_info=True)

        renewer = threading.Thread(target=renew, name=f"lease-{self.name}", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()


_kept_until_exit: dict[tuple[int, str], Lease] = {}


def _release_kept_leases() -> None:
    """At exit: every lease kept between runs goes back, in a thread so that an unreachable store
    cannot hold the exit up for longer than RELEASE_AT_EXIT_SECONDS."""
    with _holders_lock:
        leases = list(_kept_until_exit.values())
        _kept_until_exit.clear()
    if not leases:
        return

    def release_all() -> None:
        for lease in leases:
            # Not logged: logging may be shut down by now; an unreleased lease expires by itself.
            with contextlib.suppress(SQLAlchemyError):
                lease.release()

    releaser = threading.Thread(target=release_all, name="lease-release", daemon=True)
    releaser.start()
    releaser.join(RELEASE_AT_EXIT_SECONDS)


atexit.register(_release_kept_leases)
