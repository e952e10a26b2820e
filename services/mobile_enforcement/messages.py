"""Conversions between mobile_enforcement's proto messages and its domain objects: requests to the
use cases' inputs, records to messages. Nothing else: the servicers in api.py only call these (and
case_messages.py's, field_messages.py's) and one use case.

Enum values the contract does not know become "" here and are refused by the domain with the
request's other problems, so a caller sees every violation at once.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from google.protobuf import timestamp_pb2
from google.type import date_pb2, money_pb2

from services.common.convert import date_from_proto, date_to_proto, enum_filter, enum_name, update_paths
from services.common.errors import InvalidArgument
from services.common.hash_chain import Verification
from services.common.paging import ListResult, Page, parse_filter, parse_page
from services.mobile_enforcement.domain.checklists import Checklist
from services.mobile_enforcement.domain.documents import DocumentFilter
from services.mobile_enforcement.domain.entities import UPDATABLE_FIELDS, EntityFilter, EntityInput
from services.mobile_enforcement.domain.entity_import import ImportResult
from services.mobile_enforcement.domain.evidence import EvidenceInput, reference
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
from services.mobile_enforcement.models import Conflict, Document, Entity, Inspection, InspectionEvidence
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

CATEGORY = "ENTITY_CATEGORY_"
RISK = "RISK_LEVEL_"
OUTCOME = "FAILURE_OUTCOME_"
KIND = "INSPECTION_KIND_"
STATE = "INSPECTION_STATE_"
RESULT = "ITEM_RESULT_"
INSPECTION_OUTCOME = "INSPECTION_OUTCOME_"
SNAPSHOT = "SNAPSHOT_KIND_"
ROUNDING = "ROUNDING_RULE_"
EVIDENCE_KIND = "EVIDENCE_KIND_"
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


def enum_term(terms: dict, field: str, enum_type, prefix: str) -> str | None:
    """A filter term naming an enum value, as the domain's word; None when the filter has no such term."""
    return enum_filter(enum_type, str(terms[field]), field, prefix) if field in terms else None


def text_term(terms: dict, field: str) -> str | None:
    """A filter term's text; None when the filter has no such term."""
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
    return page, EntityFilter(office_id=text_term(terms, "office_id"),
                              category=enum_term(terms, "category", pb.EntityCategory, CATEGORY),
                              risk_level=enum_term(terms, "risk_level", pb.RiskLevel, RISK),
                              street=text_term(terms, "street"),
                              key_supervision=None if key_supervision is None else bool(key_supervision),
                              industry_code=text_term(terms, "industry_code"), search=text_term(terms, "search"))


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
    return page, enum_term(terms, "category", pb.EntityCategory, CATEGORY)


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
    return page, text_term(terms, "office_id")


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
    return page, ConflictFilter(officer_id=text_term(terms, "officer_id"), entity_id=text_term(terms, "entity_id"))


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
    return page, InspectionFilter(office_id=text_term(terms, "office_id"), entity_id=text_term(terms, "entity_id"),
                                  plan_id=text_term(terms, "plan_id"),
                                  kind=enum_term(terms, "kind", pb.InspectionKind, KIND),
                                  state=enum_term(terms, "state", pb.InspectionState, STATE))


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


def evidence_input(request: pb.AttachEvidenceRequest) -> EvidenceInput:
    """The evidence to attach, as the domain takes it; an unknown kind stays visible, so it is refused."""
    given = request.evidence
    try:
        kind = pb.EvidenceKind.Name(given.kind).removeprefix(EVIDENCE_KIND)
    except ValueError:
        kind = str(given.kind)
    has_position = given.HasField("position")
    return EvidenceInput(
        kind="" if kind == "UNSPECIFIED" else kind, sha256=given.sha256, content_type=given.content_type,
        size_bytes=given.size_bytes, captured_at=instant_from_proto(given.capture_time, "evidence.capture_time"),
        latitude=given.position.latitude if has_position else None,
        longitude=given.position.longitude if has_position else None,
        accuracy_meters=given.position_accuracy_meters, item_code=given.item_code)


def evidence_to_proto(row: InspectionEvidence) -> pb.Evidence:
    """One attached file as the Inspection lists it."""
    message = pb.Evidence(ref=reference(row.sha256), kind=pb.EvidenceKind.Value(EVIDENCE_KIND + row.kind),
                          sha256=row.sha256, content_type=row.content_type, size_bytes=row.size_bytes,
                          position_accuracy_meters=row.accuracy_meters, item_code=row.item_code,
                          attached_by=row.attached_by)
    message.capture_time.FromDatetime(row.captured_at)
    message.attach_time.FromDatetime(row.attached_at)
    if row.latitude is not None and row.longitude is not None:
        message.position.latitude, message.position.longitude = row.latitude, row.longitude
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
    return page, DocumentFilter(office_id=text_term(terms, "office_id"), subject=text_term(terms, "subject"),
                                kind=enum_term(terms, "kind", pb.DocumentKind, DOCUMENT_KIND))


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
