"""Sweeps and stores behind a real PgBouncer in transaction mode (Debian's package), where every
transaction may run on another server connection: nothing may live in a session between them."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from services.common import migrate
from services.common.consumer import Timer, run_timer
from services.common.db import Store
from services.common.leases import Lease
from tests.conftest import _unavailable
from tests.support import free_port

REPLICAS = 3
ROUNDS = 12
# run_timer's interval in these tests; a timer's lease lasts 2.5 of them. Rounds follow each other
# much faster than that, so a slow moment of a loaded machine does not pass the lease around.
INTERVAL_SECONDS = 0.8
LEASE_SECONDS = 2.5 * INTERVAL_SECONDS
LOCK_KEY = 424242
REPOSITORY = Path(__file__).resolve().parents[2]


def _pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or next(
        (path for path in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.access(path, os.X_OK)), None)
    if found is None:
        _unavailable("PgBouncer", "no pgbouncer executable (apt-get install -y pgbouncer)")
    return found


@pytest.fixture
def bouncer_url(postgres_database, tmp_path):
    """The test database through a PgBouncer of its own: transaction pooling, several server
    connections, so consecutive transactions of one client may land on different ones."""
    binary = _pgbouncer_binary()
    database = urlparse(postgres_database)
    name = database.path.lstrip("/")
    port = free_port()
    folder = tmp_path / "pgbouncer"
    folder.mkdir()
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(f"""[databases]
{name} = host=127.0.0.1 port={database.port or 5432} dbname={name}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "users.txt"}
pool_mode = transaction
default_pool_size = 6
max_client_conn = 200
""")
    command = [binary, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        # PgBouncer refuses to run as root; it drops to the database's system user instead.
        user = pwd.getpwnam("postgres")
        for path in (folder, folder / "users.txt", folder / "pgbouncer.ini"):
            os.chown(path, user.pw_uid, user.pw_gid)
        os.chmod(tmp_path, 0o755)
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode(errors="replace") if process.poll() is not None else ""
                    _unavailable("PgBouncer", f"did not start: {output[-2000:]}")
                time.sleep(0.1)
        yield database._replace(netloc=f"{database.username or 'postgres'}@127.0.0.1:{port}").geturl()
    finally:
        process.terminate()
        process.wait(10)


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def test_a_session_advisory_lock_leaks_behind_pgbouncer(bouncer_url, postgres_database):
    """Why sweeps take leases: the pattern they used before (lock in one transaction, unlock in
    another) leaves the lock on a server connection the client no longer has."""
    locker = psycopg.connect(_psycopg_url(bouncer_url), prepare_threshold=None)
    occupier = psycopg.connect(_psycopg_url(bouncer_url), prepare_threshold=None)
    try:
        assert locker.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]
        locker.commit()
        # Another client's transaction takes the server connection that holds the lock (PgBouncer
        # hands out the most recently used one first), so the unlock runs on a different one.
        occupier.execute("SELECT 1")
        unlocked = locker.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,)).fetchone()[0]
        locker.commit()
        occupier.commit()
        with psycopg.connect(_psycopg_url(postgres_database), autocommit=True) as elsewhere:
            taken = elsewhere.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]
    finally:
        locker.close()
        occupier.close()
    assert (unlocked, taken) == (False, False)


def test_the_store_survives_transaction_pooling(bouncer_url):
    """The same statement run often on each connection: psycopg would prepare it on the server, and
    the next transaction finds it missing, or present twice, on another server connection."""
    store = Store(bouncer_url)
    errors: list[str] = []

    def client() -> None:
        try:
            for _ in range(40):
                with store.transaction() as session:
                    session.execute(text("SELECT count(*) FROM pg_class WHERE relname = :name"), {"name": "leases"})
        except DBAPIError as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:300])

    threads = [threading.Thread(target=client) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        store.dispose()
    assert errors == []


def test_a_transaction_advisory_lock_is_released_at_commit_behind_pgbouncer(bouncer_url, postgres_database):
    """hash_chain's lock (pg_advisory_xact_lock) ends with its transaction, wherever that ran."""
    store = Store(bouncer_url)
    try:
        for _ in range(5):
            with store.transaction() as session:
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        with psycopg.connect(_psycopg_url(postgres_database), autocommit=True) as elsewhere:
            assert elsewhere.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]
    finally:
        store.dispose()


def _migrated(url: str) -> None:
    """complaints' schema, its migrations run through PgBouncer too."""
    migrate.upgrade("complaints", REPOSITORY / "services" / "complaints" / "migrations", url)


def _round(stores: list[Store], runs: list[int]) -> list[int]:
    """Every replica runs the sweep's timer at once; returns which of them swept."""
    before = len(runs)
    barrier = threading.Barrier(len(stores))

    def tick(replica: int, store: Store) -> None:
        barrier.wait()
        run_timer("complaints", Timer("sweep", lambda: runs.append(replica)), store, INTERVAL_SECONDS)

    threads = [threading.Thread(target=tick, args=(i, s)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return runs[before:]


def test_one_replica_sweeps_each_round_through_pgbouncer(bouncer_url):
    _migrated(bouncer_url)
    stores = [Store(bouncer_url) for _ in range(REPLICAS)]
    runs: list[int] = []
    try:
        rounds = []
        for _ in range(ROUNDS):
            rounds.append(_round(stores, runs))
            time.sleep(0.05)
    finally:
        for store in stores:
            store.dispose()
    # Exactly one sweep per round, and by the same replica: the holder renews its lease each round.
    assert [len(swept) for swept in rounds] == [1] * ROUNDS
    assert len(set(runs)) == 1


def test_a_killed_holder_does_not_stop_the_sweep(bouncer_url):
    """A holder killed mid-sweep (SIGKILL: no release) frees the lease once it expires."""
    _migrated(bouncer_url)
    holder = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
from services.common.consumer import Timer, run_timer
from services.common.db import Store
run_timer("complaints", Timer("sweep", lambda: (print("sweeping", flush=True), time.sleep(600))),
          Store({bouncer_url!r}), {INTERVAL_SECONDS})
"""], cwd=REPOSITORY, stdout=subprocess.PIPE, text=True)
    stores = [Store(bouncer_url) for _ in range(REPLICAS)]
    runs: list[int] = []
    try:
        assert holder.stdout.readline().strip() == "sweeping"
        while_held = _round(stores, runs)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        killed_at = time.monotonic()
        rounds: list[list[int]] = []
        # Until the lease has expired and five rounds more, or at most three lease durations.
        while time.monotonic() - killed_at < 3 * LEASE_SECONDS and not (
                len(runs) >= 5 and all(rounds[-5:])):
            rounds.append(_round(stores, runs))
            time.sleep(0.05)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(10)
        for store in stores:
            store.dispose()
    assert while_held == []
    swept = [len(r) for r in rounds]
    first = next((i for i, n in enumerate(swept) if n), None)
    assert first is not None, "no replica took the sweep over after its holder was killed"
    assert swept[first:] == [1] * len(swept[first:])


def test_a_holder_that_exits_cleanly_hands_the_sweep_on_at_once(bouncer_url):
    """A rolling restart: the old worker's sweep lease goes back at its exit, not after it expires."""
    _migrated(bouncer_url)
    finished = subprocess.run([sys.executable, "-c", f"""
from services.common.consumer import Timer, run_timer
from services.common.db import Store
run_timer("complaints", Timer("sweep", lambda: print("swept", flush=True)), Store({bouncer_url!r}), 60)
"""], cwd=REPOSITORY, capture_output=True, text=True, timeout=60)
    assert finished.stdout.strip() == "swept", finished.stderr
    store = Store(bouncer_url)
    runs: list[int] = []
    try:
        assert _round([store], runs) == [0]
    finally:
        store.dispose()


def test_a_released_lease_is_taken_at_once(bouncer_url):
    _migrated(bouncer_url)
    first, second = Store(bouncer_url), Store(bouncer_url)
    try:
        mine = Lease(first, "complaints.sweep", 60, holder="first")
        theirs = Lease(second, "complaints.sweep", 60, holder="second")
        assert (mine.acquire(), theirs.acquire(), mine.acquire()) == (True, False, True)
        mine.release()
        assert (theirs.acquire(), mine.acquire()) == (True, False)
        # A turn (claim) is taken only when free, even by the one who had it last.
        turn = Lease(first, "gateway.reconcile", 60, holder="first")
        assert (turn.claim(), turn.claim(), Lease(second, "gateway.reconcile", 60, holder="second").claim()) == (
            True, False, False)
    finally:
        first.dispose()
        second.dispose()
