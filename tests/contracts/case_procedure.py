"""The ordinary penalty procedure walked through mobile_enforcement's own gRPC API, for the tests of
the services that consume its case events (CaseClosed, CaseOverdue): a filed case is concluded,
reviewed and discussed when its intended penalty requires it, notified (the party waives the
statement period, so no day has to pass), decided, delivered, executed and closed."""

from __future__ import annotations

from decimal import Decimal

from google.type import money_pb2

from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as me_grpc

FACTS = "当事人销售超过保质期的食品，有现场检查笔录、进货单据为证。"
LEGAL_BASIS = "《中华人民共和国食品安全法》第三十四条第（十）项、第一百二十四条第一款第（五）项"


def warning(party_kind: int = me.PARTY_KIND_ORGANISATION) -> me.Penalty:
    """A warning alone: no legal review, no collective discussion, no hearing."""
    return me.Penalty(party_kind=party_kind, sanctions=[me.Sanction(kind=me.PENALTY_KIND_WARNING)])


def fine(yuan: int, party_kind: int = me.PARTY_KIND_ORGANISATION) -> me.Penalty:
    """A fine alone, in whole yuan."""
    return me.Penalty(party_kind=party_kind, sanctions=[me.Sanction(
        kind=me.PENALTY_KIND_FINE, amount=money_pb2.Money(currency_code="CNY", units=yuan))])


def yuan(money: money_pb2.Money) -> Decimal:
    return Decimal(money.units) + Decimal(money.nanos) / Decimal(1_000_000_000)


def money(amount: Decimal) -> money_pb2.Money:
    units = int(amount)
    return money_pb2.Money(currency_code="CNY", units=units, nanos=int((amount - units) * 1_000_000_000))


def concluded(cases: me_grpc.CaseServiceStub, case_id: str, penalty: me.Penalty, metadata=None) -> me.Case:
    """FILED -> INVESTIGATED with this intended penalty."""
    return cases.ConcludeInvestigation(me.ConcludeInvestigationRequest(
        id=case_id, facts=FACTS, legal_basis=LEGAL_BASIS, proposed_penalty=penalty), metadata=metadata)


def decided(cases: me_grpc.CaseServiceStub, case_id: str, penalty: me.Penalty, *, reviewer_id: str = "",
            metadata=None) -> me.Case:
    """A FILED case decided today with `penalty`, notified of the same one; `reviewer_id` (an officer
    of the office not on the case) reviews it when the penalty needs a legal review."""
    case = concluded(cases, case_id, penalty, metadata)
    if case.legal_review_required:
        cases.SubmitForLegalReview(me.SubmitForLegalReviewRequest(id=case_id), metadata=metadata)
        cases.RecordLegalReview(me.RecordLegalReviewRequest(
            id=case_id, reviewer_id=reviewer_id, approved=True, opinion="事实清楚，证据确凿，适用依据正确"),
            metadata=metadata)
    if case.collective_discussion_required:
        cases.RecordCollectiveDiscussion(me.RecordCollectiveDiscussionRequest(
            id=case_id, record="局务会议集体讨论，同意拟处罚意见"), metadata=metadata)
    cases.IssueAdvanceNotice(me.IssueAdvanceNoticeRequest(id=case_id), metadata=metadata)
    cases.RecordStatement(me.RecordStatementRequest(id=case_id, statement="当事人放弃陈述申辩", waived=True),
                          metadata=metadata)
    return cases.DecideCase(me.DecideCaseRequest(id=case_id, penalty=penalty, note="经调查终结，作出处罚决定"),
                            metadata=metadata)


def executed(cases: me_grpc.CaseServiceStub, case_id: str, metadata=None) -> me.Case:
    """A DECIDED case delivered in person and executed: a fine paid with the surcharge owed today."""
    case = cases.RecordDelivery(me.RecordDeliveryRequest(id=case_id, method=me.DELIVERY_METHOD_DIRECT),
                                metadata=metadata)
    fines = [yuan(s.amount) for s in case.penalty.sanctions if s.kind == me.PENALTY_KIND_FINE]
    request = me.RecordExecutionRequest(id=case_id, note="处罚决定已执行完毕")
    if fines:
        request.amount_paid.CopyFrom(money(fines[0] + yuan(case.surcharge)))
    return cases.RecordExecution(request, metadata=metadata)


def closed(cases: me_grpc.CaseServiceStub, case_id: str, penalty: me.Penalty, *, reviewer_id: str = "",
           publish: bool = True, metadata=None) -> me.Case:
    """A FILED case taken through the whole ordinary procedure to CLOSED today."""
    case = decided(cases, case_id, penalty, reviewer_id=reviewer_id, metadata=metadata)
    if publish and case.HasField("publication_due"):
        cases.PublishDecision(me.PublishDecisionRequest(id=case_id), metadata=metadata)
    if any(s.kind != me.PENALTY_KIND_NONE for s in penalty.sanctions):
        executed(cases, case_id, metadata)
    else:
        cases.RecordDelivery(me.RecordDeliveryRequest(id=case_id, method=me.DELIVERY_METHOD_DIRECT),
                             metadata=metadata)
    return cases.CloseCase(me.CloseCaseRequest(id=case_id, note="结案"), metadata=metadata)
