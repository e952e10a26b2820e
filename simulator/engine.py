"""Running the actions: a simulated day (arrivals and follow-ups on the simulated clock) or a load
(a target rate, actions drawn from a mix). Both send at most `concurrency` requests at a time,
record every outcome, and stop when the duration is over or they are asked to.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
import time
from dataclasses import dataclass

import grpc

from simulator import arrivals, discovery
from simulator.actions import CATALOGUE, TAKERS
from simulator.clients import Clients, HttpError
from simulator.clock import HOUR, SimClock, office_time
from simulator.context import ActionSpec, CheckFailed, Ctx, NotReady, TokenBucket
from simulator.mix import WeightedChoice
from simulator.stats import Recorder
from simulator.world import District, Known, Queues, Work

log = logging.getLogger("simulator")
TICK = 0.05  # seconds: how often a waiting loop looks again (50 simulated seconds at 1000x)
REFRESH_SECONDS = 300.0  # officers' certificates and readers' calibration change slowly
DRAIN_EXTRA_SECONDS = 5.0


@dataclass
class RunOptions:
    duration: float | None
    concurrency: int
    seed: int
    progress: float
    # Day
    speed: float = 60.0
    start: float = 7 * HOUR
    skip_nights: bool = False
    volume: float = 1.0
    # Load
    rate: float | None = None
    mix: dict[str, float] | None = None
    poisson: bool = True
    # The gateway's form limit per client address (COMPLAINT_FORM_RATE_PER_MINUTE, _BURST).
    form_per_minute: float = 5.0
    form_burst: int = 3


class Engine:
    def __init__(self, options: RunOptions, clients: Clients, district: District, recorder: Recorder,
                 rss_probe=None, watcher=None):
        self.options = options
        self.clients = clients
        self.district = district
        self.recorder = recorder
        self.rng = random.Random(options.seed)
        self.queues = Queues()
        self.known = Known()
        self.slots = asyncio.Semaphore(options.concurrency)
        self.tasks: set[asyncio.Task] = set()
        self.stopping = asyncio.Event()
        self.skipped: dict[str, int] = {}
        self.idle_slots = 0
        self.unsent = 0
        self.max_lag = 0.0
        self.rss_probe = rss_probe
        self.watcher = watcher
        self.rss_samples: list[tuple[float, float]] = []
        self._announced: set[tuple[str, str]] = set()
        self._refreshed = time.monotonic()
        self.clock: SimClock | None = None
        self._calendar: list = []
        self._sequence = itertools.count()
        bucket = TokenBucket(options.form_per_minute, options.form_burst)
        self.ctx = Ctx(clients, district, self.rng, self._handoff, self.known,
                       run_id=f"{options.seed}-{int(time.time()) % 10**6}", form_bucket=bucket, recorder=recorder)

    # ------------------------------------------------------------------ shared

    def runnable(self, spec: ActionSpec) -> bool:
        """Its services answer and the district has what it needs (rapid-test readers...)."""
        present = self.clients.present
        if spec.service not in present or any(s not in present for s in spec.also):
            return False
        return not spec.needs or self.district.has(spec.needs)

    def _skip(self, name: str, why: str) -> None:
        """Counted, and said once per reason: an absent service is not an error."""
        self.skipped[name] = self.skipped.get(name, 0) + 1
        if (name, why) not in self._announced:
            self._announced.add((name, why))
            log.info("skipping %s: %s", name, why)

    async def _dispatch(self, spec: ActionSpec, work: Work) -> None:
        await self.slots.acquire()
        task = asyncio.create_task(self._run(spec, work))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, spec: ActionSpec, work: Work) -> None:
        try:
            try:
                await self._measured(spec, work)
            except NotReady as reason:
                fallback = CATALOGUE.get(spec.fallback)
                if fallback is not None and self.runnable(fallback):
                    await self._measured(fallback, work)
                else:
                    self._skip(spec.name, str(reason))
        except NotReady as reason:
            self._skip(spec.fallback, str(reason))
        finally:
            self.slots.release()

    async def _measured(self, spec: ActionSpec, work: Work) -> None:
        started = time.perf_counter()
        try:
            await spec.run(self.ctx, work)
        except NotReady:
            raise
        except grpc.aio.AioRpcError as error:
            self.recorder.failure(spec.name, error.code().name, f"{work.id or work.office_id}: {error.details()}")
        except HttpError as error:
            self.recorder.failure(spec.name, f"HTTP_{error.status}", f"{work.id or work.office_id}: {error.body}")
        except CheckFailed as error:
            self.recorder.failure(spec.name, "CHECK_FAILED", f"{work.id or work.office_id}: {error}")
        except Exception as error:  # a bug of the simulator: reported, never hidden
            log.exception("simulator bug in %s", spec.name)
            self.recorder.failure(spec.name, "SIMULATOR_BUG", f"{type(error).__name__}: {error}")
        else:
            self.recorder.success(spec.name, (time.perf_counter() - started) * 1000)

    def _handoff(self, queue: str, work: Work) -> None:
        if self.clock is None:
            self.queues.put(queue, work)
            return
        takers = TAKERS.get(queue, [])
        if not takers:
            return
        taker = self.rng.choices(takers, [t.share for t in takers])[0]
        low, high = taker.delay_hours
        when = self.clock.now() + self.rng.uniform(low, high) * HOUR
        if taker.officer:
            when = office_time(when)
        self._schedule(when, taker.name, work)

    def _schedule(self, when: float, name: str, work: Work, daily: float | None = None) -> None:
        """Onto the simulated calendar; `daily` marks an arrival of a creator's Poisson process."""
        heapq.heappush(self._calendar, (when, next(self._sequence), name, work, daily))

    async def _housekeeping(self) -> None:
        """Probes for services that came or went; re-reads officers and readers now and then."""
        await self.clients.probe()
        if time.monotonic() - self._refreshed > REFRESH_SECONDS:
            self._refreshed = time.monotonic()
            await discovery.refresh_officers(self.clients, self.district)
            if "facilities" in self.clients.present:
                await discovery.refresh_readers(self.clients, self.district)
            self.district.changed()

    async def _background(self) -> None:
        """Progress lines, RSS samples and housekeeping, until the run stops."""
        started = time.monotonic()
        last_progress = started
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=1.0)
            now = time.monotonic()
            if self.rss_probe is not None and (not self.rss_samples or now - self.rss_samples[-1][0] - started >= 10):
                rss = self.rss_probe()
                if rss is not None:
                    self.rss_samples.append((now - started, rss))
            if self.options.progress and now - last_progress >= self.options.progress:
                last_progress = now
                log.info("%s", self.progress_line(now - started))
            try:
                await self._housekeeping()
            except grpc.aio.AioRpcError as error:
                log.warning("refreshing the directory failed: %s %s", error.code().name, error.details())

    def progress_line(self, seconds: float) -> str:
        where = f"sim {SimClock.describe(self.clock.now())} | " if self.clock else ""
        streamed = f", {self.watcher.changes} index changes streamed" if self.watcher else ""
        return (f"[{seconds:5.0f} s] {where}{self.recorder.requests} requests, {self.recorder.errors} errors, "
                f"{self.recorder.requests / max(seconds, 1e-9):.1f}/s, {len(self.tasks)} in flight{streamed}")

    async def run(self) -> None:
        background = asyncio.create_task(self._background())
        try:
            if self.options.rate:
                await self._run_load()
            else:
                await self._run_day()
        finally:
            self.stopping.set()
            if self.tasks:
                await asyncio.wait(set(self.tasks), timeout=self.clients.timeout + DRAIN_EXTRA_SECONDS)
            self.recorder.finish()
            await background

    def stop(self) -> None:
        self.stopping.set()

    # ------------------------------------------------------------------ a day

    def _creators(self) -> list[ActionSpec]:
        return [s for s in CATALOGUE.values() if not s.consumes and s.per_office_daily > 0]

    async def _run_day(self) -> None:
        self.clock = SimClock(self.options.speed, self.options.start, skip_nights=self.options.skip_nights)
        offices = len(self.district.offices)
        shares = self.district.shares()
        for spec in self._creators():
            for office_id, share in shares.items():
                daily = spec.per_office_daily * offices * share * self.options.volume
                self._schedule_arrival(spec, office_id, daily, self.clock.now())
        deadline = None if self.options.duration is None else time.monotonic() + self.options.duration
        while not self.stopping.is_set() and (deadline is None or time.monotonic() < deadline):
            if not self._calendar:
                await asyncio.sleep(TICK)
                continue
            when, _, name, work, daily = self._calendar[0]
            wait = self.clock.real_seconds_until(when)
            if wait > 0:
                await asyncio.sleep(min(wait, TICK))
                continue
            heapq.heappop(self._calendar)
            self.max_lag = max(self.max_lag, -wait)
            spec = CATALOGUE[name]
            if daily is not None:  # an arrival: the next one of its process follows
                self._schedule_arrival(spec, work.office_id, daily, when)
            if spec.needs and not getattr(self.district.offices[work.office_id], spec.needs):
                continue
            if not self.runnable(spec):
                self._skip(name, f"{spec.service} is absent")
                continue
            await self._dispatch(spec, work)

    def _schedule_arrival(self, spec: ActionSpec, office_id: str, daily: float, after: float) -> None:
        when = arrivals.next_arrival(self.rng, after, daily, spec.profile)
        if when is not None:
            self._schedule(when, spec.name, Work("", office_id), daily)

    # ------------------------------------------------------------------ a load

    def _feasible(self, name: str) -> bool:
        """Drawable now: runnable, with work waiting for a follow-up, and ready (the form's limit)."""
        spec = CATALOGUE[name]
        if not self.runnable(spec) or (spec.consumes and not self.queues.size(spec.consumes)):
            return False
        return spec.ready is None or spec.ready(self.ctx)

    async def _run_load(self) -> None:
        choice = WeightedChoice(self.options.mix, self.rng)
        rate = self.options.rate
        started = time.monotonic()
        deadline = started + (self.options.duration or 60.0)
        due = started
        while not self.stopping.is_set():
            due += arrivals.gap(self.rng, rate, self.options.poisson)
            if due >= deadline:
                break
            if time.monotonic() >= deadline:
                # Behind schedule when the time is up: what was not sent is counted, not sent late.
                self.unsent = round((deadline - due) * rate)
                break
            wait = due - time.monotonic()
            if wait > 0:
                try:
                    await asyncio.wait_for(self.stopping.wait(), timeout=wait)
                    break
                except TimeoutError:
                    pass
            else:
                self.max_lag = max(self.max_lag, -wait)
            name = choice.draw(self._feasible)
            if name is None:
                self.idle_slots += 1
                continue
            spec = CATALOGUE[name]
            if spec.consumes:
                work = self.queues.take(spec.consumes, self.rng)
            else:
                office = self.district.pick_office(self.rng, spec.needs)
                work = Work("", office.id)
            await self._dispatch(spec, work)
