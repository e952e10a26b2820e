"""Writing the index history from the live index, in a thread of the process that serves it.

The live index marks the scopes (offices, the district) whose figures changed; once a second the
recorder writes what changed, so a burst of events costs one transaction, and no write ever sits
on the path of an event to the live streams.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from services.gateway.domain.history import DISTRICT, History
from services.gateway.domain.live import DISTRICT as DISTRICT_CHANGE
from services.gateway.domain.live import OFFICE, SCHEME, Change, LiveIndex, View

log = logging.getLogger(__name__)


class Recorder:
    def __init__(self, live: LiveIndex, history: History, now: Callable[[], dt.datetime],
                 interval_seconds: float = 1.0):
        self.live = live
        self.history = history
        self.now = now
        self.interval = interval_seconds
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        live.subscribe(self._changed)

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
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        self.flush()

    def flush(self) -> int:
        with self._lock:
            scopes, self._dirty = self._dirty, set()
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
