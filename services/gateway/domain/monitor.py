"""The gateway's use cases: what the front ends and internal systems may read, and how consumed
events change the live index. Both transports (HTTP/JSON and gRPC) call these, so access rules
are applied in one place:

- district-wide roles (bureau leader, auditor, system) see everything;
- an office's people (office head, officer) see the district figures, the ranking (every office's
  index and rank) and the live feed of their own office, but the breakdown, alerts and history of
  their own office only.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.common import contracts
from services.common.access import require_read
from services.common.context import Caller
from services.common.db import Store, utcnow
from services.common.errors import InvalidArgument, NotFound
from services.common.events import Event
from services.gateway.domain.alerts import Alert
from services.gateway.domain.changes import ChangeLog
from services.gateway.domain.feed import NOTABLE
from services.gateway.domain.history import DISTRICT, History, Point, query_range
from services.gateway.domain.live import FeedItem, LiveIndex, OfficeState, View
from services.gateway.domain.schemes import ASSESSMENT, SchemeBook, SchemeInForce, scheme_from_body
from services.gateway.models import KnownScheme
from supervision.command_center.v1.events_pb2 import OfficeRegistered, OfficeUpdated
from supervision.common.v1.events_pb2 import IndicatorsChanged

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfficePage:
    """One page of the ranking's offices, with the view they were read from."""

    view: View
    offices: list[OfficeState]
    # Where the next page starts; None on the last page.
    next_offset: int | None


@dataclass(frozen=True)
class HistoryAnswer:
    """A trend of one series for an office or the district over the range asked."""

    scope: str
    points: list[Point]
    start: dt.datetime
    end: dt.datetime


class Monitor:
    """The gateway's use cases: reading the live index (动态监管) within the caller's rights, and applying events."""

    def __init__(self, store: Store, live: LiveIndex, changes: ChangeLog, history: History, schemes: SchemeBook,
                 today: Callable[[], dt.date], now: Callable[[], dt.datetime] = utcnow) -> None:
        self.store = store
        self.live = live
        self.changes = changes
        self.history = history
        self.schemes = schemes
        self.today = today
        self.now = now
        # Set by the host: asks the alert probe of a source to run again soon.
        self.probe_soon: Callable[[str], None] = lambda source: None
        live.subscribe(changes.record)

    @property
    def view(self) -> View:
        """The live index as it stands now."""
        return self.live.view

    # ------------------------------------------------------------------ reads

    def may_see_detail(self, caller: Caller, office_id: str) -> bool:
        """Whether the caller sees an office's breakdown, alerts and history, not just its index and rank."""
        return caller.may_see_office(office_id)

    def office(self, caller: Caller, office_id: str) -> tuple[View, OfficeState]:
        """An office's index in detail, for a caller who may see that office."""
        require_read(caller, office_id)
        view = self.view
        state = view.offices.get(office_id)
        if state is None:
            raise NotFound(f"office {office_id!r} is not known to the gateway")
        return view, state

    def list_offices(self, page_size: int, offset: int, office_id: str | None) -> OfficePage:
        """A page of the ranking (every office's index and rank), or the one office asked for."""
        view = self.view
        ids = [office_id] if office_id else list(view.order)
        if office_id and office_id not in view.offices:
            ids = []
        chosen = ids[offset:offset + page_size]
        more = offset + page_size < len(ids)
        return OfficePage(view, [view.offices[i] for i in chosen], offset + page_size if more else None)

    def alerts(self, caller: Caller, office_id: str | None, kind: str | None) -> list[Alert]:
        """The open alerts (预警) the caller may see, critical first, optionally of one office or kind."""
        if office_id:
            require_read(caller, office_id)
        found = [a for a in self.view.alerts.values()
                 if caller.may_see_office(a.office_id) and (not office_id or a.office_id == office_id)
                 and (not kind or a.kind == kind)]
        return sorted(found, key=lambda a: (a.severity != "critical", a.office_id, a.kind, a.ref))

    def trend(self, caller: Caller, key: str, office_id: str | None, resolution: str,
                start: dt.datetime | None, end: dt.datetime | None) -> HistoryAnswer:
        """The history of a series (the index, a dimension, an indicator) for an office or the district."""
        scope = office_id or DISTRICT
        if office_id:
            require_read(caller, office_id)
            if office_id not in self.view.offices:
                raise NotFound(f"office {office_id!r} is not known to the gateway")
        start, end = query_range(resolution, start, end, self.now())
        if not self.knows_series(key):
            raise NotFound(f"no history for {key!r}: give 'index', a dimension or an indicator key")
        return HistoryAnswer(scope, self.history.points(scope, key, resolution, start, end), start, end)

    def knows_series(self, key: str) -> bool:
        """Whether history keeps a series of this key (the scheme's, or an indicator a service reports)."""
        view = self.view
        return key in view.scheme.series_keys() or key in view.district.totals

    # ------------------------------------------------------------------ consumed events

    def indicators_changed(self, event: Event[IndicatorsChanged]) -> str:
        """Applies a source's whole set of an office's indicators (older versions are ignored)."""
        message = event.message
        office_id = message.office_id or event.office_id or event.aggregate_id
        if not office_id:
            raise InvalidArgument.of("office_id", "IndicatorsChanged names no office")
        readings = [(i.key, i.numerator, i.denominator) for i in message.indicators]
        if any(not key for key, _, _ in readings):
            raise InvalidArgument.of("indicators", "every reading needs its indicator key")
        as_of = contracts.instant_of(message.as_of, message.HasField("as_of")) or event.time
        return self.live.apply(event.source, office_id, event.aggregate_version, readings, as_of)

    def office_changed(self, event: Event[OfficeRegistered | OfficeUpdated]) -> None:
        """Names an office (or renames it) in the live index."""
        office_id = event.message.office_id or event.aggregate_id
        self.live.name_offices({office_id: event.message.name or office_id}, {office_id: event.aggregate_version})

    def scheme_published(self, body: Mapping[str, Any], session: Session) -> None:
        """A scheme assessment published (SchemeUpdated, or GetScheme's answer): kept in the store
        and scored with from its effective date."""
        scheme = scheme_from_body(body, ASSESSMENT, self.schemes.starting.names)
        if self.schemes.add(scheme):
            # Replicas (and the worker) may store the same version at once: the first one stays.
            insert = (sqlite.insert if self.store.is_sqlite else postgresql.insert)(KnownScheme)
            session.execute(insert.values(version=scheme.version, effective_from=scheme.effective_from,
                                          body=scheme.to_body(), received_at=self.now())
                            .on_conflict_do_nothing(index_elements=["version"]))
        self.rescore_if_due()

    def load_known_schemes(self) -> None:
        """At start: the schemes assessment sent before, so a restart scores with them at once."""
        with self.store.read() as session:
            for row in session.query(KnownScheme).order_by(KnownScheme.version):
                self.schemes.add(scheme_from_body(row.body, ASSESSMENT, self.schemes.starting.names))
        if self.rescore_if_due() is None and self.live.scheme.origin != ASSESSMENT:
            log.warning("no scheme from assessment yet: scoring with the starting scheme file",
                        extra={"scheme_version": self.live.scheme.version})

    def rescore_if_due(self) -> SchemeInForce | None:
        """Switches to the scheme in force today if it is not the one in use (a scheme published
        ahead of its effective date starts counting on that day)."""
        scheme = self.schemes.in_force(self.today())
        if self.live.adopt_scheme(scheme):
            log.info("scoring with scheme", extra={"scheme_version": scheme.version, "origin": scheme.origin})
            return scheme
        return None

    def notable(self, event: Event[Message]) -> None:
        """A line in the live feed and a re-run of an alert probe, as feed.NOTABLE says."""
        notable = NOTABLE.get((event.source, type(event.message)))
        if notable is None:
            return
        if notable.text is not None:
            office_id = getattr(event.message, "office_id", "") or event.office_id
            self.live.add_feed(FeedItem(event.time, office_id, event.source, notable.text(event.message)))
        if notable.probe:
            self.probe_soon(notable.probe)
