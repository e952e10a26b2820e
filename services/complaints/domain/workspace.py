"""What every complaints use case shares: the store, the clock, the statutory clocks (the rule sets
in force and the working-day calendar), the event writer, and the note that an office's indicators
may have moved."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.orm import Session

from services.common.db import Store, utcnow
from services.common.errors import NotFound
from services.common.workspace import BaseWorkspace
from services.complaints.domain.categories import CategoryBook
from services.complaints.domain.deadlines import Clocks
from services.complaints.domain.rewards import RewardBook
from services.complaints.domain.rules import RuleBook
from services.complaints.models import Complaint, Outbox

SOURCE = "complaints"


class Workspace(BaseWorkspace):
    """What the use cases of complaints and reports (投诉举报) work in: store, clock, statutory clocks,
    the 12315 classification, the reward rules, events."""

    def __init__(self, store: Store, clocks: Clocks, today: Callable[[], dt.date],
                 now: Callable[[], dt.datetime] = utcnow, *, categories: CategoryBook | None = None,
                 rewards: RewardBook | None = None) -> None:
        super().__init__(store, SOURCE, Outbox, today, now)
        self.clocks = clocks
        self.categories = categories or CategoryBook.load()
        self.rewards = rewards or RewardBook.load()

    @property
    def rules(self) -> RuleBook:
        """The rule sets of statutory limits, by effective date, that the clocks run by."""
        return self.clocks.rules


def get_complaint(session: Session, complaint_id: str) -> Complaint:
    """A complaint, report or inquiry by its id; NOT_FOUND when there is none."""
    complaint = session.get(Complaint, complaint_id) if complaint_id else None
    if complaint is None:
        raise NotFound(f"complaint {complaint_id!r} not found")
    return complaint
