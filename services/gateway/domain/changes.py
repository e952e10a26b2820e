"""The numbered log of the live index's changes, behind the live streams (SSE and WatchIndices).

Every change gets the next sequence number; the last `size` are kept, so a client that lost its
connection names the last change it received (SSE Last-Event-ID, WatchIndices resume_after) and
continues right after it, without a gap and without a repeat. A position older than the buffer, or
issued by another process (ids carry the process's epoch), cannot be continued: the client then
starts again from a snapshot, told so by a reset.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from time import monotonic

from services.common.errors import InvalidArgument
from services.gateway.domain.live import Change, View

_POSITION = re.compile(r"^([0-9a-f]{8})\.([0-9]{1,18})$")


@dataclass(frozen=True)
class Entry:
    """One change of the live index with its sequence number and when it was made."""

    seq: int
    time: dt.datetime
    change: Change
    # Renderings of this change by the transports, made once per change and visibility:
    # (transport, detail) -> the encoded change.
    rendered: dict[tuple[str, bool], bytes] = field(default_factory=dict, compare=False, repr=False)
    # When the change entered the log (time.monotonic()): the live stream's push latency is measured from it.
    # (`monotonic` imported by name: the field `time` above shadows the module in this class body.)
    recorded: float = field(default_factory=monotonic, compare=False, repr=False)


@dataclass(frozen=True)
class Snapshot:
    """The live index's view together with the position of the last change it includes."""

    view: View
    seq: int


class ChangeLog:
    """The numbered, bounded log of the live index's changes that the live streams read and resume from."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.epoch = secrets.token_hex(4)
        self._entries: deque[Entry] = deque(maxlen=size)
        self._seq = 0
        self._latest: Snapshot | None = None
        self._changed = threading.Condition()
        # Called (outside the lock) after changes were appended: event loops wake their clients.
        self.wakers: list[Callable[[], None]] = []

    def record(self, view: View, changes: list[Change]) -> None:
        """The live index's listener: called in the order the changes were made."""
        with self._changed:
            for change in changes:
                self._seq += 1
                self._entries.append(Entry(self._seq, view.updated_at, change))
            self._latest = Snapshot(view, self._seq)
            self._changed.notify_all()
        for wake in list(self.wakers):
            wake()

    def snapshot(self, fallback: View) -> Snapshot:
        """The current view and the position it corresponds to, taken together."""
        with self._changed:
            return self._latest or Snapshot(fallback, self._seq)

    @property
    def seq(self) -> int:
        """The sequence number of the last change recorded."""
        return self._seq

    def position(self, seq: int) -> str:
        """The id a client gets for a change (SSE id, IndexChange.id): this process's epoch and the number."""
        return f"{self.epoch}.{seq}"

    def parse(self, position: str, field_name: str) -> int | None:
        """The sequence number a client's position names; None when it cannot be continued here
        (another process's, or fallen out of the buffer). Malformed: INVALID_ARGUMENT."""
        match = _POSITION.match(position.strip())
        if match is None:
            raise InvalidArgument.of(field_name, f"{position[:40]!r} is not an id this gateway issued")
        epoch, seq = match.group(1), int(match.group(2))
        if epoch != self.epoch:
            return None
        with self._changed:
            if seq > self._seq:
                raise InvalidArgument.of(field_name, f"{position} is ahead of the last change ({self._seq})")
            oldest = self._entries[0].seq if self._entries else self._seq + 1
            if seq < oldest - 1:
                return None
        return seq

    def after(self, seq: int, limit: int = 1000) -> list[Entry] | None:
        """The entries after `seq` (at most `limit`); None when some of them are gone already."""
        with self._changed:
            if seq >= self._seq:
                return []
            oldest = self._entries[0].seq if self._entries else self._seq + 1
            if seq < oldest - 1:
                return None
            start = seq - oldest + 1
            return [self._entries[i] for i in range(start, min(len(self._entries), start + limit))]

    def wait_after(self, seq: int, timeout: float) -> bool:
        """Blocks a thread until a change after `seq` exists (True) or the timeout passed."""
        with self._changed:
            return self._changed.wait_for(lambda: self._seq > seq, timeout)
