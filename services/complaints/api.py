"""complaints' gRPC servicer, thin: each method calls one use case with the current caller and maps
through services.complaints.messages."""

from __future__ import annotations

import grpc

from services.common.context import current_caller
from services.complaints import messages
from services.complaints.domain.complaints import Complaints
from supervision.complaints.v1 import complaints_pb2 as pb
from supervision.complaints.v1 import complaints_pb2_grpc as pb_grpc


class ComplaintApi(pb_grpc.ComplaintServiceServicer):
    """supervision.complaints.v1.ComplaintService over the Complaints use cases."""

    def __init__(self, complaints: Complaints) -> None:
        self.complaints = complaints

    def CreateComplaint(self, request: pb.CreateComplaintRequest, context: grpc.ServicerContext) -> pb.Complaint:
        view = self.complaints.create_complaint(current_caller(), request.request_id,
                                                messages.complaint_input(request.complaint))
        return messages.complaint_to_proto(view)

    def GetComplaint(self, request: pb.GetComplaintRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return messages.complaint_to_proto(self.complaints.get_complaint(current_caller(), request.id))

    def ListComplaints(self, request: pb.ListComplaintsRequest,
                       context: grpc.ServicerContext) -> pb.ListComplaintsResponse:
        query = messages.list_query(request)
        result = self.complaints.list_complaints(current_caller(), query.page, query.office_id, query.state,
                                                 query.kind, query.overdue)
        return messages.list_response(result)

    def AcceptComplaint(self, request: pb.AcceptComplaintRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return messages.complaint_to_proto(self.complaints.accept(current_caller(), request.id, request.note))

    def RefuseComplaint(self, request: pb.RefuseComplaintRequest, context: grpc.ServicerContext) -> pb.Complaint:
        ground = messages.refusal_ground(request)
        return messages.complaint_to_proto(self.complaints.refuse(current_caller(), request.id, ground,
                                                                  request.note))

    def RecordMediationOutcome(self, request: pb.RecordMediationOutcomeRequest,
                               context: grpc.ServicerContext) -> pb.Complaint:
        outcome = messages.mediation_outcome(request)
        return messages.complaint_to_proto(self.complaints.record_mediation_outcome(current_caller(), request.id,
                                                                                    outcome, request.note))

    def RecordNotification(self, request: pb.RecordNotificationRequest,
                           context: grpc.ServicerContext) -> pb.Complaint:
        return messages.complaint_to_proto(self.complaints.record_notification(current_caller(), request.id,
                                                                               request.note))

    def VerifyReport(self, request: pb.VerifyReportRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return messages.complaint_to_proto(self.complaints.verify_report(current_caller(), request.id,
                                                                         request.note))

    def ExtendFilingDeadline(self, request: pb.ExtendFilingDeadlineRequest,
                             context: grpc.ServicerContext) -> pb.Complaint:
        return messages.complaint_to_proto(self.complaints.extend_filing_deadline(
            current_caller(), request.id, request.approved_by, request.reason))

    def DecideReport(self, request: pb.DecideReportRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return messages.complaint_to_proto(self.complaints.decide_report(current_caller(), request.id,
                                                                         request.file_case, request.note))

    def AnswerInquiry(self, request: pb.AnswerInquiryRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return messages.complaint_to_proto(self.complaints.answer_inquiry(current_caller(), request.id,
                                                                          request.answer))

    def RecordFeedback(self, request: pb.RecordFeedbackRequest, context: grpc.ServicerContext) -> pb.Complaint:
        rating = messages.feedback_rating(request)
        return messages.complaint_to_proto(self.complaints.record_feedback(current_caller(), request.id, rating,
                                                                           request.comment))

    def RerouteComplaint(self, request: pb.RerouteComplaintRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return messages.complaint_to_proto(self.complaints.reroute(current_caller(), request.id,
                                                                   request.office_id.strip(), request.reason))
