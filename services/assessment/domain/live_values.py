"""The district live score's short memory of what the indicator sources answered.

A district live score asks every source for every office. Within `LIVE_SCORE_CACHE_SECONDS` the
answers are reused, except for an office one of whose sources has published IndicatorsChanged since:
that office alone is asked again. The API and the worker are separate processes in microservices
mode, so the worker cannot reach the API's memory: it writes the newest IndicatorsChanged version it
applied per source and office in the store (applied_versions, the consumer's table of newest applied
versions, under the key the consumer itself uses for that aggregate), and each district request
compares those versions with the ones it read before its cached answers were fetched.

Why a stored version is enough: a source writes IndicatorsChanged in the same transaction as the
snapshot its IndicatorSource serves, so once version v is applied here, any later answer of that
source holds v or newer. The score is thus never older than the TTL, and an office whose change has
reached the worker is never served from before it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.assessment.domain.history import Values
from services.assessment.domain.scorecards import Fetched, SourceStatus
from services.assessment.models import AppliedVersion

AGGREGATE = "indicators"

# (source, office id) -> the newest IndicatorsChanged version applied by the worker
Marks = dict[tuple[str, str], int]


def mark_key(source: str, office_id: str) -> str:
    """The consumer's key of a source's indicators of one office (source/aggregate type/office)."""
    return f"{source}/{AGGREGATE}/{office_id}"


def advance_mark(session: Session, source: str, office_id: str, version: int) -> None:
    """Records that IndicatorsChanged `version` of the source's office was applied (never lowers it)."""
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(AppliedVersion)
    statement = insert.values(aggregate=mark_key(source, office_id), version=version)
    # One statement: two workers applying the same office at once neither fail nor lower it.
    session.execute(statement.on_conflict_do_update(
        index_elements=["aggregate"], set_={"version": statement.excluded.version},
        where=AppliedVersion.version < statement.excluded.version))


def read_marks(session: Session, sources: Iterable[str]) -> Marks:
    """The newest applied IndicatorsChanged version of each office of the given sources."""
    prefixes = [f"{source}/{AGGREGATE}/" for source in sources]
    if not prefixes:
        return {}
    marks: Marks = {}
    rows = session.execute(select(AppliedVersion.aggregate, AppliedVersion.version)
                           .where(or_(*(AppliedVersion.aggregate.startswith(p) for p in prefixes))))
    for aggregate, version in rows:
        source, _, office_id = aggregate.partition(f"/{AGGREGATE}/")
        marks[(source, office_id)] = version
    return marks


@dataclass(frozen=True)
class _Answers:
    values: Values
    statuses: list[SourceStatus]
    marks: Marks  # what the worker had applied before these answers were asked for
    fetched_at: float


class LiveValuesCache:
    """The sources' answers for every office, reused for `ttl_seconds` and asked again per office as
    soon as the store says one of its sources changed it. One process's memory: each API replica
    keeps its own."""

    def __init__(self, ttl_seconds: float, sources: Iterable[str], clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl_seconds
        self.sources = tuple(sources)
        self.clock = clock
        self._answers: _Answers | None = None
        # One refresh at a time: requests arriving during it wait and reuse its answers.
        self._lock = threading.Lock()

    def district(self, fetch: Callable[[list[str] | None], Fetched],
                 marks_of: Callable[[Iterable[str]], Marks]) -> Fetched:
        """Every office's values from the sources: the cached answers, with the offices that changed
        since asked again, or a whole new round once the cached one is older than the TTL."""
        if self.ttl <= 0:
            return fetch(None)
        with self._lock:
            # Read before asking: answers fetched after this are at least as new as these versions.
            marks = marks_of(self.sources)
            answers = self._answers
            if answers is None or self.clock() - answers.fetched_at >= self.ttl:
                started = self.clock()
                fetched = fetch(None)
                # Kept even when a source did not answer: it is reported unavailable until the next
                # round, and requests during an outage do not queue one timeout after another.
                self._answers = _Answers(fetched.values, fetched.statuses, marks, started)
                return fetched
            changed = sorted({office for (source, office), version in marks.items()
                              if version > answers.marks.get((source, office), 0)})
            if not changed:
                return Fetched(answers.values, answers.statuses)
            fresh = fetch(changed)
            values = {office: readings for office, readings in answers.values.items() if office not in changed}
            values.update(fresh.values)
            statuses = answers.statuses if all(status.available for status in fresh.statuses) else fresh.statuses
            # The changed offices are now as new as the marks read before asking them; the TTL still
            # counts from the oldest answers kept.
            self._answers = _Answers(values, statuses, marks, answers.fetched_at)
            return Fetched(values, statuses)
