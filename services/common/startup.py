"""A process's first start: stop signals that work from the first instant, and how far the loading of
the demo district has come.

The monolith loads the demo district after its services serve, which takes tens of seconds on a
first start. Two things follow:

- SIGTERM or SIGINT in that time must stop the process cleanly (exit 0 or 130, a log line, no
  traceback); the next start resumes the loading (each service's loader records its progress,
  services.common.demo). `StopSignals` does that: installed before anything else, it only notes a
  signal while the process does short, non-resumable work (migrations, starting servers), and
  interrupts at once while the resumable demo loading runs (`interruptible`).
- The gateway must know the center is still loading: its `/readyz` answers 503 with the loading
  step, its alert monitor and history recorder keep still until the figures are whole.
  `StartupProgress` is the one object the monolith updates and the gateway reads.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import FrameType

LOADING = "loading"
READY = "ready"
# What a person reads on the dashboard and in the terminal; the services' names stay technical.
STEP_NAMES = {
    "command_center": "指挥中心（科所、执法人员、督办任务）",
    "mobile_enforcement": "移动执法（市场主体、检查、案件）",
    "complaints": "投诉举报",
    "emergency": "应急处置",
    "facilities": "设施装备",
    "assessment": "考核评价",
}
# Conventional exit statuses: SIGINT (Ctrl-C) is 128 + 2; SIGTERM is the ordinary way to stop a
# service (Kubernetes, systemd, run-micro), so it ends as a successful run.
EXIT_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 0}


class StopRequested(BaseException):
    """SIGTERM or SIGINT arrived; a BaseException so that no `except Exception` of a loader swallows it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        """The process's exit status for this signal (0 for SIGTERM, 130 for SIGINT)."""
        return EXIT_STATUS.get(signal.Signals(self.signum), 0)


REDELIVER_SECONDS = 0.05


def _in_finalizer(frame: FrameType | None) -> bool:
    """Whether the interrupted code runs inside a finalizer (__del__), where an exception is lost."""
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


class StopSignals:
    """SIGTERM and SIGINT handling for a whole process run: note, interrupt, or wait."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._event = threading.Event()
        self._interruptible = False
        self._raised = False

    def install(self) -> StopSignals:
        """Takes over SIGTERM and SIGINT (main thread only); returns itself."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        self._event.set()
        # Raised once only: a second Ctrl-C must not break the clean stop the first one started.
        if self._interruptible and not self._raised:
            if _in_finalizer(_frame):
                # Python prints and drops what a __del__ raises (a library's cache collected mid-loading):
                # the signal is sent again a moment later, to land once the finalizer has returned.
                threading.Timer(REDELIVER_SECONDS, os.kill, (os.getpid(), signum)).start()
                return
            self._raised = True
            raise StopRequested(signum)

    def checkpoint(self) -> None:
        """Raises StopRequested when a signal arrived meanwhile (between non-resumable steps)."""
        if self.received is not None and not self._raised:
            self._raised = True
            raise StopRequested(self.received)

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        """Within it a signal interrupts the main thread at once: for work that resumes on the next
        start (the demo loading), where waiting for its end could take a minute."""
        self.checkpoint()
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False

    def wait(self) -> int:
        """Blocks until SIGTERM or SIGINT; returns the signal's number."""
        while not self._event.wait(3600):
            pass
        return self.received or signal.SIGTERM

    @property
    def exit_status(self) -> int:
        """0 after SIGTERM (or none), 130 after SIGINT."""
        return StopRequested(self.received).exit_status if self.received else 0


@dataclass(frozen=True)
class StartupState:
    """Where the start stands: loading (a step of `total`) or ready."""

    status: str
    step: str
    done: int
    total: int
    message: str

    def as_json(self) -> dict[str, str | int]:
        """The body of the gateway's `/readyz` while loading."""
        return {"status": self.status, "step": self.step, "done": self.done, "total": self.total,
                "message": self.message}


def loading_message(step: str, done: int, total: int) -> str:
    """The Chinese sentence the dashboard's banner and `/readyz` show while loading."""
    what = STEP_NAMES.get(step, step)
    return f"正在载入演示数据（{done}/{total}）：{what}。载入完成前，指数与预警尚不完整。"


def progress_line(step: str, number: int, total: int) -> str:
    """The terminal's line when loading step `number` (from 1) of `total` starts."""
    return f"演示数据 demo district {number}/{total}: {step}…"


class StartupProgress:
    """The demo district's loading as the monolith goes through it; ready at once when there is none.

    Thread-safe: the monolith's main thread writes, the gateway's threads (HTTP, recorder, feeder)
    read and are told once it is ready (`on_ready`)."""

    def __init__(self, steps: Sequence[str] = (), *, report: Callable[[str], None] | None = None):
        self.steps = tuple(steps)
        self._report = report or (lambda line: None)
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._listeners: list[Callable[[], None]] = []
        self._step = self.steps[0] if self.steps else ""
        self._done = 0
        self._started = time.monotonic()
        if not self.steps:
            self._ready.set()

    def is_ready(self) -> bool:
        """Whether the demo district is loaded (or none is to be loaded)."""
        return self._ready.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Blocks until ready or `timeout` seconds; returns whether it is ready."""
        return self._ready.wait(timeout)

    def on_ready(self, listener: Callable[[], None]) -> None:
        """Calls `listener` once when the loading ends (at once when it has already ended)."""
        with self._lock:
            if not self._ready.is_set():
                self._listeners.append(listener)
                return
        listener()

    def begin(self, step: str) -> None:
        """The loading of `step` starts (one of the steps given, in their order)."""
        if step not in self.steps:
            raise ValueError(f"unknown loading step {step!r}; expected one of {', '.join(self.steps)}")
        with self._lock:
            self._step = step
            self._done = self.steps.index(step)
        self._report(progress_line(step, self._done + 1, len(self.steps)))

    def finish(self) -> float:
        """Every step is done: the center is ready. Returns the seconds the loading took."""
        with self._lock:
            if self._ready.is_set():
                return 0.0
            self._done = len(self.steps)
            self._ready.set()
            listeners, self._listeners = self._listeners, []
        for listener in listeners:
            listener()
        return time.monotonic() - self._started

    def state(self) -> StartupState:
        """A snapshot: loading with its step, or ready."""
        with self._lock:
            if self._ready.is_set():
                return StartupState(READY, "", len(self.steps), len(self.steps), "已就绪")
            return StartupState(LOADING, self._step, self._done, len(self.steps),
                                loading_message(self._step, self._done, len(self.steps)))
