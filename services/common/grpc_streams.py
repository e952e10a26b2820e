"""The cap on open streaming calls: a streaming call holds a server thread for as long as it stays
open, so the server admits only so many of them, in all and per connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class StreamsFull(Exception):
    """A streaming call refused because it would take a thread that unary calls need."""


class StreamGate:
    """Counts the open streaming calls, in all and per connection, and refuses one beyond either cap.

    A streaming call holds a server thread for as long as it stays open (an idle health watch or
    reflection stream too): without a cap, a few idle streams take every thread and unary calls and
    health checks wait behind them until their deadline. Token-less streams (health, reflection) may
    take only half of the slots, so anonymous callers cannot crowd out the streams of signed-in ones.
    """

    def __init__(self, max_streams: int, max_per_connection: int):
        self.max_streams = max_streams
        self.max_open_streams = (max_streams + 1) // 2
        self.max_per_connection = max_per_connection
        self._lock = threading.Lock()
        self._open = 0
        self._open_tokenless = 0
        self._by_connection: dict[str, int] = {}

    def enter(self, connection: str, tokenless: bool) -> Callable[[], None]:
        """Takes a slot for one stream or raises StreamsFull; returns the function that gives it back."""
        with self._lock:
            held = self._by_connection.get(connection, 0)
            if held >= self.max_per_connection:
                raise StreamsFull(f"this connection already has its maximum of {self.max_per_connection} "
                                  "streaming calls open (GRPC_MAX_STREAMS_PER_CONNECTION); close one first")
            if self._open >= self.max_streams:
                raise StreamsFull(f"this server already serves its maximum of {self.max_streams} streaming "
                                  "calls (GRPC_MAX_STREAMS); retry later")
            if tokenless and self._open_tokenless >= self.max_open_streams:
                raise StreamsFull(f"this server already serves its maximum of {self.max_open_streams} health "
                                  "and reflection streams; use Health/Check, or retry later")
            self._open += 1
            self._open_tokenless += tokenless
            self._by_connection[connection] = held + 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if released:
                    return
                released = True
                self._open -= 1
                self._open_tokenless -= tokenless
                left = self._by_connection[connection] - 1
                if left:
                    self._by_connection[connection] = left
                else:
                    del self._by_connection[connection]  # or every connection ever seen would stay

        return release

    def open_streams(self) -> int:
        """How many streaming calls hold a slot now."""
        with self._lock:
            return self._open
