"""A case desk for the unit tests of the penalty procedure: the Cases use cases on a SQLite store of
the service's tables, one office with certified officers (one of them conflicted with the party), an
entity, and a clock the test moves day by day. No server of any kind."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from services.common.clock import SHANGHAI
from services.common.context import Caller
from services.common.db import Store
from services.common.hash_chain import TrailKeys
from services.common.working_days import WorkingDayCalendar
from services.mobile_enforcement.domain.case_rules import (
    InvestigationInput,
    LeadInput,
    PenaltyInput,
    SanctionInput,
)
from services.mobile_enforcement.domain.cases import Cases
from services.mobile_enforcement.domain.checklists import Catalog
from services.mobile_enforcement.domain.rules import RuleBook
from services.mobile_enforcement.domain.sweep import DeadlineSweep
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.models import Base, Case, Conflict, Entity, Office, Officer, Outbox

OFFICE, OTHER_OFFICE = "MH01", "MH02"
# The case team, two independent officers of the office (reviewer, host), one conflicted with the
# party, and an officer of another office.
TEAM = ["MH01-001", "MH01-002"]
REVIEWER, HOST, CONFLICTED, OUTSIDER = "MH01-003", "MH01-004", "MH01-005", "MH02-001"
PARTY = "91310112MA1G000011"
# An officer of the office, who makes every call.
OFFICER = Caller(subject="MH01-001", roles=frozenset({"officer"}), office_id=OFFICE)
# Monday 2 November 2026, 10:00 in Shanghai.
START = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
CALENDAR = WorkingDayCalendar.load()
RULES = RuleBook.load()


def sanction(kind: str, amount: str | None = None, detail: str = "", days: int = 0) -> SanctionInput:
    """One sanction, its amount given as text."""
    return SanctionInput(kind, Decimal(amount) if amount is not None else None, detail, days)


def penalty(*sanctions: SanctionInput, party_kind: str = "ORGANISATION", simplified: bool = False) -> PenaltyInput:
    """A penalty of these sanctions."""
    return PenaltyInput(party_kind, simplified, tuple(sanctions))


def findings(proposed: PenaltyInput) -> InvestigationInput:
    """A conclusion proposing the penalty."""
    return InvestigationInput("经查，当事人销售过期食品。", "《中华人民共和国食品安全法》第一百二十四条", proposed)


@dataclass
class Clock:
    """The desk's instant; today is its Shanghai day."""

    instant: dt.datetime = field(default=START)

    def now(self) -> dt.datetime:
        return self.instant

    def today(self) -> dt.date:
        return self.instant.astimezone(SHANGHAI).date()

    def to(self, day: dt.date) -> None:
        """10:00 in Shanghai on that day."""
        self.instant = dt.datetime.combine(day, dt.time(10), SHANGHAI).astimezone(dt.UTC)

    def forward(self, days: int) -> dt.date:
        """Moves on by natural days; returns the new day."""
        self.instant += dt.timedelta(days=days)
        return self.today()


class Desk:
    """Cases on a fresh SQLite store, with the office, officers and party they need."""

    def __init__(self, directory: Path):
        self.store = Store(f"sqlite:///{directory / 'mobile_enforcement.db'}")
        Base.metadata.create_all(self.store.engine)
        self.clock = Clock()
        self.workspace = Workspace(self.store, RULES, Catalog.load(), CALENDAR, self.clock.today, self.clock.now,
                                   TrailKeys({"k1": b"k" * 32}, "k1"))
        self.cases, self.sweep = Cases(self.workspace), DeadlineSweep(self.workspace)
        expires = dt.date(2030, 1, 1)
        with self.store.transaction() as session:
            session.add_all([Office(id=OFFICE, name="莘庄所", district="闵行区"),
                             Office(id=OTHER_OFFICE, name="七宝所", district="闵行区")])
            session.flush()
            for officer_id in [*TEAM, REVIEWER, HOST, CONFLICTED, OUTSIDER]:
                session.add(Officer(id=officer_id, name="王伟", office_id=officer_id[:4], group="SUPERVISION",
                                    certificate_no=f"SH{officer_id[-3:]}", certificate_expires=expires))
            session.add(Entity(uscc=PARTY, name="某某超市有限公司", category="SUPERMARKET", address="莘庄镇莘松路1号",
                               street="莘庄镇", office_id=OFFICE, risk_level="LOW", key_supervision=False,
                               created_at=START, updated_at=START, version=1))
            session.flush()
            session.add(Conflict(officer_id=CONFLICTED, entity_id=PARTY, reason="亲属", declared_by="MH01-001",
                                 created_at=START))

    def close(self) -> None:
        self.store.dispose()

    def lead(self, source_ref: str = "") -> Case:
        """A lead against the party, received now."""
        data = LeadInput("", PARTY, "", "", "", "REPORT", source_ref, "举报销售过期食品", None)
        return self.cases.open_lead(OFFICER, "", data)

    def filed(self) -> Case:
        """A case filed today with the team."""
        return self.cases.file(OFFICER, self.lead().id, TEAM)

    def concluded(self, proposed: PenaltyInput) -> Case:
        """A filed case whose investigation concluded today with the proposed penalty."""
        return self.cases.conclude_investigation(OFFICER, self.filed().id, findings(proposed))

    def reviewed(self, proposed: PenaltyInput) -> Case:
        """Concluded, submitted and approved by the reviewer today."""
        case = self.concluded(proposed)
        self.cases.submit_for_legal_review(OFFICER, case.id)
        return self.cases.record_legal_review(OFFICER, case.id, REVIEWER, True, "事实清楚，证据确凿，同意。")

    def notified(self, proposed: PenaltyInput) -> Case:
        """Concluded, reviewed and discussed when required, and notified today."""
        case = self.concluded(proposed)
        if case.legal_review_required:
            self.cases.submit_for_legal_review(OFFICER, case.id)
            self.cases.record_legal_review(OFFICER, case.id, REVIEWER, True, "同意。")
        if case.collective_discussion_required:
            self.cases.record_collective_discussion(OFFICER, case.id, "局长办公会集体讨论，同意处罚。")
        return self.cases.issue_advance_notice(OFFICER, case.id)

    def decided(self, proposed: PenaltyInput) -> Case:
        """Notified and, the party waiving its statement, decided as proposed today."""
        case = self.notified(proposed)
        self.cases.record_statement(OFFICER, case.id, "", True)
        return self.cases.decide(OFFICER, case.id, proposed, "")

    def get(self, case_id: str) -> Case:
        """The case as stored now."""
        with self.store.read() as session:
            case = session.get(Case, case_id)
            assert case is not None
            return case

    def events(self, event_type: str) -> list[Outbox]:
        """The outbox rows of that event type (e.g. CaseOverdue), oldest first."""
        with self.store.read() as session:
            return [row for row in session.scalars(select(Outbox).order_by(Outbox.id))
                    if row.event_type.endswith(event_type)]
