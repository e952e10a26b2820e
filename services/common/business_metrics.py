"""Business gauges read from a service's store when Prometheus scrapes, so they are exact whatever
process last changed the data: open and overdue items per office, by kind.

    supervision_open_items{service, kind, office_id}
    supervision_overdue_items{service, kind, office_id}
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from prometheus_client.core import REGISTRY, GaugeMetricFamily
from sqlalchemy.orm import Session

from services.common.db import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ItemCount:
    """One kind of item of one office: how many are open and how many of those are overdue."""

    kind: str  # e.g. "task", "complaint", "case"
    office_id: str
    open: int
    overdue: int


ItemCounts = Callable[[Session], Iterable[ItemCount]]


class BusinessCollector:
    """The Prometheus collector of a service's open and overdue items (督办, complaints, cases ...) per office."""

    def __init__(self, service: str, store: Store, counts: ItemCounts):
        self.service = service
        self.store = store
        self.counts = counts

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The two gauge families, read from the store at scrape time (empty when it cannot be read)."""
        open_items = GaugeMetricFamily("supervision_open_items", "Items not yet finished, by kind and office.",
                                       labels=["service", "kind", "office_id"])
        overdue_items = GaugeMetricFamily("supervision_overdue_items",
                                          "Unfinished items past their due date, by kind and office.",
                                          labels=["service", "kind", "office_id"])
        try:
            with self.store.read() as session:
                rows = list(self.counts(session))
        except Exception:
            log.warning("business metrics unavailable", extra={"service": self.service}, exc_info=True)
            rows = []
        for row in rows:
            labels = [self.service, row.kind, row.office_id]
            open_items.add_metric(labels, row.open)
            overdue_items.add_metric(labels, row.overdue)
        yield open_items
        yield overdue_items

    def describe(self) -> list[GaugeMetricFamily]:
        """Nothing up front: the families are produced at scrape time."""
        return []  # unchecked collector: families are produced at scrape time


def register(collector: BusinessCollector) -> Callable[[], None]:
    """Registers with the process's registry; returns the function that unregisters it."""
    REGISTRY.register(collector)
    return lambda: REGISTRY.unregister(collector)
