"""Writing the index history from the live index, in a thread of the process that serves it.

The live index marks the scopes (offices, the district) whose figures changed; once a second the
recorder writes what changed, so a burst of events costs one transaction, and no write ever sits
on the path of an event to the live streams.

Every gateway replica holds the same live index (each consumes every event), so one of them writes
the history for all: the holder of the `gateway.history` lease (services.common.leases), renewed at
each pass. The others keep serving and drop their marks; when the writer stops renewing (stopped,
killed, cut off from the database), another one takes the lease within HISTORY_WRITER_LEASE_SECONDS
and starts by writing every series once, since it did not see what the last writer wrote.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from services.common.leases import Lease
from services.gateway.domain.history import DISTRICT, History
from services.gateway.domain.live import DISTRICT as DISTRICT_CHANGE
from services.gateway.domain.live import OFFICE, SCHEME, Change, LiveIndex, View

log = logging.getLogger(__name__)

HISTORY_LEASE = "gateway.history"
DEFAULT_LEASE_SECONDS = 10.0


class Recorder:
    def __init__(self, live: LiveIndex, history: History, now: Callable[[], dt.datetime],
                 interval_seconds: float = 1.0, lease_seconds: float = DEFAULT_LEASE_SECONDS):
        self.live = live
        self.history = history
        self.now = now
        self.interval = interval_seconds
        self.lease = Lease(history.store, HISTORY_LEASE, lease_seconds)
        self.writing = False  # whether this replica held the lease at its last pass
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready: Callable[[], bool] = lambda: True
        live.subscribe(self._changed)

    def hold_until(self, ready: Callable[[], bool]) -> None:
        """Writes nothing, and takes no lease, until `ready()` (the demo district loaded in this
        process): the loading's climb is no history. The first pass after writes every series."""
        self._ready = ready

    def _changed(self, view: View, changes: list[Change]) -> None:
        with self._lock:
            for change in changes:
                if change.kind == OFFICE:
                    self._dirty.add(change.office_id)
                elif change.kind == SCHEME:
                    self._dirty.update(view.offices)
                if change.kind in (OFFICE, DISTRICT_CHANGE, SCHEME):
                    self._dirty.add(DISTRICT)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gateway-history", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Writes what is left, then hands the lease on at once rather than letting it expire."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.flush()
        if self.writing:
            self.lease.release()
            self.writing = False

    def flush(self) -> int:
        """Writes the marked scopes when this replica is the writer; returns how many points it wrote."""
        if not self._ready():
            with self._lock:
                self._dirty.clear()  # the pass after the loading writes every series anyway
            return 0
        writer = self.lease.acquire()
        if writer and not self.writing:
            log.info("this replica now writes the index history", extra={"lease": HISTORY_LEASE})
            self.history.rewrite_all()
        elif self.writing and not writer:
            log.info("another replica writes the index history now", extra={"lease": HISTORY_LEASE})
        self.writing = writer
        with self._lock:
            scopes, self._dirty = self._dirty, set()
        if not writer:
            return 0  # the writer's live index saw the same events and marks the same scopes
        try:
            return self.history.record(self.live.view, scopes, self.now())
        except Exception:
            with self._lock:
                self._dirty |= scopes
            raise

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:  # the store may be down: the marks stay for the next pass
                log.exception("history not written; retrying")
