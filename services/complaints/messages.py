"""Conversions between complaints' proto messages and its domain objects: requests into domain
input, items into the messages callers get. Masking of personal data happens here, on the way out,
as the domain's view says."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from google.protobuf import timestamp_pb2

from services.common.convert import date_from_proto, date_to_proto, enum_filter, enum_name
from services.common.errors import InvalidArgument
from services.common.paging import ListResult, Page, parse_filter, parse_page
from services.complaints.domain.categories import Category, CategoryTree
from services.complaints.domain.complaints import ComplaintView
from services.complaints.domain.deadlines import OPEN, latest
from services.complaints.domain.intake import ComplaintInput, yuan
from services.complaints.domain.personal_data import PersonalData, masked, redact
from services.complaints.domain.public_status import PublicStatus
from services.complaints.domain.rules import ACCEPTANCE, FILING_DECISION, RuleBook
from services.complaints.domain.statistics import UNCLASSIFIED, CategoryCount, CategoryStatistics
from services.complaints.models import ComplaintDeadline, ReportReward
from supervision.complaints.v1 import complaints_pb2 as pb

KIND = "COMPLAINT_KIND_"
CHANNEL = "CHANNEL_"
STATE = "COMPLAINT_STATE_"
GROUND = "REFUSAL_GROUND_"
OUTCOME = "MEDIATION_OUTCOME_"
RATING = "FEEDBACK_RATING_"
DEADLINE_KIND = "DEADLINE_KIND_"
DEADLINE_STATUS = "DEADLINE_STATUS_"
REWARD_LEVEL = "REWARD_LEVEL_"
# The reward levels as the domain records them ("1".."3") and as the contract names them.
REWARD_LEVELS = {"FIRST": "1", "SECOND": "2", "THIRD": "3"}


@dataclass(frozen=True)
class ListQuery:
    """What a ListComplaints request asks for: the page and the filter's terms."""

    page: Page
    office_id: str | None
    state: str | None
    kind: str | None
    overdue: bool | None


# ---------------------------------------------------------------------- requests -> domain


def complaint_input(message: pb.Complaint) -> ComplaintInput:
    """The item a CreateComplaint request carries."""
    return ComplaintInput(
        kind=enum_name(pb.ComplaintKind, message.kind, "complaint.kind", KIND, required=False),
        channel=enum_name(pb.Channel, message.channel, "complaint.channel", CHANNEL, required=False),
        received_at=_instant(message.received_at, "complaint.received_at"),
        complainant_name=message.complainant.name, complainant_phone=message.complainant.phone,
        complainant_id_number=message.complainant.id_number, anonymous=message.complainant.anonymous,
        respondent_name=message.respondent.name, respondent_uscc=message.respondent.uscc,
        respondent_address=message.respondent.address, respondent_street=message.respondent.street,
        category=message.category, description=message.description, amount_yuan=message.amount_yuan,
        category_code=message.category_code)


def list_query(request: pb.ListComplaintsRequest) -> ListQuery:
    """The page and filter (office_id, state, kind, overdue) of a ListComplaints request."""
    page = parse_page(request)
    terms = parse_filter(request.filter, {"office_id": str, "state": str, "kind": str, "overdue": bool})
    state = enum_filter(pb.ComplaintState, str(terms["state"]), "state", STATE) if "state" in terms else None
    kind = enum_filter(pb.ComplaintKind, str(terms["kind"]), "kind", KIND) if "kind" in terms else None
    office_id, overdue = terms.get("office_id"), terms.get("overdue")
    return ListQuery(page, str(office_id) if office_id is not None else None, state, kind,
                     bool(overdue) if overdue is not None else None)


def refusal_ground(request: pb.RefuseComplaintRequest) -> str | None:
    """The refusal ground's name, None when the request leaves it out."""
    return enum_name(pb.RefusalGround, request.ground, "ground", GROUND, required=False)


def mediation_outcome(request: pb.RecordMediationOutcomeRequest) -> str | None:
    """The mediation outcome's name, None when the request leaves it out."""
    return enum_name(pb.MediationOutcome, request.outcome, "outcome", OUTCOME, required=False)


def feedback_rating(request: pb.RecordFeedbackRequest) -> str | None:
    """The feedback rating's name, None when the request leaves it out."""
    return enum_name(pb.FeedbackRating, request.rating, "rating", RATING, required=False)


def reward_level(request: pb.DecideReportRequest) -> str:
    """The reward level a DecideReport request records ("1".."3"), "" when none."""
    name = enum_name(pb.RewardLevel, request.reward_level, "reward_level", REWARD_LEVEL, required=False)
    return REWARD_LEVELS[name] if name else ""


def statistics_query(request: pb.GetCategoryStatisticsRequest) -> tuple[str | None, dt.date | None, dt.date | None]:
    """The office (None: every office in scope) and the dates of a GetCategoryStatistics request."""
    office_id = request.office_id.strip() or None
    return (office_id, date_from_proto(request.from_date, "from_date"), date_from_proto(request.to_date, "to_date"))


def _instant(value: timestamp_pb2.Timestamp, field: str) -> dt.datetime | None:
    if value.seconds == 0 and value.nanos == 0:
        return None
    try:
        return value.ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError):
        raise InvalidArgument.of(field, "is not a valid time") from None


# ---------------------------------------------------------------------- domain -> messages


def _state(name: str) -> int:
    return pb.ComplaintState.Value(STATE + name) if name else pb.COMPLAINT_STATE_UNSPECIFIED


def _deadline_to_proto(deadline: ComplaintDeadline, rules: RuleBook) -> pb.Deadline:
    message = pb.Deadline(
        kind=pb.DeadlineKind.Value(DEADLINE_KIND + deadline.kind.upper()),
        status=pb.DeadlineStatus.Value(DEADLINE_STATUS + deadline.status),
        started_on=date_to_proto(deadline.started_on), due_date=date_to_proto(deadline.due_date),
        provisional=deadline.provisional, rule_set=deadline.rule_set, extended=deadline.extended,
        provisional_rule=not rules.get(deadline.rule_set).confirmed)
    if deadline.met_on:
        message.met_on.CopyFrom(date_to_proto(deadline.met_on))
    return message


def _level_value(level: str) -> int:
    names = {digit: name for name, digit in REWARD_LEVELS.items()}
    return pb.RewardLevel.Value(REWARD_LEVEL + names[level]) if level in names else pb.REWARD_LEVEL_UNSPECIFIED


def _reward_to_proto(reward: ReportReward) -> pb.ReportReward:
    return pb.ReportReward(case_id=reward.case_id, rule_set=reward.rule_set, level=_level_value(reward.level),
                           base_yuan=yuan(reward.base_fen), rate_basis_points=reward.rate_basis_points,
                           amount_yuan=yuan(reward.amount_fen), explanation=reward.explanation,
                           computed_on=date_to_proto(reward.computed_on))


def complaint_to_proto(view: ComplaintView, rules: RuleBook, tree: CategoryTree | None = None) -> pb.Complaint:
    """An item as the caller may see it: personal data masked unless the view shows it."""
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
    message.deadlines.extend(_deadline_to_proto(deadline, rules) for deadline in view.deadlines)
    message.provisional_rule = any(not rules.get(d.rule_set).confirmed for d in view.deadlines if d.status in OPEN)
    node = tree.find(c.category_code) if tree is not None and c.category_code else None
    message.category_code, message.category_path = c.category_code, node.path if node else ""
    message.handler_id, message.reward_basis = c.handler_id, c.reward_basis
    message.reward_level = _level_value(c.reward_level)
    if view.reward is not None:
        message.reward.CopyFrom(_reward_to_proto(view.reward))
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


def list_response(result: ListResult, rules: RuleBook) -> pb.ListComplaintsResponse:
    """A page of items as ListComplaints answers it."""
    return pb.ListComplaintsResponse(complaints=[complaint_to_proto(v, rules) for v in result.items],
                                     next_page_token=result.next_page_token)


def _count_to_proto(row: CategoryCount) -> pb.CategoryCount:
    node: Category | None = row.node
    return pb.CategoryCount(office_id=row.office_id, category_code=row.code,
                            category_path=node.path if node else (row.code or UNCLASSIFIED),
                            domain=node.domain if node else "", class_code=node.class_code if node else "",
                            count=row.count)


def statistics_to_proto(statistics: CategoryStatistics) -> pb.CategoryStatistics:
    """Counts per office and category, and the district's, as GetCategoryStatistics answers them."""
    return pb.CategoryStatistics(tree_id=statistics.tree.id,
                                 by_office=[_count_to_proto(row) for row in statistics.by_office],
                                 district=[_count_to_proto(row) for row in statistics.district])


def categories_to_proto(tree: CategoryTree) -> pb.ListCategoriesResponse:
    """The classification as ListCategories answers it: every node in the file's order."""
    return pb.ListCategoriesResponse(
        tree_id=tree.id, title=tree.title, effective_from=date_to_proto(tree.effective_from),
        nodes=[_count_to_proto(CategoryCount("", node.code, node, 0)) for node in tree.nodes.values()])


def status_to_proto(status: PublicStatus) -> pb.ComplaintStatus:
    """The public status: kind, state and dates, never a name, phone, office or note."""
    c = status.complaint
    message = pb.ComplaintStatus(number=c.id, kind=pb.ComplaintKind.Value(KIND + c.kind), state=_state(c.state),
                                 received_on=date_to_proto(status.received_on),
                                 updated_on=date_to_proto(status.updated_on))
    for deadline in status.deadlines:
        added = message.deadlines.add(
            kind=pb.DeadlineKind.Value(DEADLINE_KIND + deadline.kind.upper()),
            status=pb.DeadlineStatus.Value(DEADLINE_STATUS + deadline.status),
            due_date=date_to_proto(deadline.due_date), provisional=deadline.provisional,
            provisional_rule=deadline.rule_set in status.unconfirmed_rule_sets)
        if deadline.met_on:
            added.met_on.CopyFrom(date_to_proto(deadline.met_on))
    return message
