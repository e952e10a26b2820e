"""complaints' gRPC servicer: proto <-> domain, nothing more. Masking of personal data happens
here, on the way out, as the domain's view says."""

from __future__ import annotations

import datetime as dt

from google.protobuf import timestamp_pb2

from services.common.context import current_caller
from services.common.convert import date_to_proto, enum_filter, enum_name
from services.common.errors import InvalidArgument
from services.common.paging import parse_filter, parse_page
from services.complaints.domain.deadlines import latest
from services.complaints.domain.desk import ComplaintDesk, ComplaintView
from services.complaints.domain.intake import ComplaintInput, yuan
from services.complaints.domain.personal_data import PersonalData, masked, redact
from services.complaints.domain.rules import ACCEPTANCE, FILING_DECISION
from supervision.complaints.v1 import complaints_pb2 as pb
from supervision.complaints.v1 import complaints_pb2_grpc as pb_grpc

KIND = "COMPLAINT_KIND_"
CHANNEL = "CHANNEL_"
STATE = "COMPLAINT_STATE_"
GROUND = "REFUSAL_GROUND_"
OUTCOME = "MEDIATION_OUTCOME_"
RATING = "FEEDBACK_RATING_"
DEADLINE_KIND = "DEADLINE_KIND_"
DEADLINE_STATUS = "DEADLINE_STATUS_"


def _state(name: str) -> int:
    return pb.ComplaintState.Value(STATE + name) if name else pb.COMPLAINT_STATE_UNSPECIFIED


def complaint_to_proto(view: ComplaintView) -> pb.Complaint:
    c = view.complaint
    personal = PersonalData(c.complainant_name, c.complainant_phone, c.complainant_id_number)
    shown = personal if view.personal_data_visible else masked(personal)

    def outward(text: str) -> str:
        # Free text often repeats the complainant's details; a masked view masks them there too.
        return text if view.personal_data_visible else redact(text, personal)

    message = pb.Complaint(
        id=c.id, kind=pb.ComplaintKind.Value(KIND + c.kind), channel=pb.Channel.Value(CHANNEL + c.channel),
        complainant=pb.Complainant(name=shown.name, phone=shown.phone, id_number=shown.id_number,
                                   anonymous=c.anonymous),
        respondent=pb.Respondent(name=c.respondent_name, uscc=c.respondent_uscc, address=c.respondent_address,
                                 street=c.respondent_street),
        category=c.category, description=outward(c.description),
        amount_yuan=yuan(c.amount_fen) if c.amount_fen is not None else "", office_id=c.office_id,
        state=_state(c.state), overdue=c.overdue, possible_duplicate_of=c.possible_duplicate_of,
        refusal_ground=pb.RefusalGround.Value(GROUND + c.refusal_ground) if c.refusal_ground else 0,
        personal_data_masked=not view.personal_data_visible, version=c.version)
    message.received_at.FromDatetime(c.received_at)
    message.create_time.FromDatetime(c.created_at)
    message.update_time.FromDatetime(c.updated_at)
    for deadline in view.deadlines:
        added = message.deadlines.add(
            kind=pb.DeadlineKind.Value(DEADLINE_KIND + deadline.kind.upper()),
            status=pb.DeadlineStatus.Value(DEADLINE_STATUS + deadline.status),
            started_on=date_to_proto(deadline.started_on), due_date=date_to_proto(deadline.due_date),
            provisional=deadline.provisional, rule_set=deadline.rule_set, extended=deadline.extended)
        if deadline.met_on:
            added.met_on.CopyFrom(date_to_proto(deadline.met_on))
    acceptance = latest(view.deadlines, ACCEPTANCE)
    if acceptance:
        message.acceptance_due.CopyFrom(date_to_proto(acceptance.due_date))
        message.acceptance_due_provisional = acceptance.provisional
    filing = latest(view.deadlines, FILING_DECISION)
    if filing:
        message.filing_decision_due.CopyFrom(date_to_proto(filing.due_date))
        message.filing_decision_due_provisional = filing.provisional
    if c.feedback_rating:
        message.feedback.rating = pb.FeedbackRating.Value(RATING + c.feedback_rating)
        message.feedback.comment = outward(c.feedback_comment)
        message.feedback.record_time.FromDatetime(c.feedback_at)
    if c.notified_at:
        message.notify_time.FromDatetime(c.notified_at)
    for entry in view.history:
        added = message.history.add(action=entry.action, from_state=_state(entry.from_state),
                                    to_state=_state(entry.to_state), from_office_id=entry.from_office_id,
                                    to_office_id=entry.to_office_id, note=outward(entry.note), actor=entry.actor)
        added.time.FromDatetime(entry.at)
    return message


def _instant(value: timestamp_pb2.Timestamp, field: str) -> dt.datetime | None:
    if value.seconds == 0 and value.nanos == 0:
        return None
    try:
        return value.ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument.of(field, "is not a valid time") from None


def _complaint_input(message: pb.Complaint) -> ComplaintInput:
    return ComplaintInput(
        kind=enum_name(pb.ComplaintKind, message.kind, "complaint.kind", KIND, required=False),
        channel=enum_name(pb.Channel, message.channel, "complaint.channel", CHANNEL, required=False),
        received_at=_instant(message.received_at, "complaint.received_at"),
        complainant_name=message.complainant.name, complainant_phone=message.complainant.phone,
        complainant_id_number=message.complainant.id_number, anonymous=message.complainant.anonymous,
        respondent_name=message.respondent.name, respondent_uscc=message.respondent.uscc,
        respondent_address=message.respondent.address, respondent_street=message.respondent.street,
        category=message.category, description=message.description, amount_yuan=message.amount_yuan)


class ComplaintApi(pb_grpc.ComplaintServiceServicer):
    def __init__(self, desk: ComplaintDesk):
        self.desk = desk

    def CreateComplaint(self, request, context):
        view = self.desk.create_complaint(current_caller(), request.request_id, _complaint_input(request.complaint))
        return complaint_to_proto(view)

    def GetComplaint(self, request, context):
        return complaint_to_proto(self.desk.get_complaint(current_caller(), request.id))

    def ListComplaints(self, request, context):
        page = parse_page(request)
        terms = parse_filter(request.filter, {"office_id": str, "state": str, "kind": str, "overdue": bool})
        state = enum_filter(pb.ComplaintState, str(terms["state"]), "state", STATE) if "state" in terms else None
        kind = enum_filter(pb.ComplaintKind, str(terms["kind"]), "kind", KIND) if "kind" in terms else None
        result = self.desk.list_complaints(current_caller(), page, terms.get("office_id"), state, kind,
                                           terms.get("overdue"))
        return pb.ListComplaintsResponse(complaints=[complaint_to_proto(v) for v in result.items],
                                         next_page_token=result.next_page_token)

    def AcceptComplaint(self, request, context):
        return complaint_to_proto(self.desk.accept(current_caller(), request.id, request.note))

    def RefuseComplaint(self, request, context):
        ground = enum_name(pb.RefusalGround, request.ground, "ground", GROUND, required=False)
        return complaint_to_proto(self.desk.refuse(current_caller(), request.id, ground, request.note))

    def RecordMediationOutcome(self, request, context):
        outcome = enum_name(pb.MediationOutcome, request.outcome, "outcome", OUTCOME, required=False)
        return complaint_to_proto(self.desk.record_mediation_outcome(current_caller(), request.id, outcome,
                                                                     request.note))

    def RecordNotification(self, request, context):
        return complaint_to_proto(self.desk.record_notification(current_caller(), request.id, request.note))

    def VerifyReport(self, request, context):
        return complaint_to_proto(self.desk.verify_report(current_caller(), request.id, request.note))

    def ExtendFilingDeadline(self, request, context):
        return complaint_to_proto(self.desk.extend_filing_deadline(current_caller(), request.id,
                                                                   request.approved_by, request.reason))

    def DecideReport(self, request, context):
        return complaint_to_proto(self.desk.decide_report(current_caller(), request.id, request.file_case,
                                                          request.note))

    def AnswerInquiry(self, request, context):
        return complaint_to_proto(self.desk.answer_inquiry(current_caller(), request.id, request.answer))

    def RecordFeedback(self, request, context):
        rating = enum_name(pb.FeedbackRating, request.rating, "rating", RATING, required=False)
        return complaint_to_proto(self.desk.record_feedback(current_caller(), request.id, rating, request.comment))

    def RerouteComplaint(self, request, context):
        return complaint_to_proto(self.desk.reroute(current_caller(), request.id, request.office_id.strip(),
                                                    request.reason))
