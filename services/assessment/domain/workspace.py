"""What every assessment use case shares: the store, the day it is in Asia/Shanghai, the indicator
catalogue and the rule sets in force (staff grading, improvement plans), the event writer, and the
note that an office's indicators may have moved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from services.assessment.domain import catalogue as catalogues
from services.assessment.domain import grading as grading_rules
from services.assessment.domain import improvement_rules
from services.assessment.domain.catalogue import Catalogue
from services.assessment.domain.grading import GradingRules
from services.assessment.domain.improvement_rules import ImprovementPolicy
from services.assessment.models import Outbox
from services.common.db import Store
from services.common.events import EventWriter
from services.common.indicators import mark_dirty
from services.common.rulebook import VersionedRules

SOURCE = "assessment"


@dataclass(frozen=True)
class ListResult:
    """One page of a listing: the records and the token of the next page ("" after the last)."""

    # The records' type differs per listing (rows, views, (row, name) pairs); the API maps each.
    items: list[Any]
    next_page_token: str


class Workspace:
    """The store, the calendar day, the catalogue and rule sets in force, and the event writer that
    assessment's use cases (评价方案, 评分与排名, 改进, 平时考核) work with."""

    def __init__(self, store: Store, today: Callable[[], dt.date], *, catalogue: Catalogue | None = None,
                 grading: VersionedRules[GradingRules] | None = None,
                 improvement: VersionedRules[ImprovementPolicy] | None = None):
        self.store = store
        self.today = today
        self.events = EventWriter(SOURCE, Outbox)
        # Loaded (and so checked) when the service is built: a broken file stops the start.
        self.catalogue = catalogue or Catalogue.load()
        self.built_in_schemes = catalogues.built_in_schemes(self.catalogue)
        self.grading = grading or grading_rules.load()
        self.improvement = improvement or improvement_rules.load()

    @staticmethod
    def touched(session: Session, office_ids: Iterable[str] | None) -> None:
        """These offices' indicators (None: every office's) may have moved in this transaction;
        the service's indicator refresher recomputes them after the commit."""
        mark_dirty(session, office_ids)
