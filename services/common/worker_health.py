"""Is this event consumer alive, and is it consuming? Answered on the metrics port as /livez and /readyz.

A worker's process can stay up while consuming nothing: its eventlet hub blocked, its nameko
container dead, every handler slot stuck, the broker connection lost. /metrics alone answers in all
of these. So the consumer reports what it does, from the places that stop when it stops:

- `beat(loop)`: a loop of the consumer went round. In a nameko worker there are two: the queue
  consumer's drain loop (and its reconnect attempts), and a timer entrypoint that runs through the
  container's worker pool like any event handler. Either silent for WORKER_STALL_SECONDS -> /livez 503.
- `connected()` / `disconnected()`: the consumer's broker connection is consuming, or is lost.
  /readyz is 200 only between the two.

The state is read by the metrics server's own (real) thread, which keeps answering while the hub is
blocked: that is what lets /livez say 503 instead of timing out.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable


class WorkerHealth:
    """The liveness and readiness of one process's event consumer."""

    def __init__(self, stall_seconds: float, loops: Iterable[str] = (), clock: Callable[[], float] = time.monotonic):
        self.stall_seconds = stall_seconds
        self._clock = clock
        started = clock()
        # A loop that never beat counts from the start: a process gets stall_seconds to come up.
        self._beats = dict.fromkeys(loops, started)
        self._lock = threading.Lock()
        self._connected = False
        self._why_not_ready = "not connected to the broker yet"

    def expect(self, loops: Iterable[str]) -> None:
        """Watch exactly these loops from now on, each counted as having just beaten."""
        with self._lock:
            now = self._clock()
            self._beats = dict.fromkeys(loops, now)

    def beat(self, loop: str) -> None:
        """The named loop went round (it must be one of those given at construction)."""
        with self._lock:
            self._beats[loop] = self._clock()

    def connected(self) -> None:
        """The consumer is connected and its queues are consumed."""
        with self._lock:
            self._connected = True

    def disconnected(self, reason: str) -> None:
        """The broker connection is lost or refused; not ready until `connected` again."""
        with self._lock:
            self._connected = False
            self._why_not_ready = reason

    def liveness(self) -> tuple[bool, str]:
        """(alive, reason): every loop beat within stall_seconds."""
        now = self._clock()
        with self._lock:
            stalled = {loop: now - at for loop, at in self._beats.items() if now - at > self.stall_seconds}
        if stalled:
            return False, "; ".join(f"{loop} silent for {age:.0f} s (limit {self.stall_seconds:g} s)"
                                    for loop, age in sorted(stalled.items()))
        return True, "ok"

    def readiness(self) -> tuple[bool, str]:
        """(ready, reason): connected and consuming, and alive."""
        with self._lock:
            connected, why = self._connected, self._why_not_ready
        if not connected:
            return False, why
        return self.liveness()


# The process's consumer health, set by the entry point that starts a consumer (one per process,
# like prometheus_client's registry); None in processes without one, whose /livez and /readyz are 404.
_current: WorkerHealth | None = None


def install(health: WorkerHealth | None) -> WorkerHealth | None:
    """Makes `health` the process's consumer health (served on the metrics port); returns it."""
    global _current
    _current = health
    return health


def current() -> WorkerHealth | None:
    """The process's consumer health, or None when this process runs no consumer."""
    return _current


# What consumers call: no-ops in a process without a consumer health (tests run consumers without).
def beat(loop: str) -> None:
    """`loop` of the process's consumer went round."""
    if _current is not None:
        _current.beat(loop)


def mark_connected(loop: str) -> None:
    """`loop` connected to the broker and consumes."""
    if _current is not None:
        _current.beat(loop)
        _current.connected()


def mark_disconnected(loop: str, reason: str) -> None:
    """`loop` lost (or could not make) its broker connection: still beating, not ready."""
    if _current is not None:
        _current.beat(loop)
        _current.disconnected(reason)


def probe_response(path: str) -> tuple[int, str] | None:
    """(status, body) for /livez or /readyz (404 in a process without a consumer), None for other paths."""
    if path not in ("/livez", "/readyz"):
        return None
    health = _current
    if health is None:
        # Not a 200: a probe pointed at a process that has no consumer must not pass for nothing.
        return 404, "no event consumer in this process\n"
    ok, reason = health.liveness() if path == "/livez" else health.readiness()
    return (200 if ok else 503), reason + "\n"
