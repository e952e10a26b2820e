"""Conversions between mobile_enforcement's penalty-case messages (执法办案) and the Cases use case:
requests to its inputs, cases to messages. The shared conversions (enums, dates, money) are
messages.py's, as are those of every other part of the service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal

from services.common.convert import date_from_proto
from services.common.errors import InvalidArgument, Violations
from services.common.paging import ListResult, Page, parse_filter, parse_page
from services.mobile_enforcement.domain.case_rules import (
    InvestigationInput,
    LeadInput,
    PenaltyInput,
    SanctionInput,
    case_proposed_penalty,
    case_sanctions,
)
from services.mobile_enforcement.domain.cases import CaseFilter
from services.mobile_enforcement.domain.workspace import split_ids
from services.mobile_enforcement.messages import (
    day,
    enum_term,
    instant_from_proto,
    money_from_yuan,
    name_of,
    text_term,
    timestamp,
    value_of,
    yuan_from_money,
)
from services.mobile_enforcement.models import Case
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

CASE_STATE = "CASE_STATE_"
SOURCE = "LEAD_SOURCE_"
PAUSE = "PAUSE_REASON_"
PARTY = "PARTY_KIND_"
PENALTY = "PENALTY_KIND_"
DELIVERY = "DELIVERY_METHOD_"


def lead_from_proto(lead: pb.Case) -> LeadInput:
    return LeadInput(office_id=lead.office_id, entity_id=lead.entity_id, party_name=lead.party.name,
                     party_uscc=lead.party.uscc, party_address=lead.party.address,
                     source=name_of(pb.LeadSource, lead.source, SOURCE), source_ref=lead.source_ref,
                     description=lead.description,
                     received_at=instant_from_proto(lead.received_time, "lead.received_time"))


def case_listing(request: pb.ListCasesRequest) -> tuple[Page, CaseFilter]:
    page = parse_page(request)
    terms = parse_filter(request.filter, {"office_id": str, "state": str, "source": str, "entity_id": str})
    return page, CaseFilter(office_id=text_term(terms, "office_id"),
                            state=enum_term(terms, "state", pb.CaseState, CASE_STATE),
                            source=enum_term(terms, "source", pb.LeadSource, SOURCE),
                            entity_id=text_term(terms, "entity_id"))


def cases_page(result: ListResult[Case], surcharge: Callable[[Case], Decimal | None]) -> pb.ListCasesResponse:
    return pb.ListCasesResponse(cases=[case_to_proto(c, surcharge(c)) for c in result.items],
                                next_page_token=result.next_page_token)


def extended_due(request: pb.ExtendDeadlineRequest) -> dt.date | None:
    """The new date a collective decision sets; None for an extension by the rule set's figures."""
    return date_from_proto(request.new_due, "new_due")


def pause_reason(request: pb.PauseClockRequest) -> str:
    return name_of(pb.PauseReason, request.reason, PAUSE)


def sanctions_input(given: pb.Penalty, field: str) -> tuple[SanctionInput, ...]:
    """The penalty's sanctions in their order; every malformed amount reported at once."""
    violations = Violations()
    sanctions = []
    for index, sanction in enumerate(given.sanctions):
        amount = None
        try:
            amount = yuan_from_money(sanction.amount, f"{field}.sanctions[{index}].amount")
        except InvalidArgument as error:
            for violation in error.violations:
                violations.add(violation.field, violation.description)
        sanctions.append(SanctionInput(kind=name_of(pb.PenaltyKind, sanction.kind, PENALTY), amount_yuan=amount,
                                       detail=sanction.detail, duration_days=sanction.duration_days))
    violations.raise_if_any("invalid penalty")
    return tuple(sanctions)


def penalty_input(given: pb.Penalty, field: str = "penalty") -> PenaltyInput:
    return PenaltyInput(party_kind=name_of(pb.PartyKind, given.party_kind, PARTY) or None,
                        simplified=given.simplified, sanctions=sanctions_input(given, field))


def investigation_input(request: pb.ConcludeInvestigationRequest) -> InvestigationInput:
    return InvestigationInput(facts=request.facts, legal_basis=request.legal_basis,
                              proposed=penalty_input(request.proposed_penalty, "proposed_penalty"))


def hearing_time(request: pb.ScheduleHearingRequest) -> dt.datetime | None:
    return instant_from_proto(request.hearing_time, "hearing_time")


def delivery_method(request: pb.RecordDeliveryRequest) -> str:
    """The method's word; "" when unspecified or unknown, refused by the domain."""
    return name_of(pb.DeliveryMethod, request.method, DELIVERY)


def amount_paid(request: pb.RecordExecutionRequest) -> Decimal | None:
    return yuan_from_money(request.amount_paid, "amount_paid")


def penalty_to_proto(party_kind: str | None, simplified: bool, sanctions: Sequence[SanctionInput]) -> pb.Penalty:
    return pb.Penalty(party_kind=value_of(pb.PartyKind, party_kind, PARTY), simplified=simplified,
                      sanctions=[pb.Sanction(kind=value_of(pb.PenaltyKind, s.kind, PENALTY),
                                             amount=money_from_yuan(s.amount_yuan), detail=s.detail,
                                             duration_days=s.duration_days) for s in sanctions])


def case_to_proto(case: Case, surcharge: Decimal | None = None) -> pb.Case:
    """The case; `surcharge` is what the domain says is owed today (Cases.surcharge_owed), shown once a
    fine has a payment term."""
    message = pb.Case(
        id=case.id, office_id=case.office_id, entity_id=case.entity_id or "",
        party=pb.Party(name=case.party_name, uscc=case.party_uscc, address=case.party_address),
        source=value_of(pb.LeadSource, case.source, SOURCE), source_ref=case.source_ref,
        description=case.description, received_time=timestamp(case.received_at),
        state=value_of(pb.CaseState, case.state, CASE_STATE), rule_set=case.rule_set,
        filing_decision_due=day(case.filing_decision_due),
        filing_decision_due_provisional=case.filing_due_provisional, filing_extended=case.filing_extended,
        filing_overdue=case.filing_overdue, not_filed_reason=case.not_filed_reason,
        filed_on=day(case.filed_on), officer_ids=split_ids(case.officer_ids),
        closing_due=day(case.closing_due), closing_extensions=case.closing_extensions,
        collective_decision_ref=case.collective_decision_ref, closing_overdue=case.closing_overdue,
        paused_for=value_of(pb.PauseReason, case.paused_for, PAUSE), paused_since=day(case.paused_since),
        decided_on=day(case.decided_on), publication_due=day(case.publication_due),
        publication_due_provisional=case.publication_due_provisional,
        publish_time=timestamp(case.published_at), publication_overdue=case.publication_overdue,
        close_time=timestamp(case.closed_at), create_time=timestamp(case.created_at), version=case.version,
        facts=case.facts, legal_basis=case.legal_basis, investigated_on=day(case.investigated_on),
        legal_review_required=case.legal_review_required,
        collective_discussion_required=case.collective_discussion_required, hearing_eligible=case.hearing_eligible,
        legal_review_due=day(case.legal_review_due), legal_review_overdue=case.legal_review_overdue,
        legal_reviewed_on=day(case.legal_reviewed_on), legal_reviewer_id=case.legal_reviewer_id,
        legal_review_opinion=case.legal_review_opinion, collective_discussed_on=day(case.collective_discussed_on),
        collective_discussion_record=case.collective_discussion_record, notified_on=day(case.notified_on),
        statement_due=day(case.statement_due), statement_due_provisional=case.statement_due_provisional,
        statement=case.statement, statement_waived=case.statement_waived,
        hearing_requested_on=day(case.hearing_requested_on), hearing_time=timestamp(case.hearing_at),
        hearing_place=case.hearing_place, hearing_host_id=case.hearing_host_id,
        hearing_notified_on=day(case.hearing_notified_on), hearing_held_on=day(case.hearing_held_on),
        hearing_record=case.hearing_record, delivery_due=day(case.delivery_due),
        delivery_overdue=case.delivery_overdue, delivered_on=day(case.delivered_on),
        delivery_method=value_of(pb.DeliveryMethod, case.delivery_method, DELIVERY),
        payment_due=day(case.payment_due), payment_overdue=case.payment_overdue,
        amount_paid=money_from_yuan(case.amount_paid), executed_on=day(case.executed_on))
    proposed = case_proposed_penalty(case)
    if proposed is not None:
        message.proposed_penalty.CopyFrom(penalty_to_proto(proposed.party_kind, proposed.simplified,
                                                           proposed.sanctions))
    if case.penalty_kind:
        message.penalty.CopyFrom(penalty_to_proto(case.party_kind, case.simplified, case_sanctions(case)))
    if case.payment_due is not None and surcharge is not None:
        message.surcharge.CopyFrom(money_from_yuan(surcharge))
    return message
