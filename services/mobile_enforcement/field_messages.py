"""The field app's messages (evidence, work lists, signed records) mapped to and from the domain:
beside messages.py, which maps the rest of the service's messages."""

from __future__ import annotations

from google.protobuf import timestamp_pb2

from services.common.paging import ListResult, Page, parse_page
from services.mobile_enforcement.domain.assignments import Assignment
from services.mobile_enforcement.domain.evidence import EvidenceInput, reference
from services.mobile_enforcement.domain.signing import SignatureInput
from services.mobile_enforcement.models import InspectionEvidence
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

EVIDENCE_KIND = "EVIDENCE_KIND_"


def _instant(message: timestamp_pb2.Timestamp, field: str):
    # messages.py's conversion, imported late: messages imports this module's evidence_to_proto.
    from services.mobile_enforcement.messages import instant_from_proto

    return instant_from_proto(message, field)


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
        size_bytes=given.size_bytes, captured_at=_instant(given.capture_time, "evidence.capture_time"),
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


def assignment_listing(request: pb.ListAssignmentsRequest) -> Page:
    """The page ListAssignments asks for."""
    return parse_page(request)


def assignments_page(result: ListResult[Assignment]) -> pb.ListAssignmentsResponse:
    """A page of assignments, each inspection with its entity and the entity's last result."""
    from services.mobile_enforcement.messages import INSPECTION_OUTCOME, entity_to_proto, inspection_to_proto

    answers = []
    for item in result.items:
        assignment = pb.Assignment(inspection=inspection_to_proto(item.view), entity=entity_to_proto(item.entity))
        if item.last is not None:
            if item.last.outcome:
                assignment.last_outcome = pb.InspectionOutcome.Value(INSPECTION_OUTCOME + item.last.outcome)
            assignment.last_complete_time.FromDatetime(item.last.completed_at)
        answers.append(assignment)
    return pb.ListAssignmentsResponse(assignments=answers, next_page_token=result.next_page_token)


def signature_input(request: pb.SignDocumentRequest) -> SignatureInput:
    """The party's signature, as the domain takes it."""
    return SignatureInput(document_id=request.document_id, signer_name=request.signer_name,
                          signature_png=request.signature_png,
                          signed_at=_instant(request.sign_time, "sign_time"))
