"""What every use case of assessment works with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from services.assessment.domain.catalogue import BuiltInScheme, Catalogue
from services.assessment.domain.grading import GradingRules
from services.assessment.domain.improvement_rules import ImprovementPolicy
from services.assessment.domain.rulebook import RuleBook
from services.common.db import Store
from services.common.events import EventWriter

SOURCE = "assessment"


@dataclass(frozen=True)
class ListResult:
    items: list
    next_page_token: str


@dataclass(frozen=True)
class Context:
    store: Store
    events: EventWriter
    today: Callable[[], dt.date]
    catalogue: Catalogue
    built_in_schemes: list[BuiltInScheme]
    grading: RuleBook[GradingRules]
    improvement: RuleBook[ImprovementPolicy]
