"""What every assessment use case shares: the store, the day it is in Asia/Shanghai, the indicator
catalogue and the rule sets in force (staff grading, improvement plans), the event writer, and the
note that an office's indicators may have moved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from services.assessment.domain import catalogue as catalogues
from services.assessment.domain import grading as grading_rules
from services.assessment.domain import improvement_rules
from services.assessment.domain.catalogue import Catalogue
from services.assessment.domain.grading import GradingRules
from services.assessment.domain.improvement_rules import ImprovementPolicy
from services.assessment.models import Outbox
from services.common.db import Store
from services.common.rulebook import VersionedRules
from services.common.workspace import BaseWorkspace

SOURCE = "assessment"



class Workspace(BaseWorkspace):
    """The store, the calendar day, the catalogue and rule sets in force, and the event writer that
    assessment's use cases (评价方案, 评分与排名, 改进, 平时考核) work with."""

    def __init__(self, store: Store, today: Callable[[], dt.date], *, catalogue: Catalogue | None = None,
                 grading: VersionedRules[GradingRules] | None = None,
                 improvement: VersionedRules[ImprovementPolicy] | None = None):
        super().__init__(store, SOURCE, Outbox, today)
        # Loaded (and so checked) when the service is built: a broken file stops the start.
        self.catalogue = catalogue or Catalogue.load()
        self.built_in_schemes = catalogues.built_in_schemes(self.catalogue)
        self.grading = grading or grading_rules.load()
        self.improvement = improvement or improvement_rules.load()

