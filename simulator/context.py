"""The shape every action shares: its description (ActionSpec) and what it runs with (Ctx)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from google.protobuf import timestamp_pb2
from google.type import date_pb2

from simulator.clock import shanghai_today
from simulator.world import District, Known, Work

Runner = Callable[["Ctx", Work], Awaitable[None]]


@dataclass(frozen=True)
class ActionSpec:
    """One thing a person of the district does, in one request (a few read a directory first).

    Creators (`consumes` None) start new work: in a day they arrive `per_office_daily` times a day
    per average office, shaped by `profile`. Follow-ups take work from the queue they consume;
    in a day, `share` of that queue's work goes to this action after `delay_hours`, in office
    hours when `officer`. `feeds` is what the action hands on and how often, which is what the
    day's mix is computed from (the code of the action decides it item by item).
    """

    name: str
    service: str
    run: Runner
    consumes: str | None = None
    share: float = 1.0
    delay_hours: tuple[float, float] = (0.0, 0.0)
    per_office_daily: float = 0.0
    profile: str = "office"
    feeds: tuple[tuple[str, float], ...] = ()
    officer: bool = True
    # Creators only runnable with something in the district, e.g. "readers" (rapid tests).
    needs: str = ""
    # Also needed besides `service` (e.g. a form goes to the gateway and lands in complaints).
    also: tuple[str, ...] = ()
    # Whether it can run now besides its service and work (the form's rate limit); an action that
    # finds it cannot after all raises NotReady, and `fallback` runs instead when named.
    ready: Callable[[Ctx], bool] | None = None
    fallback: str = ""
    summary: str = ""


class NotReady(Exception):
    """The action cannot run right now (not a failure: nothing was sent)."""


class CheckFailed(Exception):
    """An answer the services gave is not what the simulator worked out by hand: an error of the action."""


class Ctx:
    """What an action runs with. `handoff` passes work on to its next step: straight into a queue
    under a load, onto the simulated calendar in a day."""

    def __init__(self, clients, district: District, rng: random.Random, handoff: Callable[[str, Work], None],
                 known: Known, run_id: str, form_bucket=None, recorder=None):
        self.clients = clients
        self.district = district
        self.rng = rng
        self.handoff = handoff
        self.known = known
        self.run_id = run_id
        self.form_bucket = form_bucket
        # Where hand checks are counted (the run's Recorder); None counts nowhere, failures still raise.
        self.recorder = recorder
        self._ids = itertools.count(1)

    @property
    def timeout(self) -> float:
        return self.clients.timeout

    def stub(self, service: str, stub_class):
        return self.clients.stub(service, stub_class)

    def request_id(self, kind: str) -> str:
        return f"sim-{self.run_id}-{kind}-{next(self._ids)}"

    def check(self, action: str, check: str, passed: bool, detail: str = "") -> None:
        """A hand check of an answer: counted, and CheckFailed (the action's error) when it fails."""
        if self.recorder is not None:
            self.recorder.check(action, check, passed, detail)
        if not passed:
            raise CheckFailed(f"{check}: {detail}")

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    @staticmethod
    def today() -> dt.date:
        return shanghai_today()

    def date(self, days_ahead: int) -> date_pb2.Date:
        day = self.today() + dt.timedelta(days=days_ahead)
        return date_pb2.Date(year=day.year, month=day.month, day=day.day)

    def ago(self, min_seconds: float, max_seconds: float) -> timestamp_pb2.Timestamp:
        """A real time a little in the past: when a call came in, a sample was read, an incident
        happened. Never in the future, whatever the two clocks' skew."""
        stamp = timestamp_pb2.Timestamp()
        stamp.FromDatetime(dt.datetime.fromtimestamp(time.time() - self.rng.uniform(min_seconds, max_seconds), dt.UTC))
        return stamp


class TokenBucket:
    """The public form's limit as the gateway applies it per client address (COMPLAINT_FORM_RATE_PER_MINUTE,
    COMPLAINT_FORM_BURST), kept on this side a little slower and starting empty: then a form
    this bucket allows is always within the gateway's bucket, even one a previous run drained."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0 * 0.9
        self.burst = float(burst)
        self.clock = clock
        self.tokens = 0.0
        self.at = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now

    def ready(self) -> bool:
        self._refill()
        return self.tokens >= 1

    def take(self) -> bool:
        self._refill()
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
