"""complaints' gRPC servicer, thin: each method calls one use case with the current caller and maps
through services.complaints.messages."""

from __future__ import annotations

import grpc

from services.common.context import current_caller
from services.common.convert import date_from_proto
from services.complaints import messages
from services.complaints.domain.complaints import Complaints, ComplaintView
from services.complaints.domain.public_status import PublicStatusLookup
from services.complaints.domain.statistics import Statistics
from supervision.complaints.v1 import complaints_pb2 as pb
from supervision.complaints.v1 import complaints_pb2_grpc as pb_grpc


class ComplaintApi(pb_grpc.ComplaintServiceServicer):
    """supervision.complaints.v1.ComplaintService over the Complaints use cases."""

    def __init__(self, complaints: Complaints, statistics: Statistics, public_status: PublicStatusLookup) -> None:
        self.complaints = complaints
        self.statistics = statistics
        self.public_status = public_status

    def _out(self, view: ComplaintView) -> pb.Complaint:
        workspace = self.complaints.workspace
        tree = workspace.categories.get(view.complaint.category_tree) if view.complaint.category_tree else None
        return messages.complaint_to_proto(view, workspace.rules, tree)

    def CreateComplaint(self, request: pb.CreateComplaintRequest, context: grpc.ServicerContext) -> pb.Complaint:
        view = self.complaints.create_complaint(current_caller(), request.request_id,
                                                messages.complaint_input(request.complaint))
        return self._out(view)

    def GetComplaint(self, request: pb.GetComplaintRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return self._out(self.complaints.get_complaint(current_caller(), request.id))

    def ListComplaints(self, request: pb.ListComplaintsRequest,
                       context: grpc.ServicerContext) -> pb.ListComplaintsResponse:
        query = messages.list_query(request)
        result = self.complaints.list_complaints(current_caller(), query.page, query.office_id, query.state,
                                                 query.kind, query.overdue)
        return messages.list_response(result, self.complaints.workspace.rules)

    def AcceptComplaint(self, request: pb.AcceptComplaintRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return self._out(self.complaints.accept(current_caller(), request.id, request.note))

    def RefuseComplaint(self, request: pb.RefuseComplaintRequest, context: grpc.ServicerContext) -> pb.Complaint:
        ground = messages.refusal_ground(request)
        return self._out(self.complaints.refuse(current_caller(), request.id, ground, request.note))

    def RecordMediationOutcome(self, request: pb.RecordMediationOutcomeRequest,
                               context: grpc.ServicerContext) -> pb.Complaint:
        outcome = messages.mediation_outcome(request)
        return self._out(self.complaints.record_mediation_outcome(current_caller(), request.id, outcome,
                                                                  request.note))

    def RecordNotification(self, request: pb.RecordNotificationRequest,
                           context: grpc.ServicerContext) -> pb.Complaint:
        return self._out(self.complaints.record_notification(current_caller(), request.id, request.note))

    def VerifyReport(self, request: pb.VerifyReportRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return self._out(self.complaints.verify_report(current_caller(), request.id, request.note))

    def ExtendFilingDeadline(self, request: pb.ExtendFilingDeadlineRequest,
                             context: grpc.ServicerContext) -> pb.Complaint:
        return self._out(self.complaints.extend_filing_deadline(current_caller(), request.id, request.approved_by,
                                                                request.reason))

    def DecideReport(self, request: pb.DecideReportRequest, context: grpc.ServicerContext) -> pb.Complaint:
        level = messages.reward_level(request)
        return self._out(self.complaints.decide_report(current_caller(), request.id, request.file_case,
                                                       request.note, level, request.reward_basis))

    def AnswerInquiry(self, request: pb.AnswerInquiryRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return self._out(self.complaints.answer_inquiry(current_caller(), request.id, request.answer))

    def RecordFeedback(self, request: pb.RecordFeedbackRequest, context: grpc.ServicerContext) -> pb.Complaint:
        rating = messages.feedback_rating(request)
        return self._out(self.complaints.record_feedback(current_caller(), request.id, rating, request.comment))

    def RerouteComplaint(self, request: pb.RerouteComplaintRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return self._out(self.complaints.reroute(current_caller(), request.id, request.office_id.strip(),
                                                 request.reason))

    def AssignHandler(self, request: pb.AssignHandlerRequest, context: grpc.ServicerContext) -> pb.Complaint:
        return self._out(self.complaints.assign_handler(current_caller(), request.id, request.officer_id,
                                                        request.reason))

    def GetCategoryStatistics(self, request: pb.GetCategoryStatisticsRequest,
                              context: grpc.ServicerContext) -> pb.CategoryStatistics:
        office_id, from_date, to_date = messages.statistics_query(request)
        return messages.statistics_to_proto(self.statistics.category_statistics(current_caller(), office_id,
                                                                                from_date, to_date))

    def ListCategories(self, request: pb.ListCategoriesRequest,
                       context: grpc.ServicerContext) -> pb.ListCategoriesResponse:
        return messages.categories_to_proto(self.statistics.categories(date_from_proto(request.on, "on")))

    def GetComplaintStatus(self, request: pb.GetComplaintStatusRequest,
                           context: grpc.ServicerContext) -> pb.ComplaintStatus:
        return messages.status_to_proto(self.public_status.status(current_caller(), request.number,
                                                                  request.phone_last4))
