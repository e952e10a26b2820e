"""Feeding the live index from the services' own answers, in a thread of the process that serves it.

- At start: every source's ListIndicators (the seed), command_center's offices, assessment's
  scheme, and the alert probes. A source that does not answer is asked again with a growing
  backoff; its indicators are missing meanwhile.
- Every RECONCILE_INTERVAL_SECONDS: the same again, by one gateway replica of all. Events keep the
  model current between reconciles; a reconcile repairs what an event that was lost would have
  changed, and counts it.
- Soon after a notable event: the alert probe of its source.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc

from services.common.errors import DomainError
from services.common.leases import Lease
from services.common.sources import SOURCES
from services.gateway.config import GatewayConfig
from services.gateway.domain.alerts import AlertRules
from services.gateway.domain.monitor import Monitor
from services.gateway.metrics import RECONCILE_CORRECTIONS
from services.gateway.probes import PROBES
from services.gateway.upstream import ASSESSMENT, COMMAND_CENTER, Upstream

log = logging.getLogger(__name__)

PROBE_DELAY_SECONDS = 0.3  # a burst of events re-runs a probe once
# A probe reads every record its alerts may come from. Under a stream of changes it runs again no
# sooner than this many times its last duration after it ended, so probing takes about a tenth of
# the process at most, however large the district: re-listing every officer after each change took
# a quarter of the monolith's CPU while 600 offices registered.
PROBE_REST_FACTOR = 9.0
MAX_BACKOFF_SECONDS = 30.0
# The periodic reconcile (with its probes) is a turn that passes among the gateway replicas: whoever
# claims the free `gateway.reconcile` lease (services.common.leases) asks the sources, and the lease
# lasts the reconcile interval, so the sources see one reconcile per interval however many replicas
# run. Each replica looks for a free turn this many times per interval, at random moments, so the
# turn is taken soon after it frees and falls to each replica in turn by chance. Each replica's own
# index is thus repaired every replica-count intervals on average: a repair is for events that were
# lost, which events that arrive keep rare. Shared answers (the turn's holder publishing what it
# read to the others) would repair every replica each interval, at the cost of a table they poll.
RECONCILE_LEASE = "gateway.reconcile"
RECONCILE_CHECKS_PER_INTERVAL = 4


class Feeder:
    def __init__(self, monitor: Monitor, upstream: Upstream, config: GatewayConfig, rules: AlertRules):
        self.monitor = monitor
        self.upstream = upstream
        self.config = config
        self.rules = rules
        self.ready = threading.Event()  # every source asked once
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._probes_due: dict[str, float] = {}
        self._probe_rested_at: dict[str, float] = {}
        self._retry_at: dict[str, float] = {}
        self._failures: dict[str, int] = {}
        self._reconcile_at = 0.0
        self._reconcile_forced = True  # the seed at start is this replica's own
        self._turns = Lease(monitor.store, RECONCILE_LEASE, config.reconcile_interval_seconds)
        self._pool = ThreadPoolExecutor(max_workers=len(SOURCES), thread_name_prefix="feeder")
        self._thread: threading.Thread | None = None
        # Set by the host (monolithic mode): no alert probe runs while the demo district loads.
        self.center_ready: Callable[[], bool] = lambda: True
        monitor.probe_soon = self.probe_soon

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gateway-feeder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def probe_soon(self, source: str) -> None:
        if source not in PROBES or not self.upstream.has(source):
            return
        with self._lock:
            due = max(time.monotonic() + PROBE_DELAY_SECONDS, self._probe_rested_at.get(source, 0.0))
            self._probes_due[source] = min(self._probes_due.get(source, due), due)
        self._wake.set()

    def reconcile_soon(self) -> None:
        """After the event stream was interrupted: events may have been lost (by this replica: it
        reconciles without waiting for its turn)."""
        self._reconcile_forced = True
        self._reconcile_at = 0.0
        self._wake.set()

    # ------------------------------------------------------------------ one pass

    def reconcile(self, sources: list[str] | None = None) -> dict[str, int]:
        """Asks each source (all by default) once, in parallel; returns the corrections per source
        that answered."""
        sources = list(self.upstream.addresses) if sources is None else sources
        results = dict(zip(sources, self._pool.map(self._ask, sources), strict=True))
        self.monitor.rescore_if_due()
        return {source: corrected for source, corrected in results.items() if corrected is not None}

    def _ask(self, source: str) -> int | None:
        try:
            return self._ask_source(source)
        except Exception:  # one source's surprise must not cost the others their pass
            log.exception("asking an indicator source failed", extra={"source": source})
            return None

    def _ask_source(self, source: str) -> int | None:
        try:
            if source == COMMAND_CENTER:
                offices = self.upstream.list_offices()
                self.monitor.live.name_offices({o: name for o, (name, _) in offices.items()},
                                               {o: version for o, (_, version) in offices.items()})
            if source == ASSESSMENT:
                self._scheme()
            answer = self.upstream.list_indicators(source)
        except grpc.RpcError as error:
            self._down(source, f"{error.code().name}: {error.details()}")
            return None
        corrected = self.monitor.live.apply_answer(source, answer)
        if corrected:
            RECONCILE_CORRECTIONS.labels(source).inc(corrected)
            log.warning("reconcile corrected the live index", extra={"source": source, "offices": corrected})
        with self._lock:
            self._failures.pop(source, None)
            self._retry_at.pop(source, None)
        self._probe(source)
        return corrected

    def _scheme(self) -> None:
        try:
            body = self.upstream.get_scheme()
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise
            return
        try:
            with self.monitor.store.transaction() as session:
                self.monitor.scheme_published(body, session)
        except DomainError as error:
            log.error("assessment's scheme cannot be scored with; keeping the one in use",
                      extra={"error": error.message})

    def _probe(self, source: str) -> None:
        probe = PROBES.get(source)
        if probe is None or not self.center_ready():
            return
        started = time.monotonic()
        try:
            found = probe(self.upstream, self.rules, self.monitor.today())
        except grpc.RpcError as error:
            # Kept as they were: the source's own records are unknown now, not cleared.
            log.info("alert probe failed", extra={"source": source, "error": f"{error.code().name}"})
            return
        finally:
            ended = time.monotonic()
            with self._lock:
                self._probe_rested_at[source] = ended + PROBE_REST_FACTOR * (ended - started)
        self.monitor.live.replace_alerts(source, found)

    def _down(self, source: str, error: str) -> None:
        with self._lock:
            failures = self._failures[source] = self._failures.get(source, 0) + 1
            self._retry_at[source] = time.monotonic() + min(2 ** (failures - 1), MAX_BACKOFF_SECONDS)
        self.monitor.live.source_status(source, False, error)
        if failures == 1:
            log.warning("indicator source unavailable; retrying in the background",
                        extra={"source": source, "error": error})

    # ------------------------------------------------------------------ the loop

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:
                log.exception("feeder pass failed")
                self._stop.wait(1.0)

    def _my_turn(self) -> bool:
        """Whether this replica reconciles now: at start and after an interruption always, otherwise
        when it claims the free turn."""
        forced, self._reconcile_forced = self._reconcile_forced, False
        try:
            claimed = self._turns.claim()
        except Exception:  # the store is away: reconciling anyway keeps this replica's index repaired
            log.warning("reconcile turn not claimed (store unavailable); reconciling", exc_info=True)
            return True
        return forced or claimed

    def _next_look(self) -> float:
        """Seconds until this replica looks for its turn again."""
        interval = self.config.reconcile_interval_seconds
        if self._turns.always_mine:
            return interval  # one process (SQLite): every turn is its own
        return interval / RECONCILE_CHECKS_PER_INTERVAL * random.uniform(0.5, 1.5)

    def _tick(self) -> None:
        now = time.monotonic()
        if now >= self._reconcile_at:
            if self._my_turn():
                self.reconcile()
                self.ready.set()
            self._reconcile_at = time.monotonic() + self._next_look()
        else:
            with self._lock:
                retry = [s for s, at in self._retry_at.items() if at <= now]
            if retry:
                self.reconcile(retry)
        with self._lock:
            due = [s for s, at in self._probes_due.items() if at <= time.monotonic()]
            for source in due:
                del self._probes_due[source]
        for source in due:
            self._probe(source)
        with self._lock:
            wake_at = min([self._reconcile_at, *self._retry_at.values(), *self._probes_due.values()])
        self._wake.wait(max(0.0, wake_at - time.monotonic()))
        self._wake.clear()
