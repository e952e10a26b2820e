"""The events mobile_enforcement publishes, built from its records: the messages of
protos/supervision/mobile_enforcement/v1/events.proto, each field as its comment there defines it.

Completion events (InspectionCompleted, CaseFiled, CaseClosed) are the evidence the assessment
counts: they name the officers who did the work and each statutory clock as it stood, met or not.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.common.clock import shanghai_date
from services.common.contracts import date_of, timestamp_of
from services.mobile_enforcement.domain.case_rules import amount_of, case_sanctions
from services.mobile_enforcement.domain.vocabulary import CONFISCATE_GAINS
from services.mobile_enforcement.domain.workspace import split_ids
from services.mobile_enforcement.models import Case, Entity, Inspection, Plan
from supervision.common.v1.events_pb2 import StatutoryClock
from supervision.mobile_enforcement.v1 import events_pb2 as events

# The clocks' names in the events (StatutoryClock.clock).
DUE_DATE, FILING, CLOSING, PUBLICATION = "due_date", "filing", "closing", "publication"
LEGAL_REVIEW_CLOCK, DELIVERY_CLOCK = "legal_review", "delivery"
# CaseOverdue.deadline: the filing decision of a lead, the decision of a filed case, its legal
# review, the delivery of its decision and the payment of its fine.
FILING_DEADLINE, DECISION_DEADLINE = "filing", "decision"
LEGAL_REVIEW_DEADLINE, DELIVERY_DEADLINE, PAYMENT_DEADLINE = "legal_review", "delivery", "payment"
# PublicationOverdue.record.
INSPECTION_RECORD, CASE_RECORD = "inspection", "case"


# ---------------------------------------------------------------- entities


def entity_registered(entity: Entity) -> events.EntityRegistered:
    """EntityRegistered for a new entity of the directory."""
    return events.EntityRegistered(
        uscc=entity.uscc, version=entity.version, office_id=entity.office_id, name=entity.name,
        category=entity.category, street=entity.street, risk_level=entity.risk_level,
        key_supervision=entity.key_supervision, industry_code=entity.industry_code)


def entity_updated(entity: Entity, previous_office_id: str) -> events.EntityUpdated:
    """EntityUpdated for a changed entity; `previous_office_id` is the office it was under before."""
    moved_from = previous_office_id if previous_office_id != entity.office_id else ""
    return events.EntityUpdated(
        uscc=entity.uscc, version=entity.version, office_id=entity.office_id, name=entity.name,
        category=entity.category, street=entity.street, risk_level=entity.risk_level,
        key_supervision=entity.key_supervision, previous_office_id=moved_from, industry_code=entity.industry_code)


# ---------------------------------------------------------------- spot checks


def plan_drawn(plan: Plan) -> events.PlanDrawn:
    """PlanDrawn for a plan just drawn (a drawn plan never changes: version 1)."""
    return events.PlanDrawn(
        plan_id=plan.id, version=1, office_id=plan.office_id, name=plan.name, seed=plan.seed,
        drawn_on=date_of(plan.drawn_on), entity_snapshot_digest=plan.entity_digest,
        officer_snapshot_digest=plan.officer_digest, target_count=plan.target_count, rounding=plan.rounding)


# ---------------------------------------------------------------- inspections


def inspection_completed(inspection: Inspection, completed_on: dt.date) -> events.InspectionCompleted:
    """InspectionCompleted, crediting the team that did it; its due date, when it had one, is its clock."""
    clocks = [StatutoryClock(clock=DUE_DATE, due_date=date_of(inspection.due_date),
                             met=completed_on <= inspection.due_date)] if inspection.due_date else []
    return events.InspectionCompleted(
        inspection_id=inspection.id, version=inspection.version, office_id=inspection.office_id,
        entity_id=inspection.entity_id, kind=inspection.kind, plan_id=inspection.plan_id or "",
        outcome=inspection.outcome or "", rectification_due=date_of(inspection.rectification_due),
        lead_case_id=inspection.lead_case_id or "", completed_at=timestamp_of(inspection.completed_at),
        publication_due=date_of(inspection.publication_due), officer_ids=split_ids(inspection.inspector_ids),
        completed_on=date_of(completed_on), clocks=clocks, category=inspection.checklist_category,
        publication_due_provisional=inspection.publication_due_provisional)


def inspection_result_published(inspection: Inspection) -> events.InspectionResultPublished:
    """InspectionResultPublished (双随机、一公开)."""
    return events.InspectionResultPublished(
        inspection_id=inspection.id, version=inspection.version, office_id=inspection.office_id,
        entity_id=inspection.entity_id, kind=inspection.kind, plan_id=inspection.plan_id or "",
        outcome=inspection.outcome or "", rectification_due=date_of(inspection.rectification_due),
        lead_case_id=inspection.lead_case_id or "", published_at=timestamp_of(inspection.published_at))


def rectification_overdue(inspection: Inspection) -> events.RectificationOverdue:
    """RectificationOverdue: the rectification the inspection ordered passed its day unconfirmed."""
    return events.RectificationOverdue(
        inspection_id=inspection.id, version=inspection.version, office_id=inspection.office_id,
        entity_id=inspection.entity_id, due_date=date_of(inspection.rectification_due))


def inspection_publication_overdue(inspection: Inspection) -> events.PublicationOverdue:
    """PublicationOverdue for an inspection's result."""
    return events.PublicationOverdue(
        record_id=inspection.id, version=inspection.version, office_id=inspection.office_id,
        record=INSPECTION_RECORD, entity_id=inspection.entity_id, due_date=date_of(inspection.publication_due),
        due_date_provisional=inspection.publication_due_provisional)


# ---------------------------------------------------------------- cases


def case_publication_overdue(case: Case) -> events.PublicationOverdue:
    """PublicationOverdue for a penalty decision (no entity: the record is the case)."""
    return events.PublicationOverdue(
        record_id=case.id, version=case.version, office_id=case.office_id, record=CASE_RECORD,
        due_date=date_of(case.publication_due), due_date_provisional=case.publication_due_provisional)


def _case_overdue(case: Case, deadline: str, due: dt.date | None) -> events.CaseOverdue:
    # A party outside the directory may be a person: its name stays out of the event.
    return events.CaseOverdue(case_id=case.id, version=case.version, office_id=case.office_id, deadline=deadline,
                              due_date=date_of(due), state=case.state,
                              entity_name=case.party_name if case.entity_id else "")


def filing_overdue(case: Case) -> events.CaseOverdue:
    """CaseOverdue: a lead passed its filing decision's day."""
    return _case_overdue(case, FILING_DEADLINE, case.filing_decision_due)


def decision_overdue(case: Case) -> events.CaseOverdue:
    """CaseOverdue: a filed case passed its decision's day."""
    return _case_overdue(case, DECISION_DEADLINE, case.closing_due)


def legal_review_overdue(case: Case) -> events.CaseOverdue:
    """CaseOverdue: a case under legal review passed the review's day."""
    return _case_overdue(case, LEGAL_REVIEW_DEADLINE, case.legal_review_due)


def delivery_overdue(case: Case) -> events.CaseOverdue:
    """CaseOverdue: a decision was not delivered by its day."""
    return _case_overdue(case, DELIVERY_DEADLINE, case.delivery_due)


def payment_overdue(case: Case) -> events.CaseOverdue:
    """CaseOverdue: a delivered fine was not paid by its day (the surcharge accrues from the next)."""
    return _case_overdue(case, PAYMENT_DEADLINE, case.payment_due)


def filing_clock(case: Case) -> StatutoryClock:
    """The lead's filing decision clock: met when decided on or before its day and never marked overdue."""
    decided = case.filing_decided_on
    return StatutoryClock(clock=FILING, due_date=date_of(case.filing_decision_due),
                          met=decided is not None and decided <= case.filing_decision_due and not case.filing_overdue,
                          provisional=case.filing_due_provisional)


def _clock(name: str, due: dt.date, done: dt.date | None, overdue: bool, provisional: bool = False) -> StatutoryClock:
    return StatutoryClock(clock=name, due_date=date_of(due), met=done is not None and done <= due and not overdue,
                          provisional=provisional)


def case_clocks(case: Case) -> list[StatutoryClock]:
    """Every clock the office ran on the case, as it stands: the filing decision (once decided, by
    filing or on the spot), the decision of a filed case, its legal review (met once approved in
    time), the delivery of its decision, and the publication of a decision to be published."""
    clocks = [filing_clock(case)] if case.filing_decided_on is not None else []
    if case.closing_due is not None:
        clocks.append(_clock(CLOSING, case.closing_due, case.decided_on, case.closing_overdue))
    if case.legal_review_due is not None:
        clocks.append(_clock(LEGAL_REVIEW_CLOCK, case.legal_review_due, case.legal_reviewed_on,
                             case.legal_review_overdue, case.legal_review_due_provisional))
    if case.delivery_due is not None:
        clocks.append(_clock(DELIVERY_CLOCK, case.delivery_due, case.delivered_on, case.delivery_overdue))
    # The payment of the fine is the party's duty, not the office's: a late payer owes the surcharge
    # (CaseClosed.surcharge_yuan) and must not make the officers' work count as late.
    if case.publication_due is not None:
        published_on = shanghai_date(case.published_at) if case.published_at is not None else None
        clocks.append(StatutoryClock(
            clock=PUBLICATION, due_date=date_of(case.publication_due),
            met=published_on is not None and published_on <= case.publication_due and not case.publication_overdue,
            provisional=case.publication_due_provisional))
    return clocks


def case_filed(case: Case) -> events.CaseFiled:
    """CaseFiled, crediting the officers assigned, with the filing decision's clock."""
    return events.CaseFiled(
        case_id=case.id, version=case.version, office_id=case.office_id, entity_id=case.entity_id or "",
        party_name=case.party_name, source=case.source, source_ref=case.source_ref,
        filed_on=date_of(case.filed_on), closing_due=date_of(case.closing_due),
        officer_ids=split_ids(case.officer_ids), clocks=[filing_clock(case)])


def lead_declined(case: Case) -> events.LeadDeclined:
    """LeadDeclined, with the reason the lead was not filed."""
    return events.LeadDeclined(
        case_id=case.id, version=case.version, office_id=case.office_id, entity_id=case.entity_id or "",
        party_name=case.party_name, source=case.source, source_ref=case.source_ref, reason=case.not_filed_reason)


def decision_published(case: Case) -> events.DecisionPublished:
    """DecisionPublished (企业信息公示)."""
    return events.DecisionPublished(
        case_id=case.id, version=case.version, office_id=case.office_id, entity_id=case.entity_id or "",
        party_name=case.party_name, source=case.source, source_ref=case.source_ref,
        published_at=timestamp_of(case.published_at))


def case_closed(case: Case, closed_on: dt.date) -> events.CaseClosed:
    """CaseClosed, crediting the officers assigned, with every sanction, the money paid beside the fine
    and every clock the case ran."""
    sanctions = case_sanctions(case)
    return events.CaseClosed(
        case_id=case.id, version=case.version, office_id=case.office_id, entity_id=case.entity_id or "",
        party_name=case.party_name, source=case.source, source_ref=case.source_ref,
        penalty=case.penalty_kind or "", fine_yuan=money(case.fine_yuan), simplified=case.simplified,
        closed_at=timestamp_of(case.closed_at), officer_ids=split_ids(case.officer_ids),
        closed_on=date_of(closed_on), clocks=case_clocks(case), penalties=[s.kind for s in sanctions],
        confiscated_gains_yuan=money(amount_of(sanctions, CONFISCATE_GAINS)),
        surcharge_yuan=money(case.surcharge_paid) if case.surcharge_paid else "")


def money(amount: Decimal | None) -> str:
    """Yuan with two decimals, e.g. "2000.00"; empty without an amount."""
    return f"{amount:.2f}" if amount is not None else ""
