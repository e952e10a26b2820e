"""The live index of one gateway process: every office's indicator values as the services last
told them, scored with the scheme in force by services.common.scoring, ranked, summed up for the
district.

Writers (events, seeding and reconcile, probes) take one lock and end by publishing a new
immutable View; readers take `live.view` and never wait. Each change is handed, still under the
lock and so in order, to the listeners (the change log behind the streams, history, metrics).

Versions: each service numbers the changes of an office's indicators (aggregate
indicators/<office>), so a value older than the one held is ignored, whether it comes from an
event or from a ListIndicators answer that crossed an event on the way.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from services.common import scoring
from services.gateway.domain.alerts import INDEX_DROP, Alert, AlertRules, IndexTrack, index_drop_alert
from services.gateway.domain.schemes import SchemeInForce

APPLIED, STALE, DUPLICATE = "applied", "stale", "duplicate"
# Kinds of change.
OFFICE, DISTRICT, RANKS, ALERT = "office", "district", "ranks", "alert"
FEED, SCHEME, SOURCE = "feed", "scheme", "source"
FEED_SIZE = 50
# A source whose answers stay below the version held this many reconciles in a row was reset
# (e.g. its store restored from a backup): its answer is taken as the truth again.
RESET_AFTER = 2


@dataclass(frozen=True)
class Value:
    """One indicator of one office as its source last told it: numerator over denominator."""

    numerator: float
    denominator: float
    source: str
    as_of: dt.datetime | None = None


@dataclass(frozen=True)
class OfficeState:
    """An office in the live index: its standardization index (标准化指数) scored from its values."""

    office_id: str
    name: str
    score: scoring.OfficeScore
    # Every indicator the services published for the office, scored or not.
    values: Mapping[str, Value]
    updated_at: dt.datetime


@dataclass(frozen=True)
class DistrictState:
    """The district's index, scored from the sums over every office."""

    score: scoring.OfficeScore
    # Sum of numerators and sum of denominators per indicator.
    totals: Mapping[str, tuple[float, float]]
    office_count: int
    updated_at: dt.datetime


@dataclass(frozen=True)
class SourceState:
    """Whether a source service answers, and when it was last heard from."""

    source: str
    available: bool = False
    error: str = "not asked yet"
    last_seen: dt.datetime | None = None


@dataclass(frozen=True)
class FeedItem:
    """One line of the dashboard's feed of notable events (动态)."""

    time: dt.datetime
    office_id: str
    source: str
    text: str


@dataclass(frozen=True)
class Change:
    """What one commit of the live index changed, handed to its listeners (streams, history, metrics)."""

    kind: str
    # The office it concerns; "" for district-level changes everybody may see.
    office_id: str
    data: Any


@dataclass(frozen=True)
class View:
    """An immutable picture of the live index that readers take without waiting."""

    offices: Mapping[str, OfficeState]
    # Office id -> rank (1 = highest; 0 while the office has no index); `order` is the ranking.
    ranks: Mapping[str, int]
    order: tuple[str, ...]
    district: DistrictState
    scheme: SchemeInForce
    sources: Mapping[str, SourceState]
    alerts: Mapping[str, Alert]
    feed: tuple[FeedItem, ...]
    updated_at: dt.datetime


@dataclass
class _Held:
    """What the model holds of one source for one office."""

    version: int
    keys: frozenset[str] = field(default_factory=frozenset)
    behind: tuple[int, int] = (0, 0)  # (version a reconcile answered below ours, times in a row)


Listener = Callable[[View, list[Change]], None]
Readings = Iterable[tuple[str, float, float]]  # (key, numerator, denominator)


class LiveIndex:
    """The live index of this process: every office's indicators, scored, ranked and summed for the district."""

    def __init__(self, scheme: SchemeInForce, rules: AlertRules, sources: Iterable[str],
                 now: Callable[[], dt.datetime]) -> None:
        self.rules = rules
        self.now = now
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._scheme = scheme
        self._names: dict[str, str] = {}
        self._name_versions: dict[str, int] = {}
        self._values: dict[str, dict[str, Value]] = {}
        self._held: dict[tuple[str, str], _Held] = {}
        self._sources = {name: SourceState(name) for name in sources}
        self._alerts: dict[str, Alert] = {}
        self._alert_origins: dict[str, set[str]] = {}
        self._feed: deque[FeedItem] = deque(maxlen=FEED_SIZE)
        self._track = IndexTrack(rules.index_drop_window)
        # Sources whose whole answer (the start-up seed) arrived. Until every expected source's has,
        # an office's index is scored from part of its indicators and moves as the rest arrive:
        # sampling it then would report falls that never happened.
        self._answered: set[str] = set()
        self._tracking = False
        # While the center loads its demo district (monolithic mode) nothing is sampled: the loading
        # climbs and dips, and no such move is a fall of the index (hold_tracking).
        self._tracking_held = False
        # The district's sums, kept as offices change: summing every office at every change made a
        # district of n offices cost n² to load (2,000 offices did not settle in ten minutes).
        self._district = DistrictSums()
        self._pending: list[Change] = []
        started = now()
        empty = scoring.score_office(scheme.scheme, "", {})
        self.view = View({}, {}, (), DistrictState(empty, {}, 0, started), scheme, dict(self._sources), {}, (),
                         started)

    def subscribe(self, listener: Listener) -> None:
        """Hands every later commit's changes to `listener`, in order."""
        with self._lock:
            self._listeners.append(listener)

    # ------------------------------------------------------------------ indicator values

    def apply(self, source: str, office_id: str, version: int, readings: Readings,
              as_of: dt.datetime | None = None) -> str:
        """An office's indicators from one source (an IndicatorsChanged event): applied, or ignored
        as stale (older than held) or duplicate (the version held)."""
        with self._lock:
            held = self._held.get((source, office_id))
            if held is not None and version <= held.version:
                return DUPLICATE if version == held.version else STALE
            self._store(source, office_id, version, readings, as_of)
            self._seen(source, True)
            self._commit({office_id})
            return APPLIED

    def apply_answer(self, source: str, answer: Mapping[str, tuple[int, Readings, dt.datetime | None]]) -> int:
        """A source's ListIndicators answer (seeding and reconcile): office -> (version, readings,
        as_of). Returns how many offices it corrected (values the model held differently)."""
        with self._lock:
            changed: set[str] = set()
            corrections = 0
            for office_id, (version, readings, as_of) in answer.items():
                readings = list(readings)
                held = self._held.get((source, office_id))
                if held is not None and version < held.version:
                    streak = held.behind[1] + 1 if held.behind[0] == version else 1
                    held.behind = (version, streak)
                    if streak < RESET_AFTER:
                        continue  # an event newer than the answer arrived meanwhile
                elif held is not None and version == held.version and not self._differs(source, office_id, readings):
                    held.behind = (0, 0)
                    continue
                if held is not None:
                    corrections += int(self._differs(source, office_id, readings))
                self._store(source, office_id, version, readings, as_of)
                changed.add(office_id)
            self._answered.add(source)
            self._seen(source, True)
            self._commit(changed)
            return corrections

    def _differs(self, source: str, office_id: str, readings: list[tuple[str, float, float]]) -> bool:
        held = {key: (v.numerator, v.denominator) for key, v in self._values.get(office_id, {}).items()
                if v.source == source}
        return held != {key: (n, d) for key, n, d in readings if _owned(source, key)}

    def _store(self, source: str, office_id: str, version: int, readings: Readings, as_of: dt.datetime | None) -> None:
        values = self._values.setdefault(office_id, {})
        held = self._held.setdefault((source, office_id), _Held(version))
        fresh = {key: Value(float(n), float(d), source, as_of) for key, n, d in readings if _owned(source, key)}
        for key in held.keys - set(fresh):
            values.pop(key, None)
        values.update(fresh)
        held.version, held.keys, held.behind = version, frozenset(fresh), (0, 0)

    def expect_sources(self, sources: Iterable[str]) -> None:
        """The sources this process asks (the deployment's INDICATOR_SOURCES)."""
        with self._lock:
            self._sources = {name: self._sources.get(name, SourceState(name)) for name in sources}
            self.view = replace(self.view, sources=dict(self._sources))

    def source_status(self, source: str, available: bool, error: str = "") -> None:
        """A source answered, or failed to with `error`."""
        with self._lock:
            self._seen(source, available, error)
            self._commit(set())

    def _seen(self, source: str, available: bool, error: str = "") -> None:
        current = self._sources.get(source, SourceState(source))
        status = SourceState(source, available, "" if available else error,
                             self.now() if available else current.last_seen)
        self._sources[source] = status
        if (current.available, current.error) != (status.available, status.error):
            self._pending.append(Change(SOURCE, "", status))

    # ------------------------------------------------------------------ offices, scheme

    def name_offices(self, names: Mapping[str, str], version: Mapping[str, int] | None = None) -> None:
        """Office names (command_center); a name older than the one held is ignored."""
        with self._lock:
            changed = set()
            for office_id, name in names.items():
                number = (version or {}).get(office_id, 0)
                if number and number < self._name_versions.get(office_id, 0):
                    continue
                self._name_versions[office_id] = max(number, self._name_versions.get(office_id, 0))
                if self._names.get(office_id) != name or office_id not in self.view.offices:
                    self._names[office_id] = name
                    changed.add(office_id)
            self._commit(changed)

    def adopt_scheme(self, scheme: SchemeInForce) -> bool:
        """Scores everything with `scheme` from now on; False when it is the one in use."""
        with self._lock:
            if (scheme.version, scheme.origin, scheme.effective_from) == \
                    (self._scheme.version, self._scheme.origin, self._scheme.effective_from):
                return False
            self._scheme = scheme
            self._commit(set(self._values) | set(self._names), [Change(SCHEME, "", scheme)])
            return True

    @property
    def scheme(self) -> SchemeInForce:
        """The assessment scheme (考核方案) the index is scored with now."""
        return self._scheme

    def hold_tracking(self, held: bool) -> None:
        """Held: the index track forgets its samples and takes none, so no drop alert opens.
        Released: tracking starts from the figures now, as after a first seed."""
        with self._lock:
            self._tracking_held = held
            if held:
                self._tracking = False
                self._track = IndexTrack(self.rules.index_drop_window)
                self._replace_alerts("index", {})
            self._commit(set())

    # ------------------------------------------------------------------ alerts, feed

    def replace_alerts(self, origin: str, alerts: Iterable[Alert]) -> None:
        """The alerts one probe found now: new ones open, missing ones close."""
        with self._lock:
            self._replace_alerts(origin, {alert.id: alert for alert in alerts})
            self._commit(set())

    def _replace_alerts(self, origin: str, found: dict[str, Alert]) -> None:
        before = self._alert_origins.get(origin, set())
        for alert_id in before - set(found):
            closed = self._alerts.pop(alert_id)
            self._pending.append(Change(ALERT, closed.office_id, ("closed", closed)))
        for alert_id, alert in found.items():
            if self._alerts.get(alert_id) != alert:
                self._alerts[alert_id] = alert
                self._pending.append(Change(ALERT, alert.office_id, ("opened", alert)))
        self._alert_origins[origin] = set(found)

    def add_feed(self, item: FeedItem) -> None:
        """Adds a line to the feed (the oldest beyond FEED_SIZE drops off)."""
        with self._lock:
            self._feed.append(item)
            self._commit(set(), [Change(FEED, item.office_id, item)])

    # ------------------------------------------------------------------ scoring

    def _commit(self, offices: set[str], extra: list[Change] | None = None) -> None:
        """Rescores `offices`, the district and the ranking; publishes the new view with the changes
        gathered since the last commit."""
        self._pending.extend(extra or [])
        previous = self.view
        now = self.now()
        scheme = self._scheme.scheme
        states = dict(previous.offices)
        index_moved = False  # the ranking depends on the offices' indexes alone
        for office_id in offices:
            values = self._values.get(office_id, {})
            ratios = _ratios(values)
            score = scoring.score_office(scheme, office_id, ratios)
            name = self._names.get(office_id, office_id)
            old = states.get(office_id)
            if old is not None and (old.score, old.values, old.name) == (score, values, name):
                continue  # the same figures: the state (and when it last changed) stays
            self._district.change(_ratios(old.values) if old is not None else {}, ratios)
            index_moved = index_moved or old is None or old.score.index != score.index
            state = states[office_id] = OfficeState(office_id, name, score, dict(values), now)
            self._pending.append(Change(OFFICE, office_id, state))
            if self._tracking:
                self._track.record(office_id, score.index, now)
        if not self._tracking and not self._tracking_held and self._answered >= set(self._sources):
            self._tracking = True
            for office_id, state in states.items():
                self._track.record(office_id, state.score.index, now)
        district = previous.district
        ranks, order = previous.ranks, previous.order
        if offices:
            totals = self._district.totals()
            district_score = scoring.score_office(scheme, "", totals)
            if district_score != previous.district.score or len(states) != previous.district.office_count:
                district = DistrictState(district_score, totals, len(states), now)
                self._pending.append(Change(DISTRICT, "", district))
            if index_moved:
                ranking = scoring.rank(state.score for state in states.values())
                order = tuple(r.office_id for r in ranking)
                ranks = {r.office_id: (r.rank if r.index is not None else 0) for r in ranking}
                moved = {o: rank for o, rank in ranks.items() if previous.ranks.get(o) != rank}
                if moved:
                    self._pending.append(Change(RANKS, "", moved))
            self._drops(offices, states)
        if not self._pending:
            self.view = replace(self.view, sources=dict(self._sources))  # last_seen moved, nothing else
            return
        self.view = View(states, ranks, order, district, self._scheme, dict(self._sources), dict(self._alerts),
                         tuple(self._feed), now)
        changes, self._pending = self._pending, []
        for listener in self._listeners:
            listener(self.view, changes)

    def _drops(self, offices: set[str], states: Mapping[str, OfficeState]) -> None:
        found = {a.id: a for a in self._alerts.values() if a.kind == INDEX_DROP and a.office_id not in offices}
        for office_id in offices:
            state = states[office_id]
            alert = index_drop_alert(office_id, self._track.drop(office_id, state.score.index), self.rules,
                                     state.name)
            if alert is not None:
                found[alert.id] = alert
        self._replace_alerts("index", found)


class DistrictSums:
    """Sums of numerators and of denominators per indicator over every office
    (scoring.district_values), updated by one office's change at a time."""

    def __init__(self) -> None:
        self._sums: dict[str, list[float]] = {}  # key -> [numerators, denominators, offices]

    def change(self, before: dict[str, tuple[float, float]], after: dict[str, tuple[float, float]]) -> None:
        """One office's ratios went from `before` to `after`."""
        for key, (numerator, denominator) in before.items():
            total = self._sums[key]
            total[0] -= numerator
            total[1] -= denominator
            total[2] -= 1
            if not total[2]:
                del self._sums[key]
        for key, (numerator, denominator) in after.items():
            total = self._sums.setdefault(key, [0.0, 0.0, 0])
            total[0] += numerator
            total[1] += denominator
            total[2] += 1

    def totals(self) -> dict[str, tuple[float, float]]:
        """Per indicator, the district's sum of numerators and sum of denominators."""
        return {key: (numerators, denominators) for key, (numerators, denominators, _) in self._sums.items()}


def _ratios(values: Mapping[str, Value]) -> dict[str, tuple[float, float]]:
    return {key: (value.numerator, value.denominator) for key, value in values.items()}


def _owned(source: str, key: str) -> bool:
    """A source speaks for its own indicators only ("<source>.<name>")."""
    return key.startswith(source + ".")
