"""assessment's use cases, by concept: the scheme, scores and periods, improvement plans, and the
officers' routine assessment; plus what the consumed events feed in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from services.assessment import indicators
from services.assessment.domain import catalogue, evidence, grading, improvement_rules
from services.assessment.domain.context import SOURCE, Context
from services.assessment.domain.improvement import ImprovementDesk
from services.assessment.domain.live_values import LiveValuesCache
from services.assessment.domain.schemes import SchemeDesk
from services.assessment.domain.scorecards import Fetch
from services.assessment.domain.scores import ScoreDesk
from services.assessment.domain.staff import StaffDesk
from services.assessment.models import Outbox
from services.common.db import Store
from services.common.events import EventWriter


class Assessment:
    def __init__(self, store: Store, today: Callable[[], dt.date], fetch: Fetch,
                 live_values: LiveValuesCache | None = None):
        known = catalogue.Catalogue.load()
        self.context = Context(store=store, events=EventWriter(SOURCE, Outbox), today=today,
                               catalogue=known, built_in_schemes=catalogue.built_in_schemes(known),
                               grading=grading.load(), improvement=improvement_rules.load())
        self.schemes = SchemeDesk(self.context)
        self.scores = ScoreDesk(self.context, self.schemes, fetch, live_values)
        self.plans = ImprovementDesk(self.context)
        self.staff = StaffDesk(self.context)

    @property
    def store(self) -> Store:
        return self.context.store

    @property
    def events(self) -> EventWriter:
        return self.context.events

    def today(self) -> dt.date:
        return self.context.today()

    def record_evidence(self, session: Session, item: evidence.EvidenceInput) -> bool:
        return evidence.record(session, item)

    def compute_indicators(self, session: Session, office_ids: list[str] | None):
        return indicators.compute(session, office_ids, self.today())
