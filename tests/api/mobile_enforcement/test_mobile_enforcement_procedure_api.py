"""The ordinary penalty procedure through a real gRPC server, on SQLite and PostgreSQL: the
investigation's conclusion, legal review, collective discussion, the advance notice, the statement
period, the hearing, the decision, its delivery and execution with the late-payment surcharge
(the refusals are in test_mobile_enforcement_procedure_refusals_api.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.common.contracts import date_of
from supervision.mobile_enforcement.v1 import events_pb2 as events
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement.procedure_support import (
    FINE,
    GAINS,
    HEARING_ROOM,
    LICENCE,
    REVOKE,
    at,
    execution,
    get,
    hearing,
    on,
    refused,
    review,
    staffed,
    yuan,
)
from tests.api.mobile_enforcement.support import (
    FACTS,
    INVALID,
    LEGAL_BASIS,
    conclude,
    date,
    decided_case,
    filed_case,
    fine,
    notified,
    penalty,
    sanction,
    uscc,
)


def test_a_major_case_walks_every_step_to_its_closure(client):
    staffed(client)
    case = filed_case(client, uscc(1), "walk")
    proposed = penalty(sanction(FINE, 120_000), sanction(GAINS, 30_000), sanction(REVOKE, detail=LICENCE))
    # Monday 2 November 2026: nothing of the procedure before the investigation concludes.
    refused(client, [
        lambda: client.cases.SubmitForLegalReview(pb.SubmitForLegalReviewRequest(id=case.id)),
        lambda: client.cases.IssueAdvanceNotice(pb.IssueAdvanceNoticeRequest(id=case.id)),
        lambda: client.cases.RecordStatement(pb.RecordStatementRequest(id=case.id, statement="x")),
        lambda: client.cases.RequestHearing(pb.RequestHearingRequest(id=case.id)),
        lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=proposed)),
    ])
    concluded = conclude(client, case.id, proposed)
    # 150,000 yuan against an organisation and a licence revoked: a major decision (legal review),
    # a collective discussion, and a hearing on request.
    assert (concluded.state, concluded.investigated_on, concluded.facts, concluded.legal_basis) == (
        pb.CASE_STATE_INVESTIGATED, date(dt.date(2026, 11, 2)), FACTS, LEGAL_BASIS)
    assert (concluded.legal_review_required, concluded.collective_discussion_required,
            concluded.hearing_eligible) == (True, True, True)
    assert concluded.proposed_penalty == proposed and not concluded.HasField("penalty")
    refused(client, [
        lambda: client.cases.IssueAdvanceNotice(pb.IssueAdvanceNoticeRequest(id=case.id)),
        lambda: client.cases.RecordCollectiveDiscussion(pb.RecordCollectiveDiscussionRequest(id=case.id,
                                                                                             record="集体讨论")),
        lambda: client.cases.RecordLegalReview(review(case.id, "MH01-004")),
        lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=proposed)),
    ])
    submitted = client.cases.SubmitForLegalReview(pb.SubmitForLegalReviewRequest(id=case.id))
    # Ten working days from Monday 2 November.
    assert (submitted.state, submitted.legal_review_due) == (pb.CASE_STATE_LEGAL_REVIEW, date(dt.date(2026, 11, 16)))
    # The reviewer is of the office, on neither side: not one of the investigators, not conflicted.
    refused(client, [lambda: client.cases.RecordLegalReview(review(case.id, "MH01-001")),
                     lambda: client.cases.RecordLegalReview(review(case.id, "MH01-003")),
                     lambda: client.cases.RecordLegalReview(review(case.id, "MH02-001")),
                     lambda: client.cases.IssueAdvanceNotice(pb.IssueAdvanceNoticeRequest(id=case.id))])
    assert "reviewer_id" in refused(client, [lambda: client.cases.RecordLegalReview(review(case.id, "MH01-099"))],
                                    INVALID)
    returned = client.cases.RecordLegalReview(review(case.id, "MH01-004", approved=False,
                                                     opinion="货值金额证据不足，补充调查"))
    assert (returned.state, returned.HasField("legal_reviewed_on"), returned.legal_review_opinion) == (
        pb.CASE_STATE_FILED, False, "货值金额证据不足，补充调查")
    # Back to investigation, the classification and the intended penalty kept until the next conclusion.
    assert returned.legal_review_required and returned.proposed_penalty == proposed

    on(client, dt.date(2026, 11, 3))
    conclude(client, case.id, proposed)
    assert client.cases.SubmitForLegalReview(pb.SubmitForLegalReviewRequest(
        id=case.id)).legal_review_due == date(dt.date(2026, 11, 17))
    approved = client.cases.RecordLegalReview(review(case.id, "MH01-004"))
    assert (approved.state, approved.legal_reviewed_on, approved.legal_reviewer_id) == (
        pb.CASE_STATE_INVESTIGATED, date(dt.date(2026, 11, 3)), "MH01-004")
    refused(client, [lambda: client.cases.IssueAdvanceNotice(pb.IssueAdvanceNoticeRequest(id=case.id))])
    discussed = client.cases.RecordCollectiveDiscussion(pb.RecordCollectiveDiscussionRequest(
        id=case.id, record="2026年11月3日局务会议集体讨论：同意拟处罚意见"))
    assert (discussed.collective_discussed_on, discussed.collective_discussion_record) == (
        date(dt.date(2026, 11, 3)), "2026年11月3日局务会议集体讨论：同意拟处罚意见")

    on(client, dt.date(2026, 11, 4))
    notice = client.cases.IssueAdvanceNotice(pb.IssueAdvanceNoticeRequest(id=case.id))
    # Five working days from Wednesday 4 November; a hearing is asked for by the same day.
    assert (notice.state, notice.notified_on, notice.statement_due, notice.statement_due_provisional) == (
        pb.CASE_STATE_NOTIFIED, date(dt.date(2026, 11, 4)), date(dt.date(2026, 11, 11)), False)
    stated = client.cases.RecordStatement(pb.RecordStatementRequest(id=case.id,
                                                                    statement="当事人称系初次违法，请求从轻"))
    assert (stated.statement, stated.statement_waived) == ("当事人称系初次违法，请求从轻", False)
    # The party did not waive the period: no decision before it runs out.
    refused(client, [lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=proposed))])

    on(client, dt.date(2026, 11, 5))
    requested = client.cases.RequestHearing(pb.RequestHearingRequest(id=case.id))
    assert (requested.state, requested.hearing_requested_on, requested.paused_for, requested.paused_since) == (
        pb.CASE_STATE_HEARING, date(dt.date(2026, 11, 5)), pb.PAUSE_REASON_HEARING, date(dt.date(2026, 11, 5)))
    refused(client, [
        lambda: client.cases.RecordHearing(pb.RecordHearingRequest(id=case.id, record="x")),
        lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=proposed)),
        lambda: client.cases.RequestHearing(pb.RequestHearingRequest(id=case.id)),
        # The host is of neither side either; and the party is told seven days ahead.
        lambda: client.cases.ScheduleHearing(hearing(case.id, "MH01-002", at(dt.date(2026, 11, 12), 9))),
        lambda: client.cases.ScheduleHearing(hearing(case.id, "MH01-003", at(dt.date(2026, 11, 12), 9))),
        lambda: client.cases.ScheduleHearing(hearing(case.id, "MH01-005", at(dt.date(2026, 11, 11), 23))),
    ])
    scheduled = client.cases.ScheduleHearing(hearing(case.id, "MH01-005", at(dt.date(2026, 11, 12), 9)))
    assert (scheduled.hearing_host_id, scheduled.hearing_place, scheduled.hearing_notified_on,
            scheduled.hearing_time.ToDatetime(tzinfo=dt.UTC)) == (
        "MH01-005", HEARING_ROOM, date(dt.date(2026, 11, 5)), at(dt.date(2026, 11, 12), 9))

    on(client, dt.date(2026, 11, 11))
    refused(client, [lambda: client.cases.RecordHearing(pb.RecordHearingRequest(id=case.id, record="x"))])
    on(client, dt.date(2026, 11, 12), 15)
    held = client.cases.RecordHearing(pb.RecordHearingRequest(id=case.id,
                                                              record="听证笔录：当事人对事实无异议，请求减轻罚款"))
    # The decision clock stood still from 5 to 12 November: 31 January 2027 becomes 7 February.
    assert (held.state, held.hearing_held_on, held.paused_for, held.closing_due) == (
        pb.CASE_STATE_NOTIFIED, date(dt.date(2026, 11, 12)), 0, date(dt.date(2027, 2, 7)))
    # Heavier than notified (a higher fine, a kind not proposed): a new notice first.
    refused(client, [
        lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=penalty(
            sanction(FINE, 120_000, 1), sanction(GAINS, 30_000), sanction(REVOKE, detail=LICENCE)))),
        lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=penalty(
            sanction(FINE, 100_000), sanction(pb.PENALTY_KIND_SUSPEND_BUSINESS, days=30)))),
    ])
    detention = refused(client, [lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=penalty(
        sanction(FINE, 100_000), sanction(pb.PENALTY_KIND_ADMINISTRATIVE_DETENTION, days=5))))], INVALID)
    assert any("公安机关" in text for text in detention.values()), detention
    decided_penalty = penalty(sanction(FINE, 100_000), sanction(GAINS, 30_000), sanction(REVOKE, detail=LICENCE))
    decided = client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=decided_penalty, note="听证后从轻"))
    # Delivered within 7 natural days; published within 20 working days.
    assert (decided.state, decided.decided_on, decided.delivery_due, decided.publication_due) == (
        pb.CASE_STATE_DECIDED, date(dt.date(2026, 11, 12)), date(dt.date(2026, 11, 19)), date(dt.date(2026, 12, 10)))
    assert decided.penalty == decided_penalty and decided.proposed_penalty == proposed
    refused(client, [lambda: client.cases.RecordExecution(execution(case.id, Decimal(100_000))),
                     lambda: client.cases.CloseCase(pb.CloseCaseRequest(id=case.id))])

    on(client, dt.date(2026, 11, 13))
    delivered = client.cases.RecordDelivery(pb.RecordDeliveryRequest(id=case.id, method=pb.DELIVERY_METHOD_DIRECT))
    # The fine is paid within 15 natural days of delivery.
    assert (delivered.state, delivered.delivered_on, delivered.delivery_method, delivered.payment_due,
            yuan(delivered.surcharge)) == (pb.CASE_STATE_DELIVERED, date(dt.date(2026, 11, 13)),
                                           pb.DELIVERY_METHOD_DIRECT, date(dt.date(2026, 11, 28)), 0)
    refused(client, [lambda: client.cases.CloseCase(pb.CloseCaseRequest(id=case.id)),
                     lambda: client.cases.RecordDelivery(pb.RecordDeliveryRequest(
                         id=case.id, method=pb.DELIVERY_METHOD_MAIL))])
    assert client.cases.PublishDecision(pb.PublishDecisionRequest(id=case.id)).HasField("publish_time")

    on(client, dt.date(2026, 11, 28))
    assert yuan(get(client, case.id).surcharge) == 0  # the last day of the term
    on(client, dt.date(2026, 12, 2))
    client.sweep()
    # Four days late (29 and 30 November, 1 and 2 December) at 3% of the fine a day.
    owed = Decimal(100_000) * Decimal("0.03") * 4
    assert owed == Decimal(12_000)
    late = get(client, case.id)
    assert (late.payment_overdue, yuan(late.surcharge)) == (True, owed)
    [overdue] = client.events(events.CaseOverdue)
    assert (overdue.message.case_id, overdue.message.deadline, overdue.message.due_date, overdue.message.state,
            overdue.message.entity_name) == (case.id, "payment", date_of(dt.date(2026, 11, 28)), "DELIVERED",
                                             "小杨生煎（1店）")
    # The fine alone, or a yuan more than owed, is not the amount due.
    assert "amount_paid" in refused(client, [
        lambda: client.cases.RecordExecution(execution(case.id, Decimal(100_000))),
        lambda: client.cases.RecordExecution(execution(case.id, Decimal(100_000) + owed + 1)),
        lambda: client.cases.RecordExecution(execution(case.id, None))], INVALID)
    executed = client.cases.RecordExecution(execution(case.id, Decimal(100_000) + owed, note="银行缴款回执"))
    assert (executed.state, executed.executed_on, yuan(executed.amount_paid), yuan(executed.surcharge)) == (
        pb.CASE_STATE_EXECUTED, date(dt.date(2026, 12, 2)), Decimal(112_000), owed)
    on(client, dt.date(2026, 12, 9))
    # Paid: the surcharge stays what was paid, whatever the day.
    assert yuan(get(client, case.id).surcharge) == owed
    closed = client.cases.CloseCase(pb.CloseCaseRequest(id=case.id, note="执行完毕"))
    assert closed.state == pb.CASE_STATE_CLOSED
    [event] = client.events(events.CaseClosed)
    message = event.message
    assert (message.penalty, list(message.penalties), message.fine_yuan, message.confiscated_gains_yuan,
            message.surcharge_yuan, message.simplified) == (
        "FINE", ["FINE", "CONFISCATE_GAINS", "REVOKE_LICENCE"], "100000.00", "30000.00", "12000.00", False)
    # Paid four days late: the party's lateness is the surcharge above, not a clock of the office's,
    # so the officers' work stays on time.
    assert [(c.clock, c.due_date, c.met) for c in message.clocks] == [
        ("filing", date_of(dt.date(2026, 11, 23)), True), ("closing", date_of(dt.date(2027, 2, 7)), True),
        ("legal_review", date_of(dt.date(2026, 11, 17)), True), ("delivery", date_of(dt.date(2026, 11, 19)), True),
        ("publication", date_of(dt.date(2026, 12, 10)), True)]
    trail = client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=f"case/{case.id}"))
    # Opened, filed, concluded twice, submitted twice, reviewed twice, discussed, notified, stated,
    # hearing requested, scheduled and held, decided, delivered, published, executed, closed.
    assert (trail.intact, trail.records_checked) == (True, 19)


def test_a_small_fine_waits_out_the_statement_period_and_its_surcharge_stops_at_the_fine(client):
    client.entity(1)
    case = filed_case(client, uscc(1), "small")
    proposed = fine(5_000, party=pb.PARTY_KIND_INDIVIDUAL)
    concluded = conclude(client, case.id, proposed)
    # Below every threshold for a citizen: no legal review, no collective discussion, no hearing.
    assert (concluded.legal_review_required, concluded.collective_discussion_required,
            concluded.hearing_eligible) == (False, False, False)
    notice = client.cases.IssueAdvanceNotice(pb.IssueAdvanceNoticeRequest(id=case.id))
    assert notice.statement_due == date(dt.date(2026, 11, 9))
    refused(client, [lambda: client.cases.RequestHearing(pb.RequestHearingRequest(id=case.id))])
    on(client, dt.date(2026, 11, 9))
    # The last day of the period is still the party's.
    refused(client, [lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=proposed))])
    client.cases.RecordStatement(pb.RecordStatementRequest(id=case.id, statement="对违法事实无异议"))
    on(client, dt.date(2026, 11, 10))
    refused(client, [lambda: client.cases.RecordStatement(pb.RecordStatementRequest(id=case.id, statement="补充"))])
    decided = client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=proposed))
    assert (decided.state, decided.delivery_due) == (pb.CASE_STATE_DECIDED, date(dt.date(2026, 11, 17)))

    on(client, dt.date(2026, 11, 18))
    client.sweep()
    client.sweep()
    assert [(e.message.case_id, e.message.deadline, e.message.state) for e in client.events(events.CaseOverdue)] == [
        (case.id, "delivery", "DECIDED")]
    delivered = client.cases.RecordDelivery(pb.RecordDeliveryRequest(id=case.id, method=pb.DELIVERY_METHOD_MAIL))
    assert (delivered.delivery_overdue, delivered.payment_due) == (True, date(dt.date(2026, 12, 3)))
    on(client, dt.date(2026, 12, 4))
    assert yuan(get(client, case.id).surcharge) == Decimal(150)  # one day: 3% of 5,000
    # Forty-three days late would be 129% of the fine; the surcharge never exceeds the fine.
    on(client, dt.date(2027, 1, 15))
    assert yuan(get(client, case.id).surcharge) == Decimal(5_000)
    listed = client.cases.ListCases(pb.ListCasesRequest(filter="state = DELIVERED"))
    assert [(c.id, yuan(c.surcharge)) for c in listed.cases] == [(case.id, Decimal(5_000))]
    executed = client.cases.RecordExecution(execution(case.id, Decimal(10_000)))
    assert (executed.state, yuan(executed.amount_paid)) == (pb.CASE_STATE_EXECUTED, Decimal(10_000))


def test_decisions_without_a_fine_are_executed_without_payment_and_without_a_penalty_close_once_delivered(client):
    client.entity(1)
    warned = decided_case(client, filed_case(client, uscc(1), "warn").id, penalty(sanction(pb.PENALTY_KIND_WARNING)))
    # The party waived the statement period: decided the day of the notice, the waiver on record.
    assert (warned.state, warned.decided_on, warned.notified_on, warned.statement_waived) == (
        pb.CASE_STATE_DECIDED, date(dt.date(2026, 11, 2)), date(dt.date(2026, 11, 2)), True)
    delivered = client.cases.RecordDelivery(pb.RecordDeliveryRequest(
        id=warned.id, method=pb.DELIVERY_METHOD_ELECTRONIC))
    assert not delivered.HasField("payment_due") and not delivered.HasField("surcharge")
    refused(client, [lambda: client.cases.RecordExecution(execution(warned.id, Decimal(100)))], INVALID)
    executed = client.cases.RecordExecution(execution(warned.id, None, note="已当面警告"))
    assert (executed.state, executed.HasField("amount_paid")) == (pb.CASE_STATE_EXECUTED, False)
    assert client.cases.CloseCase(pb.CloseCaseRequest(id=warned.id)).state == pb.CASE_STATE_CLOSED

    spared = decided_case(client, filed_case(client, uscc(1), "none").id, penalty(sanction(pb.PENALTY_KIND_NONE)))
    assert not spared.HasField("publication_due")
    refused(client, [lambda: client.cases.PublishDecision(pb.PublishDecisionRequest(id=spared.id)),
                     lambda: client.cases.CloseCase(pb.CloseCaseRequest(id=spared.id))])
    client.cases.RecordDelivery(pb.RecordDeliveryRequest(id=spared.id, method=pb.DELIVERY_METHOD_LEFT_AT_RESIDENCE))
    closed = client.cases.CloseCase(pb.CloseCaseRequest(id=spared.id, note="不予处罚决定已送达"))
    assert closed.state == pb.CASE_STATE_CLOSED
    assert [(e.message.case_id, e.message.penalty, list(e.message.penalties)) for e in client.events(
        events.CaseClosed)] == [(warned.id, "WARNING", ["WARNING"]), (spared.id, "NONE", ["NONE"])]


def test_a_hearing_is_requested_within_its_period_and_the_legal_review_clock_runs_out(client):
    staffed(client)
    eligible = filed_case(client, uscc(1), "late-hearing")
    notified(client, eligible.id, fine(100_000), waive=False)
    reviewing = filed_case(client, uscc(1), "slow-review")
    conclude(client, reviewing.id, fine(100_000))
    client.cases.SubmitForLegalReview(pb.SubmitForLegalReviewRequest(id=reviewing.id))
    # Notified Monday 2 November: a hearing is asked for by Monday 9 November.
    on(client, dt.date(2026, 11, 10))
    refused(client, [lambda: client.cases.RequestHearing(pb.RequestHearingRequest(id=eligible.id))])
    assert client.cases.DecideCase(pb.DecideCaseRequest(id=eligible.id, penalty=fine(80_000))).state == \
        pb.CASE_STATE_DECIDED
    # The review was due on Monday 16 November.
    on(client, dt.date(2026, 11, 17))
    client.sweep()
    client.sweep()
    # The decision of 10 November is delivered by 17 November: not late yet.
    assert [(e.message.case_id, e.message.deadline, e.message.due_date, e.message.state)
            for e in client.events(events.CaseOverdue)] == [
        (reviewing.id, "legal_review", date_of(dt.date(2026, 11, 16)), "LEGAL_REVIEW")]
    assert get(client, reviewing.id).legal_review_overdue
    # A late review is still recorded, and stays late.
    reviewed = client.cases.RecordLegalReview(review(reviewing.id, "MH01-004"))
    assert (reviewed.state, reviewed.legal_review_overdue) == (pb.CASE_STATE_INVESTIGATED, True)
