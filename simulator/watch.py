"""Watching the dashboard's live stream (GET /api/v1/stream, server-sent events) while the district
works: how many index changes reached a client, which is what makes a dashboard alive. Reported,
not judged: a change the index absorbs (the same score again) is rightly not sent."""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections import Counter

log = logging.getLogger("simulator")
READ_TIMEOUT_SECONDS = 60.0  # beyond the stream's keep-alive (15 s by default)


class StreamWatcher:
    def __init__(self, base_url: str):
        self.url = base_url + "/api/v1/stream"
        self.events: Counter[str] = Counter()
        self.error = ""
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stream-watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            with urllib.request.urlopen(self.url, timeout=READ_TIMEOUT_SECONDS) as response:  # our own gateway
                # One line at a time until the stream ends or stop() closes it.
                for raw in response:
                    if self._stopped.is_set():
                        return
                    line = raw.decode("utf-8", "replace")
                    if line.startswith("event: "):
                        self.events[line[7:].strip()] += 1
        except (OSError, ValueError) as error:
            if not self._stopped.is_set():
                self.error = str(error)
                log.info("the live stream ended: %s", error)

    @property
    def changes(self) -> int:
        """Office and district index changes (the first snapshot not counted)."""
        return self.events["office"] + self.events["district"]

    def stop(self) -> None:
        """Stops counting. The reading thread is not joined: it may be blocked in a read until the
        next keep-alive (closing the response from here would block on that read too); it is a
        daemon and ends with the stream or the process."""
        self._stopped.set()
