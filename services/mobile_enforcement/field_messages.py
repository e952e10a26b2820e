"""The field app's own messages (work lists, signed records) mapped to and from the domain, beside
messages.py (which maps an inspection's evidence with the inspection) and case_messages.py."""

from __future__ import annotations

from services.common.paging import ListResult, Page, parse_page
from services.mobile_enforcement.domain.assignments import Assignment
from services.mobile_enforcement.domain.signing import SignatureInput
from services.mobile_enforcement.messages import (
    INSPECTION_OUTCOME,
    entity_to_proto,
    inspection_to_proto,
    instant_from_proto,
)
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb


def assignment_listing(request: pb.ListAssignmentsRequest) -> Page:
    """The page ListAssignments asks for."""
    return parse_page(request)


def assignments_page(result: ListResult[Assignment]) -> pb.ListAssignmentsResponse:
    """A page of assignments, each inspection with its entity and the entity's last result."""
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
                          signed_at=instant_from_proto(request.sign_time, "sign_time"))
