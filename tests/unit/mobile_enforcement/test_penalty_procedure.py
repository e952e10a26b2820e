"""The ordinary penalty procedure through the Cases use cases on a SQLite store: each step in order,
each refused out of order, too early or by the wrong officer (changing nothing), the clocks the
sweep runs out, and the closing event."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import TypeVar

import pytest
from google.protobuf.message import Message
from sqlalchemy import select

from services.common import contracts
from services.common.clock import SHANGHAI
from services.common.contracts import date_of
from services.common.errors import FailedPrecondition, InvalidArgument
from services.mobile_enforcement import indicators
from services.mobile_enforcement.domain.case_rules import InvestigationInput, case_proposed_penalty, case_sanctions
from services.mobile_enforcement.models import AuditRecord
from supervision.mobile_enforcement.v1 import events_pb2 as events
from tests.unit.mobile_enforcement.case_support import (
    CONFLICTED,
    HOST,
    OFFICE,
    OFFICER,
    OUTSIDER,
    REVIEWER,
    TEAM,
    Desk,
    findings,
    penalty,
    sanction,
)

MONDAY = dt.date(2026, 11, 2)
# Five working days after Monday 2 November 2026.
STATEMENT_DUE = dt.date(2026, 11, 9)
LARGE_FINE = penalty(sanction("FINE", "150000"))           # legal review and a hearing on request
SMALL_FINE = penalty(sanction("WARNING"), sanction("FINE", "5000"))  # none of them
M = TypeVar("M", bound=Message)


@pytest.fixture
def desk(tmp_path):
    desk = Desk(tmp_path)
    yield desk
    desk.close()


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), SHANGHAI)


def refused(desk: Desk, case_id: str, error: type[Exception], words: str, call, *args) -> None:
    """The call is refused with `words` in its message, and the case is as it was."""
    before = desk.get(case_id)
    with pytest.raises(error) as info:
        call(OFFICER, case_id, *args)
    assert words in str(info.value), str(info.value)
    after = desk.get(case_id)
    assert (after.version, after.state, after.trail_head) == (before.version, before.state, before.trail_head)


def published(desk: Desk, message_class: type[M]) -> list[M]:
    """The events of that type the desk's outbox holds, oldest first, decoded."""
    name = contracts.type_name(message_class)
    return [contracts.decode(message_class, name, row.envelope["data"]) for row in desk.events(name)]


# ---------------------------------------------------------------- the whole procedure


def test_a_large_fine_walks_every_step_and_is_paid_with_its_surcharge(desk):
    cases, clock = desk.cases, desk.clock
    case = desk.concluded(LARGE_FINE)
    assert (case.state, case.investigated_on) == ("INVESTIGATED", MONDAY)
    assert (case.legal_review_required, case.collective_discussion_required, case.hearing_eligible) == (
        True, False, True)
    assert case_proposed_penalty(case) == LARGE_FINE and case.facts.startswith("经查")

    refused(desk, case.id, FailedPrecondition, "needs an approved legal review", cases.issue_advance_notice)
    refused(desk, case.id, FailedPrecondition, "needs an approved legal review", cases.record_collective_discussion,
            "讨论记录")
    case = cases.submit_for_legal_review(OFFICER, case.id)
    assert (case.state, case.legal_review_due) == ("LEGAL_REVIEW", dt.date(2026, 11, 16))
    refused(desk, case.id, FailedPrecondition, "is not one of the case's officers", cases.record_legal_review,
            TEAM[1], True, "")
    refused(desk, case.id, FailedPrecondition, "belongs to office MH02", cases.record_legal_review,
            OUTSIDER, True, "")
    refused(desk, case.id, FailedPrecondition, "must recuse (回避)", cases.record_legal_review, CONFLICTED, True, "")
    refused(desk, case.id, InvalidArgument, "no officer 'MH01-404'", cases.record_legal_review, "MH01-404", True, "")
    case = cases.record_legal_review(OFFICER, case.id, REVIEWER, True, "同意")
    assert (case.state, case.legal_reviewed_on, case.legal_reviewer_id) == ("INVESTIGATED", MONDAY, REVIEWER)
    refused(desk, case.id, FailedPrecondition, "approved it on 2026-11-02", cases.submit_for_legal_review)

    case = cases.issue_advance_notice(OFFICER, case.id)
    assert (case.state, case.notified_on, case.statement_due, case.statement_due_provisional) == (
        "NOTIFIED", MONDAY, STATEMENT_DUE, False)
    assert cases.hearing_request_due(case) == STATEMENT_DUE
    assert cases.hearing_request_due(desk.notified(SMALL_FINE)) is None  # no hearing open to it
    refused(desk, case.id, FailedPrecondition, "runs until 2026-11-09 (samr-order-2-2021: 5 working days); decide "
            "after it lapses or record the party's waiver", cases.decide, LARGE_FINE, "")
    cases.record_statement(OFFICER, case.id, "当事人称系初次违法。", False)
    case = cases.record_statement(OFFICER, case.id, "请求从轻处罚。", False)
    assert case.statement == "当事人称系初次违法。\n\n请求从轻处罚。" and not case.statement_waived

    clock.forward(2)  # Wednesday 4 November
    case = cases.request_hearing(OFFICER, case.id)
    assert (case.state, case.paused_for, case.paused_since) == ("HEARING", "HEARING", dt.date(2026, 11, 4))
    refused(desk, case.id, FailedPrecondition, "asked for a hearing (听证); decide after it is held", cases.decide,
            LARGE_FINE, "")
    refused(desk, case.id, FailedPrecondition, "is not scheduled yet", cases.record_hearing, "笔录")
    refused(desk, case.id, FailedPrecondition, "at least 7 days before it (samr-order-2-2021); told today, it is "
            "held on 2026-11-11 or later", cases.schedule_hearing, HOST, at(dt.date(2026, 11, 10)), "听证室")
    refused(desk, case.id, FailedPrecondition, "investigates case", cases.schedule_hearing, TEAM[0],
            at(dt.date(2026, 11, 11)), "听证室")
    refused(desk, case.id, FailedPrecondition, "must recuse", cases.schedule_hearing, CONFLICTED,
            at(dt.date(2026, 11, 11)), "听证室")
    case = cases.schedule_hearing(OFFICER, case.id, HOST, at(dt.date(2026, 11, 11)), "莘庄所听证室")
    assert (case.hearing_host_id, case.hearing_notified_on, case.hearing_place) == (
        HOST, dt.date(2026, 11, 4), "莘庄所听证室")
    clock.forward(6)  # Tuesday 10 November, the day before
    refused(desk, case.id, FailedPrecondition, "is held on 2026-11-11; record it then", cases.record_hearing, "笔录")
    clock.forward(1)
    closing_due = desk.get(case.id).closing_due
    case = cases.record_hearing(OFFICER, case.id, "听证笔录：当事人陈述……主持人意见：维持。")
    assert (case.state, case.hearing_held_on, case.paused_for) == ("NOTIFIED", dt.date(2026, 11, 11), None)
    assert case.closing_due == closing_due + dt.timedelta(days=7)  # stood still from the 4th to the 11th

    refused(desk, case.id, FailedPrecondition, "FINE of 150001.00 yuan exceeds the 150000.00 yuan notified",
            cases.decide, penalty(sanction("FINE", "150001.00")), "")
    refused(desk, case.id, FailedPrecondition, "WARNING was not in the notice", cases.decide,
            penalty(sanction("FINE", "100000"), sanction("WARNING")), "")
    decided = penalty(sanction("FINE", "120000"))
    case = cases.decide(OFFICER, case.id, decided, "听证后从轻")
    assert (case.state, case.decided_on, case.delivery_due) == ("DECIDED", dt.date(2026, 11, 11),
                                                                 dt.date(2026, 11, 18))
    assert (case.penalty_kind, case.fine_yuan, case.publication_due) == ("FINE", Decimal("120000.00"),
                                                                         dt.date(2026, 12, 9))
    assert case_sanctions(case) == list(decided.sanctions)
    refused(desk, case.id, InvalidArgument, "must be one of DIRECT", cases.record_delivery, "CARRIER_PIGEON")

    clock.forward(1)
    case = cases.record_delivery(OFFICER, case.id, "DIRECT")
    assert (case.state, case.delivered_on, case.payment_due) == ("DELIVERED", dt.date(2026, 11, 12),
                                                                  dt.date(2026, 11, 27))
    assert cases.surcharge_owed(case, dt.date(2026, 11, 27)) == Decimal("0.00")
    clock.to(dt.date(2026, 11, 30))  # three days late: 3% x 3 of 120,000
    surcharge = cases.surcharge_owed(desk.get(case.id), clock.today())
    assert surcharge == Decimal("10800.00")
    refused(desk, case.id, InvalidArgument, "130800.00 yuan", cases.record_execution, Decimal("120000"), "")
    refused(desk, case.id, InvalidArgument, "130800.00 yuan", cases.record_execution, None, "")
    refused(desk, case.id, FailedPrecondition, "not executed yet", cases.close, "")
    case = cases.record_execution(OFFICER, case.id, Decimal("130800.00"), "已缴纳")
    assert (case.state, case.amount_paid, case.surcharge_paid, case.payment_overdue) == (
        "EXECUTED", Decimal("130800.00"), Decimal("10800.00"), True)
    assert cases.surcharge_owed(case, dt.date(2027, 1, 1)) == Decimal("10800.00")

    cases.publish(OFFICER, case.id)
    case = cases.close(OFFICER, case.id, "结案")
    assert case.state == "CLOSED"
    closed = published(desk, events.CaseClosed)[-1]
    assert list(closed.penalties) == ["FINE"] and closed.surcharge_yuan == "10800.00"
    assert [(c.clock, c.met) for c in closed.clocks] == [
        ("filing", True), ("closing", True), ("legal_review", True), ("delivery", True), ("publication", True)]

    with desk.store.read() as session:
        trail = select(AuditRecord).where(AuditRecord.chain_key == f"case/{case.id}").order_by(AuditRecord.id)
        actions = [json.loads(r.record)["action"] for r in session.scalars(trail)]
    assert actions == ["lead opened", "filed", "investigation concluded", "submitted for legal review",
                       "legal review recorded", "advance notice issued", "statement recorded", "statement recorded",
                       "hearing requested", "hearing scheduled", "hearing held", "decided", "decision delivered",
                       "decision executed", "decision published", "closed"]


def test_a_review_not_approved_sends_the_case_back_to_investigation(desk):
    cases = desk.cases
    case = desk.concluded(LARGE_FINE)
    cases.submit_for_legal_review(OFFICER, case.id)
    refused(desk, case.id, InvalidArgument, "opinion", cases.record_legal_review, REVIEWER, False, " ")
    case = cases.record_legal_review(OFFICER, case.id, REVIEWER, False, "证据不足，补充调查。")
    assert (case.state, case.legal_reviewed_on, case.legal_review_opinion) == ("FILED", None, "证据不足，补充调查。")
    assert case.legal_review_required and case_proposed_penalty(case) == LARGE_FINE  # kept until concluded again
    refused(desk, case.id, FailedPrecondition, "only a INVESTIGATED case can be notified", cases.issue_advance_notice)
    case = cases.conclude_investigation(OFFICER, case.id, findings(SMALL_FINE))
    assert (case.state, case.legal_review_required, case.hearing_eligible) == ("INVESTIGATED", False, False)
    assert cases.issue_advance_notice(OFFICER, case.id).state == "NOTIFIED"


def test_the_gravest_penalties_are_discussed_collectively_before_the_notice(desk):
    cases = desk.cases
    case = desk.reviewed(penalty(sanction("REVOKE_LICENCE", detail="食品经营许可证 JY13101120000001")))
    assert case.collective_discussion_required
    refused(desk, case.id, FailedPrecondition, "collective discussion (集体讨论); record it before the notice",
            cases.issue_advance_notice)
    refused(desk, case.id, InvalidArgument, "record", cases.record_collective_discussion, "")
    case = cases.record_collective_discussion(OFFICER, case.id, "局务会议集体讨论决定吊销。")
    assert case.collective_discussed_on == MONDAY
    refused(desk, case.id, FailedPrecondition, "was recorded on 2026-11-02", cases.record_collective_discussion,
            "再次讨论")
    assert cases.issue_advance_notice(OFFICER, case.id).state == "NOTIFIED"


def test_a_waiver_lets_the_decision_come_before_the_period_ends(desk):
    cases = desk.cases
    case = desk.notified(SMALL_FINE)
    refused(desk, case.id, InvalidArgument, "statement", cases.record_statement, " ", False)
    case = cases.record_statement(OFFICER, case.id, "", True)
    assert case.statement_waived
    refused(desk, case.id, FailedPrecondition, "waived the statement", cases.record_statement, "补充", False)
    case = cases.decide(OFFICER, case.id, SMALL_FINE, "")
    assert (case.state, case.penalty_kind, case.fine_yuan) == ("DECIDED", "WARNING", Decimal("5000.00"))


def test_without_a_waiver_the_decision_waits_for_the_period_to_lapse(desk):
    cases, clock = desk.cases, desk.clock
    case = desk.notified(SMALL_FINE)
    clock.to(STATEMENT_DUE)
    refused(desk, case.id, FailedPrecondition, "runs until 2026-11-09", cases.decide, SMALL_FINE, "")
    refused(desk, case.id, FailedPrecondition, "is not one the party may ask a hearing", cases.request_hearing)
    clock.forward(1)
    refused(desk, case.id, FailedPrecondition, "ran until 2026-11-09", cases.record_statement, "迟到的陈述", False)
    assert cases.decide(OFFICER, case.id, penalty(sanction("WARNING")), "").state == "DECIDED"


def test_a_hearing_is_asked_for_within_its_period_once(desk):
    cases, clock = desk.cases, desk.clock
    late = desk.notified(LARGE_FINE)
    clock.to(STATEMENT_DUE + dt.timedelta(days=1))
    refused(desk, late.id, FailedPrecondition, "was to be asked for by 2026-11-09 (samr-order-2-2021: 5 working days",
            cases.request_hearing)
    clock.to(MONDAY)
    case = desk.notified(LARGE_FINE)
    refused(desk, case.id, InvalidArgument, "hearing_time", cases.schedule_hearing, HOST, None, "听证室")
    cases.request_hearing(OFFICER, case.id)
    for host, when, place, field in [(HOST, None, "听证室", "hearing_time"), (" ", at(MONDAY), "听证室", "host_id"),
                                     (HOST, dt.datetime(2026, 12, 1, 9), "听证室", "hearing_time"),
                                     (HOST, at(dt.date(2026, 12, 1)), "", "place")]:
        with pytest.raises(InvalidArgument) as bad:
            cases.schedule_hearing(OFFICER, case.id, host, when, place)
        assert field in [v.field for v in bad.value.violations]
    refused(desk, case.id, FailedPrecondition, "is HEARING; only a LEAD or FILED", cases.resume)
    refused(desk, case.id, FailedPrecondition, "only a NOTIFIED case can be given a hearing", cases.request_hearing)
    cases.schedule_hearing(OFFICER, case.id, HOST, at(dt.date(2026, 11, 9)), "听证室")
    clock.to(dt.date(2026, 11, 9))
    refused(desk, case.id, InvalidArgument, "record", cases.record_hearing, "")
    cases.record_hearing(OFFICER, case.id, "听证笔录")
    refused(desk, case.id, FailedPrecondition, "was held on 2026-11-09", cases.request_hearing)
    # The hearing held, the decision need not wait for the statement period's end (the same day here).
    assert cases.decide(OFFICER, case.id, LARGE_FINE, "").state == "DECIDED"


def test_a_decision_not_to_penalise_is_delivered_and_closed_without_execution(desk):
    cases = desk.cases
    case = desk.decided(penalty(sanction("NONE")))
    assert (case.publication_due, case.delivery_due) == (None, dt.date(2026, 11, 9))
    refused(desk, case.id, FailedPrecondition, "only a DELIVERED case can be executed", cases.record_execution,
            None, "")
    refused(desk, case.id, FailedPrecondition, "only a DELIVERED or EXECUTED case can be closed", cases.close, "")
    case = cases.record_delivery(OFFICER, case.id, "MAIL")
    assert (case.payment_due, case.delivery_method) == (None, "MAIL")
    refused(desk, case.id, FailedPrecondition, "nothing to execute", cases.record_execution, None, "")
    refused(desk, case.id, FailedPrecondition, "no penalty decision to publish", cases.publish)
    assert cases.close(OFFICER, case.id, "").state == "CLOSED"


def test_a_penalty_without_a_fine_is_executed_with_nothing_paid(desk):
    cases = desk.cases
    case = desk.decided(penalty(sanction("WARNING"), sanction("CONFISCATE_GOODS", None, "过期牛奶 12 箱")))
    case = cases.record_delivery(OFFICER, case.id, "DIRECT")
    assert case.payment_due is None and cases.surcharge_owed(case, dt.date(2027, 1, 1)) == Decimal("0.00")
    refused(desk, case.id, InvalidArgument, "imposed no fine", cases.record_execution, Decimal("10"), "")
    refused(desk, case.id, InvalidArgument, "must not be negative", cases.record_execution, Decimal("-1"), "")
    case = cases.record_execution(OFFICER, case.id, Decimal("0"), "已没收")
    assert (case.state, case.amount_paid, case.surcharge_paid) == ("EXECUTED", None, None)
    assert cases.close(OFFICER, case.id, "").state == "CLOSED"


def test_the_steps_are_refused_out_of_order(desk):
    cases = desk.cases
    lead = desk.lead()
    refused(desk, lead.id, FailedPrecondition, "only a FILED case can be concluded", cases.conclude_investigation,
            findings(SMALL_FINE))
    refused(desk, lead.id, FailedPrecondition, "only a NOTIFIED case can be decided by the ordinary procedure",
            cases.decide, SMALL_FINE, "")
    filed = cases.file(OFFICER, lead.id, TEAM)
    refused(desk, filed.id, InvalidArgument, "legal_basis", cases.conclude_investigation,
            InvestigationInput("事实", " ", SMALL_FINE))
    refused(desk, filed.id, InvalidArgument, "行政拘留由公安机关决定", cases.conclude_investigation,
            findings(penalty(sanction("ADMINISTRATIVE_DETENTION", days=10))))
    for call, args in [(cases.submit_for_legal_review, ()), (cases.record_legal_review, (REVIEWER, True, "")),
                       (cases.record_collective_discussion, ("记录",)), (cases.issue_advance_notice, ()),
                       (cases.record_statement, ("陈述", False)), (cases.request_hearing, ()),
                       (cases.schedule_hearing, (HOST, at(dt.date(2026, 12, 1)), "听证室")),
                       (cases.record_hearing, ("笔录",)), (cases.record_delivery, ("DIRECT",)),
                       (cases.record_execution, (None, "")), (cases.close, ("",))]:
        refused(desk, filed.id, FailedPrecondition, f"case {filed.id} is FILED; only a", call, *args)
    case = desk.decided(SMALL_FINE)
    refused(desk, case.id, FailedPrecondition, "is DECIDED; only a FILED case", cases.conclude_investigation,
            findings(SMALL_FINE))


def test_a_stopped_clock_can_be_stopped_extended_and_resumed_before_the_decision(desk):
    cases, clock = desk.cases, desk.clock
    case = desk.notified(SMALL_FINE)
    cases.record_statement(OFFICER, case.id, "", True)
    cases.pause(OFFICER, case.id, "SUSPENSION", "当事人下落不明")
    refused(desk, case.id, FailedPrecondition, "stands still for SUSPENSION since 2026-11-02", cases.decide,
            SMALL_FINE, "")
    clock.forward(5)
    case = cases.resume(OFFICER, case.id)
    due = case.closing_due
    case = cases.extend(OFFICER, case.id, "局长", "案情复杂", "", None)
    assert case.closing_due == due + dt.timedelta(days=30)
    assert cases.decide(OFFICER, case.id, SMALL_FINE, "").state == "DECIDED"


def test_the_simplified_procedure_still_closes_a_lead_on_the_spot(desk):
    lead = desk.lead()
    case = desk.cases.decide(OFFICER, lead.id, penalty(sanction("WARNING"), sanction("FINE", "200"),
                                                       simplified=True), "")
    assert (case.state, case.penalty_kind, case.fine_yuan, case.delivery_due) == ("CLOSED", "WARNING",
                                                                                   Decimal("200.00"), None)
    assert [s.kind for s in case_sanctions(case)] == ["WARNING", "FINE"]


# ---------------------------------------------------------------- clocks the sweep runs out


def test_the_sweep_marks_each_new_clock_once(desk):
    cases, clock, sweep = desk.cases, desk.clock, desk.sweep
    review = desk.concluded(LARGE_FINE)
    cases.submit_for_legal_review(OFFICER, review.id)            # due 16 November
    delivery = desk.decided(SMALL_FINE)                            # due 9 November
    payment = desk.decided(SMALL_FINE)
    cases.record_delivery(OFFICER, payment.id, "DIRECT")          # due 17 November
    hearing = desk.notified(LARGE_FINE)
    cases.request_hearing(OFFICER, hearing.id)
    notified = desk.notified(SMALL_FINE)                           # closing due 31 January 2027
    clock.to(dt.date(2026, 11, 18))
    result = sweep.run()
    assert (result.legal_reviews, result.deliveries, result.payments, result.cases) == (1, 1, 1, 0)
    assert sweep.run() == type(result)(0, 0, 0, 0, 0, 0, 0)
    assert (desk.get(review.id).legal_review_overdue, desk.get(delivery.id).delivery_overdue,
            desk.get(payment.id).payment_overdue) == (True, True, True)
    clock.to(dt.date(2027, 2, 1))
    result = sweep.run()
    # The cases notified and under review ran out of time; the one in a hearing stands still.
    assert (result.cases, result.publications) == (2, 2)
    assert desk.get(notified.id).closing_overdue and desk.get(review.id).closing_overdue
    assert not desk.get(hearing.id).closing_overdue
    assert sorted((e.deadline, e.state) for e in published(desk, events.CaseOverdue)) == [
        ("decision", "LEGAL_REVIEW"), ("decision", "NOTIFIED"), ("delivery", "DECIDED"),
        ("legal_review", "LEGAL_REVIEW"), ("payment", "DELIVERED")]
    assert {e.entity_name for e in published(desk, events.CaseOverdue)} == {"某某超市有限公司"}
    with desk.store.read() as session:
        readings = {r.key: r for r in indicators.compute(session, [OFFICE])[OFFICE]}
    closing = readings[indicators.CASE_CLOSING_ON_TIME]
    assert (closing.numerator, closing.denominator) == (2.0, 4.0)  # two decided in time, two undecided late


def test_a_review_recorded_late_counts_as_late(desk):
    cases, clock = desk.cases, desk.clock
    case = desk.concluded(LARGE_FINE)
    cases.submit_for_legal_review(OFFICER, case.id)
    clock.to(dt.date(2026, 11, 17))
    case = cases.record_legal_review(OFFICER, case.id, REVIEWER, True, "")
    assert case.legal_review_overdue and case.legal_reviewed_on == dt.date(2026, 11, 17)
    assert date_of(case.legal_review_due).day == 16


def test_a_case_decided_before_the_procedure_had_its_steps_is_delivered_paid_and_closed(desk):
    cases = desk.cases
    case = desk.decided(SMALL_FINE)
    with desk.store.transaction() as session:  # as migration 0008 left a case decided with one kind and fine
        stored_case = session.get(type(case), case.id)
        assert stored_case is not None
        stored_case.sanctions, stored_case.delivery_due, stored_case.penalty_kind = "[]", None, "FINE"
    case = cases.record_delivery(OFFICER, case.id, "DIRECT")
    assert (case.delivery_overdue, case.payment_due) == (False, dt.date(2026, 11, 17))
    case = cases.record_execution(OFFICER, case.id, Decimal("5000"), "")
    assert cases.close(OFFICER, case.id, "").state == "CLOSED"
