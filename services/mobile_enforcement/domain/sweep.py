"""The deadline sweep (a worker timer): time alone makes a lead, a case (its decision, legal review,
delivery or payment), a rectification or an unpublished result overdue. Each becomes overdue once:
it is marked, its event is published, and every office's indicators are refreshed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import Message
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from services.mobile_enforcement.domain import published
from services.mobile_enforcement.domain.vocabulary import (
    CLOSING_CLOCK_STATES,
    COMPLETED,
    DECIDED,
    DELIVERED,
    LEAD,
    LEGAL_REVIEW,
    RECTIFICATION_ORDERED,
)
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.models import Case, Inspection


@dataclass(frozen=True)
class SweepResult:
    """How many records one sweep found newly overdue, by kind."""

    leads: int
    cases: int
    rectifications: int
    publications: int
    legal_reviews: int = 0
    deliveries: int = 0
    payments: int = 0


class DeadlineSweep:
    """The statutory limits time alone runs out (逾期): marks each overdue record once and publishes it."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def run(self) -> SweepResult:
        """Marks every lead, case clock, rectification and result whose limit passed before today."""
        today = self.workspace.today()
        with self.workspace.store.transaction() as session:
            leads = self._cases(session, select(Case).where(
                Case.state == LEAD, Case.filing_overdue.is_(False), Case.paused_for.is_(None),
                Case.filing_decision_due < today), "filing_overdue", published.filing_overdue)
            # The decision clock runs until the decision, standing still in a hearing (paused for it).
            cases = self._cases(session, select(Case).where(
                Case.state.in_(CLOSING_CLOCK_STATES), Case.closing_overdue.is_(False), Case.paused_for.is_(None),
                Case.closing_due < today), "closing_overdue", published.decision_overdue)
            legal_reviews = self._cases(session, select(Case).where(
                Case.state == LEGAL_REVIEW, Case.legal_review_overdue.is_(False), Case.legal_review_due < today),
                "legal_review_overdue", published.legal_review_overdue)
            deliveries = self._cases(session, select(Case).where(
                Case.state == DECIDED, Case.delivery_overdue.is_(False), Case.delivery_due < today),
                "delivery_overdue", published.delivery_overdue)
            payments = self._cases(session, select(Case).where(
                Case.state == DELIVERED, Case.payment_overdue.is_(False), Case.payment_due < today),
                "payment_overdue", published.payment_overdue)
            rectifications = self._inspections(session, select(Inspection).where(
                Inspection.state == COMPLETED, Inspection.outcome == RECTIFICATION_ORDERED,
                Inspection.rectification_confirmed_at.is_(None), Inspection.rectification_overdue.is_(False),
                Inspection.rectification_due < today), "rectification_overdue", published.rectification_overdue)
            publications = self._inspections(session, select(Inspection).where(
                Inspection.state == COMPLETED, Inspection.published_at.is_(None),
                Inspection.publication_overdue.is_(False), Inspection.publication_due < today),
                "publication_overdue", published.inspection_publication_overdue)
            publications += self._cases(session, select(Case).where(
                Case.publication_due.is_not(None), Case.published_at.is_(None), Case.publication_overdue.is_(False),
                Case.publication_due < today), "publication_overdue", published.case_publication_overdue)
            self.workspace.touched(session, None)  # time moved every office's limits
        return SweepResult(leads, cases, rectifications, publications, legal_reviews, deliveries, payments)

    def _cases(self, session: Session, query: Select[Case], flag: str, message: Callable[[Case], Message]) -> int:
        rows = list(session.scalars(query.order_by(Case.id)))
        for case in rows:
            setattr(case, flag, True)
            case.version += 1
            self.workspace.events.record(session, message(case), aggregate_type="case", aggregate_id=case.id,
                                         version=case.version, office_id=case.office_id)
        return len(rows)

    def _inspections(self, session: Session, query: Select[Inspection], flag: str,
                     message: Callable[[Inspection], Message]) -> int:
        rows = list(session.scalars(query.order_by(Inspection.id)))
        for inspection in rows:
            setattr(inspection, flag, True)
            inspection.version += 1
            self.workspace.events.record(session, message(inspection), aggregate_type="inspection",
                                         aggregate_id=inspection.id, version=inspection.version,
                                         office_id=inspection.office_id)
        return len(rows)
