"""Conversions between mobile_enforcement's proto messages and its domain objects: requests to the
use cases' inputs, records to messages. Nothing else: the servicers in api.py only call these and
one use case.

Enum values the contract does not know become "" here and are refused by the domain with the
request's other problems, so a caller sees every violation at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal

from google.protobuf import timestamp_pb2
from google.type import date_pb2, money_pb2

from services.common.convert import date_from_proto, date_to_proto, enum_filter, enum_name, update_paths
from services.common.errors import InvalidArgument, Violations
from services.common.hash_chain import Verification
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
from services.mobile_enforcement.domain.checklists import Checklist
from services.mobile_enforcement.domain.documents import DocumentFilter
from services.mobile_enforcement.domain.entities import UPDATABLE_FIELDS, EntityFilter, EntityInput
from services.mobile_enforcement.domain.entity_import import ImportResult
from services.mobile_enforcement.domain.findings import FindingInput
from services.mobile_enforcement.domain.inspections import (
    InspectionFilter,
    InspectionView,
    LocationInput,
    ScheduleInput,
)
from services.mobile_enforcement.domain.spot_checks import ConflictFilter, PlanInput, PlanView
from services.mobile_enforcement.domain.spot_checks import Verification as PlanVerification
from services.mobile_enforcement.domain.workspace import split_ids
from services.mobile_enforcement.field_messages import evidence_to_proto
from services.mobile_enforcement.models import Case, Conflict, Document, Entity, Inspection
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

CATEGORY = "ENTITY_CATEGORY_"
RISK = "RISK_LEVEL_"
OUTCOME = "FAILURE_OUTCOME_"
KIND = "INSPECTION_KIND_"
STATE = "INSPECTION_STATE_"
RESULT = "ITEM_RESULT_"
INSPECTION_OUTCOME = "INSPECTION_OUTCOME_"
CASE_STATE = "CASE_STATE_"
SOURCE = "LEAD_SOURCE_"
PAUSE = "PAUSE_REASON_"
PARTY = "PARTY_KIND_"
PENALTY = "PENALTY_KIND_"
DELIVERY = "DELIVERY_METHOD_"
SNAPSHOT = "SNAPSHOT_KIND_"
ROUNDING = "ROUNDING_RULE_"
CURRENCY = "CNY"
NANOS_PER_FEN = 10_000_000


def name_of(enum_type, value: int, prefix: str) -> str:
    """An enum number as the domain's word; "" when unspecified or unknown to this contract."""
    try:
        name = enum_type.Name(value)
    except ValueError:
        return ""
    return "" if name.endswith("_UNSPECIFIED") else name.removeprefix(prefix)


def value_of(enum_type, name: str | None, prefix: str) -> int:
    return enum_type.Value(prefix + name) if name else 0


def _filter_enum(terms: dict, field: str, enum_type, prefix: str) -> str | None:
    """A filter term naming an enum value, as the domain's word; None when the filter has no such term."""
    return enum_filter(enum_type, str(terms[field]), field, prefix) if field in terms else None


def _text(terms: dict, field: str) -> str | None:
    value = terms.get(field)
    return None if value is None else str(value)


def day(value: dt.date | None) -> date_pb2.Date | None:
    """A date, or None so that an unset date stays unset in the message."""
    return date_to_proto(value) if value is not None else None


def timestamp(instant: dt.datetime | None) -> timestamp_pb2.Timestamp | None:
    if instant is None:
        return None
    message = timestamp_pb2.Timestamp()
    message.FromDatetime(instant)
    return message


def instant_from_proto(message: timestamp_pb2.Timestamp, field: str) -> dt.datetime | None:
    if message.seconds == 0 and message.nanos == 0:
        return None
    try:
        return message.ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument.of(field, "is not a representable instant") from None


def yuan_from_money(money: money_pb2.Money, field: str) -> Decimal | None:
    if not money.currency_code and money.units == 0 and money.nanos == 0:
        return None
    if money.currency_code not in ("", CURRENCY):
        raise InvalidArgument.of(field, f"fines are in {CURRENCY}, not {money.currency_code}")
    if money.nanos % NANOS_PER_FEN or (money.units > 0 > money.nanos) or (money.units < 0 < money.nanos):
        raise InvalidArgument.of(field, "an amount in yuan and fen (nanos a multiple of 10,000,000, same sign)")
    return Decimal(money.units) + Decimal(money.nanos // NANOS_PER_FEN) / 100


def money_from_yuan(amount: Decimal | None) -> money_pb2.Money | None:
    if amount is None:
        return None
    units = int(amount)
    return money_pb2.Money(currency_code=CURRENCY, units=units,
                           nanos=int((amount - units) * 100) * NANOS_PER_FEN)


# ---------------------------------------------------------------- entities


def entity_input(message: pb.Entity) -> EntityInput:
    return EntityInput(uscc=message.uscc, name=message.name,
                       # An unknown number stays visible as such, so validation refuses it (never "no type").
                       category=name_of(pb.EntityCategory, message.category, CATEGORY) or
                       (str(message.category) if message.category else ""),
                       address=message.address, street=message.street,
                       risk_level=name_of(pb.RiskLevel, message.risk_level, RISK),
                       key_supervision=message.key_supervision, industry_code=message.industry_code)


def entity_mask(request: pb.UpdateEntityRequest) -> list[str]:
    return update_paths(request.update_mask, UPDATABLE_FIELDS)


def entity_listing(request: pb.ListEntitiesRequest) -> tuple[Page, EntityFilter]:
    page = parse_page(request)
    terms = parse_filter(request.filter, {"office_id": str, "category": str, "risk_level": str, "street": str,
                                          "key_supervision": bool, "industry_code": str, "search": str})
    key_supervision = terms.get("key_supervision")
    return page, EntityFilter(office_id=_text(terms, "office_id"),
                              category=_filter_enum(terms, "category", pb.EntityCategory, CATEGORY),
                              risk_level=_filter_enum(terms, "risk_level", pb.RiskLevel, RISK),
                              street=_text(terms, "street"),
                              key_supervision=None if key_supervision is None else bool(key_supervision),
                              industry_code=_text(terms, "industry_code"), search=_text(terms, "search"))


def entities_page(result: ListResult[Entity]) -> pb.ListEntitiesResponse:
    return pb.ListEntitiesResponse(entities=[entity_to_proto(e) for e in result.items],
                                   next_page_token=result.next_page_token)


def import_result_to_proto(result: ImportResult) -> pb.ImportEntitiesResponse:
    return pb.ImportEntitiesResponse(
        imported_count=result.imported_count, row_count=result.row_count,
        rejected_rows=[pb.RowError(line=r.line, field=r.field, description=r.description)
                       for r in result.rejected_rows])


def entity_to_proto(entity: Entity) -> pb.Entity:
    return pb.Entity(uscc=entity.uscc, name=entity.name,
                     category=value_of(pb.EntityCategory, entity.category, CATEGORY), address=entity.address,
                     street=entity.street, office_id=entity.office_id,
                     risk_level=value_of(pb.RiskLevel, entity.risk_level, RISK),
                     key_supervision=entity.key_supervision, create_time=timestamp(entity.created_at),
                     update_time=timestamp(entity.updated_at), version=entity.version,
                     industry_code=entity.industry_code)


def checklist_wanted(request: pb.GetChecklistRequest) -> tuple[str, int, dt.date | None]:
    """(category, version, day): a version by number, or else the one in force on the day (None: today)."""
    category = enum_name(pb.EntityCategory, request.category, "category", CATEGORY)
    # The day only matters, and is only read, when no version is named.
    on = date_from_proto(request.on, "on") if request.version == 0 else None
    return category, request.version, on


def checklist_listing(request: pb.ListChecklistsRequest) -> tuple[Page, str | None]:
    page = parse_page(request)
    terms = parse_filter(request.filter, {"category": str})
    return page, _filter_enum(terms, "category", pb.EntityCategory, CATEGORY)


def checklists_page(result: ListResult[Checklist]) -> pb.ListChecklistsResponse:
    return pb.ListChecklistsResponse(checklists=[checklist_to_proto(c) for c in result.items],
                                     next_page_token=result.next_page_token)


def checklist_to_proto(checklist: Checklist) -> pb.Checklist:
    return pb.Checklist(
        category=value_of(pb.EntityCategory, checklist.category, CATEGORY), title=checklist.title,
        version=checklist.version, effective_from=day(checklist.effective_from),
        items=[pb.ChecklistItem(code=i.code, section=i.section, text=i.text, legal_basis=i.legal_basis, key=i.key,
                                failure_outcome=value_of(pb.FailureOutcome, i.failure_outcome, OUTCOME))
               for i in checklist.items])


# ---------------------------------------------------------------- spot checks


def plan_input(plan: pb.SpotCheckPlan) -> PlanInput:
    return PlanInput(
        office_id=plan.office_id, name=plan.name,
        categories=[name_of(pb.EntityCategory, c, CATEGORY) for c in plan.categories],
        ratio_basis_points=plan.ratio_basis_points,
        tier_ratios=[(name_of(pb.RiskLevel, t.risk_level, RISK), t.ratio_basis_points) for t in plan.tier_ratios],
        inspectors_per_target=plan.inspectors_per_target, seed=plan.seed,
        due_date=date_from_proto(plan.due_date, "plan.due_date"),
        rounding=name_of(pb.RoundingRule, plan.rounding, ROUNDING) or (str(plan.rounding) if plan.rounding else ""))


def plan_listing(request: pb.ListPlansRequest) -> tuple[Page, str | None]:
    page = parse_page(request)
    terms = parse_filter(request.filter, {"office_id": str})
    return page, _text(terms, "office_id")


def plans_page(result: ListResult[PlanView]) -> pb.ListPlansResponse:
    return pb.ListPlansResponse(plans=[plan_to_proto(v) for v in result.items], next_page_token=result.next_page_token)


def target_listing(request: pb.ListPlanTargetsRequest) -> Page:
    return parse_page(request)


def targets_page(result: ListResult[Inspection]) -> pb.ListPlanTargetsResponse:
    return pb.ListPlanTargetsResponse(targets=[target_to_proto(i) for i in result.items],
                                      next_page_token=result.next_page_token)


def plan_verification_to_proto(v: PlanVerification) -> pb.PlanVerification:
    return pb.PlanVerification(plan_id=v.plan_id, matches=v.matches, entity_snapshot_intact=v.entity_snapshot_intact,
                               officer_snapshot_intact=v.officer_snapshot_intact, targets_checked=v.targets_checked,
                               mismatch=v.mismatch,
                               rounding=value_of(pb.RoundingRule, v.quota.rounding if v.quota else "", ROUNDING),
                               exact_share=v.quota.exact_share if v.quota else "",
                               quota=v.quota.total if v.quota else 0)


def snapshot_kind(request: pb.ExportPlanSnapshotRequest) -> str:
    return enum_name(pb.SnapshotKind, request.kind, "kind", SNAPSHOT)


def snapshot_chunk(data: bytes) -> pb.SnapshotChunk:
    return pb.SnapshotChunk(data=data)


def conflict_listing(request: pb.ListConflictsRequest) -> tuple[Page, ConflictFilter]:
    page = parse_page(request)
    terms = parse_filter(request.filter, {"officer_id": str, "entity_id": str})
    return page, ConflictFilter(officer_id=_text(terms, "officer_id"), entity_id=_text(terms, "entity_id"))


def conflicts_page(result: ListResult[Conflict]) -> pb.ListConflictsResponse:
    return pb.ListConflictsResponse(conflicts=[conflict_to_proto(c) for c in result.items],
                                    next_page_token=result.next_page_token)


def plan_to_proto(view: PlanView) -> pb.SpotCheckPlan:
    plan = view.plan
    return pb.SpotCheckPlan(
        id=plan.id, office_id=plan.office_id, name=plan.name,
        categories=[value_of(pb.EntityCategory, c, CATEGORY) for c in plan.categories],
        ratio_basis_points=plan.ratio_basis_points,
        tier_ratios=[pb.TierRatio(risk_level=value_of(pb.RiskLevel, tier, RISK), ratio_basis_points=ratio)
                     for tier, ratio in plan.tier_ratios.items()],
        inspectors_per_target=plan.inspectors_per_target, seed=plan.seed, drawn_on=day(plan.drawn_on),
        due_date=day(plan.due_date), entity_snapshot_digest=plan.entity_digest,
        officer_snapshot_digest=plan.officer_digest, population_count=plan.population_count,
        key_object_count=plan.key_object_count, eligible_inspector_count=plan.eligible_inspector_count,
        target_count=plan.target_count, completed_count=view.completed_count, create_time=timestamp(plan.created_at),
        rounding=value_of(pb.RoundingRule, plan.rounding, ROUNDING))


def target_to_proto(inspection: Inspection) -> pb.PlanTarget:
    return pb.PlanTarget(position=inspection.plan_position, entity_id=inspection.entity_id,
                         inspector_ids=split_ids(inspection.assigned_officer_ids), inspection_id=inspection.id,
                         state=value_of(pb.InspectionState, inspection.state, STATE))


def conflict_to_proto(conflict: Conflict) -> pb.Conflict:
    return pb.Conflict(officer_id=conflict.officer_id, entity_id=conflict.entity_id, reason=conflict.reason,
                       declared_by=conflict.declared_by, create_time=timestamp(conflict.created_at))


# ---------------------------------------------------------------- inspections


def schedule_input(given: pb.Inspection) -> ScheduleInput:
    return ScheduleInput(entity_id=given.entity_id, kind=name_of(pb.InspectionKind, given.kind, KIND),
                         source_ref=given.source_ref, due_date=date_from_proto(given.due_date, "inspection.due_date"))


def inspection_listing(request: pb.ListInspectionsRequest) -> tuple[Page, InspectionFilter]:
    page = parse_page(request)
    terms = parse_filter(request.filter, {"office_id": str, "entity_id": str, "plan_id": str, "kind": str,
                                          "state": str})
    return page, InspectionFilter(office_id=_text(terms, "office_id"), entity_id=_text(terms, "entity_id"),
                                  plan_id=_text(terms, "plan_id"),
                                  kind=_filter_enum(terms, "kind", pb.InspectionKind, KIND),
                                  state=_filter_enum(terms, "state", pb.InspectionState, STATE))


def inspections_page(result: ListResult[InspectionView]) -> pb.ListInspectionsResponse:
    return pb.ListInspectionsResponse(inspections=[inspection_to_proto(v) for v in result.items],
                                      next_page_token=result.next_page_token)


def inspection_outcome(request: pb.CompleteInspectionRequest) -> str | None:
    """The outcome the inspectors chose; None: the one the failed items call for."""
    return name_of(pb.InspectionOutcome, request.outcome, INSPECTION_OUTCOME) if request.outcome else None


def rectification_due(request: pb.CompleteInspectionRequest) -> dt.date | None:
    return date_from_proto(request.rectification_due, "rectification_due")


def location_from_proto(request) -> LocationInput | None:
    if not request.HasField("location"):
        return None
    location = request.location
    return LocationInput(location.point.latitude, location.point.longitude, location.address)


def findings_from_proto(findings) -> list[FindingInput]:
    return [FindingInput(item_code=f.item_code, result=name_of(pb.ItemResult, f.result, RESULT), note=f.note,
                         evidence_refs=list(f.evidence_refs)) for f in findings]


def inspection_to_proto(view: InspectionView) -> pb.Inspection:
    inspection = view.inspection
    message = pb.Inspection(
        id=inspection.id, office_id=inspection.office_id, entity_id=inspection.entity_id,
        kind=value_of(pb.InspectionKind, inspection.kind, KIND), source_ref=inspection.source_ref,
        plan_id=inspection.plan_id or "", state=value_of(pb.InspectionState, inspection.state, STATE),
        due_date=day(inspection.due_date),
        assigned_officer_ids=split_ids(inspection.assigned_officer_ids),
        inspector_ids=split_ids(inspection.inspector_ids),
        checklist_category=value_of(pb.EntityCategory, inspection.checklist_category, CATEGORY),
        checklist_version=inspection.checklist_version or 0,
        findings=[pb.Finding(item_code=f.item_code, result=value_of(pb.ItemResult, f.result, RESULT), note=f.note,
                             evidence_refs=f.evidence_refs, recorded_by=f.recorded_by,
                             record_time=timestamp(f.recorded_at)) for f in view.findings],
        unanswered_items=view.unanswered,
        outcome=value_of(pb.InspectionOutcome, inspection.outcome, INSPECTION_OUTCOME), summary=inspection.summary,
        rectification_due=day(inspection.rectification_due),
        rectification_confirmed=inspection.rectification_confirmed_at is not None,
        rectification_overdue=inspection.rectification_overdue, lead_case_id=inspection.lead_case_id or "",
        publication_due=day(inspection.publication_due),
        publication_due_provisional=inspection.publication_due_provisional,
        publish_time=timestamp(inspection.published_at),
        publication_overdue=inspection.publication_overdue, start_time=timestamp(inspection.started_at),
        complete_time=timestamp(inspection.completed_at), create_time=timestamp(inspection.created_at),
        version=inspection.version)
    if inspection.latitude is not None:
        message.location.point.latitude, message.location.point.longitude = inspection.latitude, inspection.longitude
        message.location.address = inspection.location_address
    message.evidence.extend(evidence_to_proto(row) for row in view.evidence)
    return message


# ---------------------------------------------------------------- cases


def lead_from_proto(lead: pb.Case) -> LeadInput:
    return LeadInput(office_id=lead.office_id, entity_id=lead.entity_id, party_name=lead.party.name,
                     party_uscc=lead.party.uscc, party_address=lead.party.address,
                     source=name_of(pb.LeadSource, lead.source, SOURCE), source_ref=lead.source_ref,
                     description=lead.description,
                     received_at=instant_from_proto(lead.received_time, "lead.received_time"))


def case_listing(request: pb.ListCasesRequest) -> tuple[Page, CaseFilter]:
    page = parse_page(request)
    terms = parse_filter(request.filter, {"office_id": str, "state": str, "source": str, "entity_id": str})
    return page, CaseFilter(office_id=_text(terms, "office_id"),
                            state=_filter_enum(terms, "state", pb.CaseState, CASE_STATE),
                            source=_filter_enum(terms, "source", pb.LeadSource, SOURCE),
                            entity_id=_text(terms, "entity_id"))


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


def verification_to_proto(verification: Verification) -> pb.AuditTrailVerification:
    broken = verification.first_break
    return pb.AuditTrailVerification(subject=verification.chain_key, intact=verification.intact,
                                     records_checked=verification.records_checked,
                                     broken_record=broken.sequence if broken else 0,
                                     problem=broken.problem if broken else "", detail=broken.detail if broken else "")


# ---- documents
# Imported here so that the documents' section stands on its own below the others'.

DOCUMENT_KIND = "DOCUMENT_KIND_"


def document_kind(request: pb.IssueDocumentRequest) -> str:
    return name_of(pb.DocumentKind, request.kind, DOCUMENT_KIND)


def document_listing(request: pb.ListDocumentsRequest) -> tuple[Page, DocumentFilter]:
    page = parse_page(request)
    terms = parse_filter(request.filter, {"subject": str, "kind": str, "office_id": str})
    return page, DocumentFilter(office_id=_text(terms, "office_id"), subject=_text(terms, "subject"),
                                kind=_filter_enum(terms, "kind", pb.DocumentKind, DOCUMENT_KIND))


def document_to_proto(document: Document) -> pb.Document:
    return pb.Document(id=document.id, subject=document.subject,
                       kind=value_of(pb.DocumentKind, document.kind, DOCUMENT_KIND), number=document.number,
                       year=document.year, sequence=document.sequence, office_id=document.office_id,
                       sha256=document.sha256, content_type=document.content_type, size_bytes=document.size_bytes,
                       issued_by=document.issued_by, create_time=timestamp(document.created_at),
                       signed_copy_of=document.signed_copy_of or "", signer_name=document.signer_name,
                       signature_sha256=document.signature_sha256, sign_time=timestamp(document.signed_at))


def documents_page(result: ListResult[Document]) -> pb.ListDocumentsResponse:
    return pb.ListDocumentsResponse(documents=[document_to_proto(d) for d in result.items],
                                    next_page_token=result.next_page_token)


def document_content_to_proto(document: Document) -> pb.DocumentContent:
    return pb.DocumentContent(document=document_to_proto(document), content=document.content,
                              content_type=document.content_type)
