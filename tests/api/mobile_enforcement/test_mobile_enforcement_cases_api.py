"""mobile_enforcement's penalty cases through a real gRPC server: limits, stopped clocks, the sweep."""

from __future__ import annotations

import datetime as dt

import grpc

from services.common.contracts import date_of
from supervision.common.v1.events_pb2 import StatutoryClock
from supervision.mobile_enforcement.v1 import events_pb2 as events
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement.support import (
    INVALID,
    NOT_FOUND,
    PRECONDITION,
    TODAY,
    date,
    decided_case,
    expect_error,
    fine,
    penalty,
    sanction,
    uscc,
)

SHANGHAI_10AM = dt.time(2, 0, tzinfo=dt.UTC)


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, SHANGHAI_10AM)


def file_request(case_id: str, officers=("MH01-001", "MH01-002")) -> pb.FileCaseRequest:
    return pb.FileCaseRequest(id=case_id, officer_ids=list(officers))


def decision(kind=pb.PENALTY_KIND_FINE, party=pb.PARTY_KIND_ORGANISATION, yuan: int = 0, fen: int = 0,
             simplified: bool = False, currency: str = "CNY") -> pb.Penalty:
    """A decision of one sanction."""
    return penalty(sanction(kind, yuan, fen, currency=currency), party=party, simplified=simplified)


def executed(client, case_id: str, paid: int = 0, fen: int = 0) -> pb.Case:
    """A decided case delivered and executed today, the fine (when any) paid within its term."""
    client.cases.RecordDelivery(pb.RecordDeliveryRequest(id=case_id, method=pb.DELIVERY_METHOD_DIRECT))
    request = pb.RecordExecutionRequest(id=case_id)
    if paid or fen:
        request.amount_paid.currency_code, request.amount_paid.units = "CNY", paid
        request.amount_paid.nanos = fen * 10_000_000
    return client.cases.RecordExecution(request)


def test_a_lead_gets_its_filing_decision_due_in_working_days(client):
    client.entity(1)
    # Received Monday 28 September 2026: the 15 working days skip the National Day holiday (1-7
    # October) and count the adjusted working Saturday of 10 October, so they end on Friday 23 October.
    lead = client.lead(uscc(1), ref="函-1", received=at(dt.date(2026, 9, 28)), request_id="l1")
    assert (lead.state, lead.office_id, lead.filing_decision_due, lead.filing_decision_due_provisional) == (
        pb.CASE_STATE_LEAD, "MH01", date(dt.date(2026, 10, 23)), False)
    assert (lead.rule_set, lead.party.name) == ("samr-order-2-2021", "小杨生煎（1店）")
    assert client.lead(uscc(1), ref="函-1", received=at(dt.date(2026, 9, 28)), request_id="l1") == lead
    unregistered = client.lead(office_id="MH02", party=pb.Party(name="无名摊贩", address="七宝老街"), ref="函-2")
    assert (unregistered.entity_id, unregistered.office_id) == ("", "MH02")
    linked = client.lead(office_id="MH01", party=pb.Party(name="小杨生煎", uscc=uscc(1)), ref="函-3")
    assert linked.entity_id == uscc(1)
    client.clock.instant = at(dt.date(2026, 12, 20))
    # Into 2027, whose holiday schedule is not published yet: counted on weekends alone, provisional.
    late_in_year = client.lead(uscc(1), ref="函-4")
    assert (late_in_year.filing_decision_due, late_in_year.filing_decision_due_provisional) == (
        date(dt.date(2027, 1, 8)), True)
    before = client.counts()
    for lead, code, field in [
        (pb.Case(entity_id=uscc(1), description="x"), INVALID, "lead.source"),
        (pb.Case(entity_id=uscc(1), source=pb.LEAD_SOURCE_REFERRAL), INVALID, "lead.description"),
        (pb.Case(source=pb.LEAD_SOURCE_REFERRAL, description="x"), INVALID, "lead.party.name"),
        (pb.Case(source=pb.LEAD_SOURCE_REFERRAL, description="x", party=pb.Party(name="x")), INVALID,
         "lead.office_id"),
        (pb.Case(office_id="MH01", source=pb.LEAD_SOURCE_REFERRAL, description="x",
                 party=pb.Party(name="x", uscc="123")), INVALID, "lead.party.uscc"),
        (pb.Case(entity_id=uscc(1), office_id="MH02", source=pb.LEAD_SOURCE_REFERRAL, description="x"), INVALID,
         "lead.office_id"),
        (pb.Case(entity_id=uscc(1), source=pb.LEAD_SOURCE_REFERRAL, description="x",
                 received_time={"seconds": int(at(dt.date(2027, 1, 1)).timestamp())}), INVALID,
         "lead.received_time"),
        (pb.Case(entity_id=uscc(1), source=pb.LEAD_SOURCE_REFERRAL, description="x",
                 received_time={"seconds": int(at(dt.date(2019, 1, 2)).timestamp())}), PRECONDITION, None),
        (pb.Case(entity_id=uscc(9), source=pb.LEAD_SOURCE_REFERRAL, description="x"), NOT_FOUND, None),
        (pb.Case(office_id="MH09", party=pb.Party(name="x"), source=pb.LEAD_SOURCE_REFERRAL, description="x"),
         NOT_FOUND, None),
        (pb.Case(entity_id=uscc(1), source=pb.LEAD_SOURCE_REFERRAL, source_ref="函-1", description="x"),
         grpc.StatusCode.ALREADY_EXISTS, None),
    ]:
        found = expect_error(lambda lead=lead: client.cases.OpenLead(pb.OpenLeadRequest(lead=lead)), code)
        assert field is None or field in found, lead
    assert client.counts() == before


def test_filing_needs_a_lawful_team_and_sets_the_closing_due(client):
    client.entity(1)
    client.officer("MH01-004", expires=TODAY - dt.timedelta(days=1))
    client.spot_checks.DeclareConflict(pb.DeclareConflictRequest(conflict=pb.Conflict(
        officer_id="MH01-003", entity_id=uscc(1), reason="同学")))
    lead = client.lead(uscc(1))
    before = client.counts()
    for officers, code, field in [(["MH01-001"], INVALID, "officer_ids"),
                                  (["MH01-001", "MH01-004"], PRECONDITION, "officer_ids[1]"),
                                  (["MH01-003", "MH01-001"], PRECONDITION, "officer_ids[0]"),
                                  (["MH01-001", "MH02-001"], INVALID, "officer_ids[1]")]:
        assert field in expect_error(lambda officers=officers: client.cases.FileCase(
            file_request(lead.id, officers)), code)
    expect_error(lambda: client.cases.FileCase(file_request("nope")), NOT_FOUND)
    assert client.counts() == before
    filed = client.cases.FileCase(file_request(lead.id))
    # 90 natural days from Monday 2 November 2026.
    assert (filed.state, filed.filed_on, filed.closing_due, list(filed.officer_ids)) == (
        pb.CASE_STATE_FILED, date(TODAY), date(dt.date(2027, 1, 31)), ["MH01-001", "MH01-002"])
    [event] = client.events(events.CaseFiled)
    assert event.envelope.subject == f"case/{lead.id}" and event.aggregate_version == filed.version
    # The officers credited, and the filing decision's clock: received 2 November, due 23 November.
    assert event.message == events.CaseFiled(
        case_id=lead.id, version=filed.version, office_id="MH01", entity_id=uscc(1), party_name="小杨生煎（1店）",
        source="REFERRAL", filed_on=date_of(TODAY), closing_due=date_of(dt.date(2027, 1, 31)),
        officer_ids=["MH01-001", "MH01-002"],
        clocks=[StatutoryClock(clock="filing", due_date=date_of(dt.date(2026, 11, 23)), met=True)])
    for call in (lambda: client.cases.FileCase(file_request(lead.id)),
                 lambda: client.cases.DeclineLead(pb.DeclineLeadRequest(id=lead.id, reason="x"))):
        expect_error(call, PRECONDITION)
    declined = client.cases.DeclineLead(pb.DeclineLeadRequest(id=client.lead(uscc(1), ref="r2").id,
                                                              reason="违法事实不成立"))
    assert declined.state == pb.CASE_STATE_NOT_FILED and [e.message.reason for e in client.events(
        events.LeadDeclined)] == ["违法事实不成立"]
    expect_error(lambda: client.cases.DeclineLead(pb.DeclineLeadRequest(id=lead.id)), INVALID)
    trail = client.trails.VerifyAuditTrail(pb.VerifyAuditTrailRequest(subject=f"case/{lead.id}"))
    assert (trail.intact, trail.records_checked) == (True, 2)


def test_limits_are_extended_once_then_only_by_collective_decision(client):
    client.entity(1)
    lead = client.lead(uscc(1))
    assert lead.filing_decision_due == date(dt.date(2026, 11, 23))
    extended = client.cases.ExtendDeadline(pb.ExtendDeadlineRequest(id=lead.id, approved_by="所长",
                                                                    reason="需调取账册"))
    assert (extended.filing_decision_due, extended.filing_extended) == (date(dt.date(2026, 12, 14)), True)
    expect_error(lambda: client.cases.ExtendDeadline(pb.ExtendDeadlineRequest(
        id=lead.id, approved_by="所长", reason="again")), PRECONDITION)
    case = client.cases.FileCase(file_request(lead.id))
    first = client.cases.ExtendDeadline(pb.ExtendDeadlineRequest(id=case.id, approved_by="局长", reason="案情复杂"))
    assert (first.closing_due, first.closing_extensions) == (date(dt.date(2027, 3, 2)), 1)
    before = client.counts()
    for request, field in [
        (pb.ExtendDeadlineRequest(id=case.id, approved_by="局长", reason="x"), "collective_decision_ref"),
        (pb.ExtendDeadlineRequest(id=case.id, approved_by="局长", reason="x", collective_decision_ref="集体讨论记录1",
                                  new_due=date(dt.date(2027, 3, 1))), "new_due"),
        (pb.ExtendDeadlineRequest(id=case.id, reason="x"), "approved_by"),
        (pb.ExtendDeadlineRequest(id=case.id, approved_by="局长"), "reason"),
    ]:
        assert field in expect_error(lambda request=request: client.cases.ExtendDeadline(request), INVALID)
    assert client.counts() == before
    collective = client.cases.ExtendDeadline(pb.ExtendDeadlineRequest(
        id=case.id, approved_by="局长", reason="需专家论证", collective_decision_ref="闵市监集〔2026〕7号",
        new_due=date(dt.date(2027, 4, 30))))
    assert (collective.closing_due, collective.closing_extensions, collective.collective_decision_ref) == (
        date(dt.date(2027, 4, 30)), 2, "闵市监集〔2026〕7号")
    late = client.lead(uscc(1), ref="r2")
    client.clock.instant = at(dt.date(2026, 11, 24))
    expect_error(lambda: client.cases.ExtendDeadline(pb.ExtendDeadlineRequest(
        id=late.id, approved_by="所长", reason="迟了")), PRECONDITION)


def test_stopped_clocks_do_not_count(client):
    client.entity(1)
    lead = client.lead(uscc(1))
    client.clock.instant = at(dt.date(2026, 11, 4))
    assert "reason" in expect_error(lambda: client.cases.PauseClock(pb.PauseClockRequest(
        id=lead.id, reason=pb.PAUSE_REASON_HEARING)), INVALID)
    paused = client.cases.PauseClock(pb.PauseClockRequest(id=lead.id, reason=pb.PAUSE_REASON_TESTING, note="送检"))
    assert (paused.paused_for, paused.paused_since) == (pb.PAUSE_REASON_TESTING, date(dt.date(2026, 11, 4)))
    expect_error(lambda: client.cases.PauseClock(pb.PauseClockRequest(
        id=lead.id, reason=pb.PAUSE_REASON_TESTING)), PRECONDITION)
    client.clock.instant = at(dt.date(2026, 11, 11))
    resumed = client.cases.ResumeClock(pb.ResumeClockRequest(id=lead.id))
    # Five working days stood still (5, 6, 9, 10, 11 November): 23 November becomes 30 November.
    assert (resumed.filing_decision_due, resumed.paused_for) == (date(dt.date(2026, 11, 30)), 0)
    expect_error(lambda: client.cases.ResumeClock(pb.ResumeClockRequest(id=lead.id)), PRECONDITION)
    case = client.cases.FileCase(file_request(lead.id))
    assert case.closing_due == date(dt.date(2027, 2, 9))
    client.cases.PauseClock(pb.PauseClockRequest(id=case.id, reason=pb.PAUSE_REASON_HEARING))
    expect_error(lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=decision(yuan=5000))),
                 PRECONDITION)
    client.clock.instant = at(dt.date(2026, 11, 21))
    assert client.cases.ResumeClock(pb.ResumeClockRequest(id=case.id)).closing_due == date(dt.date(2027, 2, 19))
    for request, code in [(pb.PauseClockRequest(id=case.id), INVALID),
                          (pb.PauseClockRequest(id=case.id, reason=pb.PAUSE_REASON_NOTICE, note="x" * 4001), INVALID),
                          (pb.PauseClockRequest(id="nope", reason=pb.PAUSE_REASON_NOTICE), NOT_FOUND)]:
        expect_error(lambda request=request: client.cases.PauseClock(request), code)
    expect_error(lambda: client.cases.ResumeClock(pb.ResumeClockRequest(id="nope")), NOT_FOUND)


def test_decisions_simplified_within_the_limits_in_force_ordinary_published_and_closed(client):
    client.entity(1)
    on_the_spot = client.lead(uscc(1), ref="s1")
    before = client.counts()
    for given, field in [
        (decision(yuan=3001, simplified=True), "penalty.sanctions[0].amount"),
        (decision(party=pb.PARTY_KIND_INDIVIDUAL, yuan=200, fen=1, simplified=True), "penalty.sanctions[0].amount"),
        (decision(kind=pb.PENALTY_KIND_NONE, simplified=True), "penalty.simplified"),
        (decision(yuan=0, simplified=True), "penalty.sanctions[0].amount"),
        (decision(kind=pb.PENALTY_KIND_WARNING, yuan=100, simplified=True), "penalty.sanctions[0].amount"),
        (decision(party=0, yuan=100, simplified=True), "penalty.party_kind"),
        (decision(kind=0), "penalty.sanctions[0].kind"),
        (decision(yuan=100, currency="USD", simplified=True), "penalty.sanctions[0].amount"),
        (penalty(sanction(pb.PENALTY_KIND_CONFISCATE_GAINS, 100), simplified=True), "penalty.simplified"),
        (penalty(simplified=True), "penalty.sanctions"),
    ]:
        assert field in expect_error(lambda given=given: client.cases.DecideCase(pb.DecideCaseRequest(
            id=on_the_spot.id, penalty=given)), INVALID), given
    expect_error(lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=on_the_spot.id, penalty=decision(
        yuan=100))), PRECONDITION)  # the ordinary procedure decides a filed case
    assert client.counts() == before
    spot = client.cases.DecideCase(pb.DecideCaseRequest(id=on_the_spot.id, penalty=decision(
        party=pb.PARTY_KIND_INDIVIDUAL, yuan=200, simplified=True), note="当场处罚"))
    assert (spot.state, spot.penalty.sanctions[0].amount.units, spot.HasField("publication_due")) == (
        pb.CASE_STATE_CLOSED, 200, False)
    case = client.cases.FileCase(file_request(client.lead(uscc(1), ref="o1").id))
    # A filed case is decided by the ordinary procedure, once the party was notified.
    expect_error(lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=fine(12000, 50))),
                 PRECONDITION)
    decided = decided_case(client, case.id, fine(12000, 50))
    assert (decided.state, decided.publication_due, decided.penalty.sanctions[0].amount.nanos) == (
        pb.CASE_STATE_DECIDED, date(dt.date(2026, 11, 30)), 500_000_000)
    expect_error(lambda: client.cases.CloseCase(pb.CloseCaseRequest(id=client.lead(uscc(1), ref="o2").id)),
                 PRECONDITION)
    published = client.cases.PublishDecision(pb.PublishDecisionRequest(id=case.id))
    assert published.HasField("publish_time") and not published.publication_overdue
    expect_error(lambda: client.cases.PublishDecision(pb.PublishDecisionRequest(id=case.id)), PRECONDITION)
    expect_error(lambda: client.cases.PublishDecision(pb.PublishDecisionRequest(id=spot.id)), PRECONDITION)
    executed(client, case.id, 12000, 50)
    closed = client.cases.CloseCase(pb.CloseCaseRequest(id=case.id, note="罚款已缴"))
    assert closed.state == pb.CASE_STATE_CLOSED
    on_the_spot_closed, ordinary_closed = (e.message for e in client.events(events.CaseClosed))
    assert [(m.case_id, m.penalty, m.fine_yuan, m.simplified) for m in (on_the_spot_closed, ordinary_closed)] == [
        (spot.id, "FINE", "200.00", True), (case.id, "FINE", "12000.50", False)]
    filing = StatutoryClock(clock="filing", due_date=date_of(dt.date(2026, 11, 23)), met=True)
    # Decided on the spot: no team was filed, only the lead's filing decision ran.
    assert (list(on_the_spot_closed.officer_ids), list(on_the_spot_closed.clocks)) == ([], [filing])
    assert (list(ordinary_closed.officer_ids), ordinary_closed.closed_on, list(ordinary_closed.clocks)) == (
        ["MH01-001", "MH01-002"], date_of(TODAY),
        [filing, StatutoryClock(clock="closing", due_date=date_of(dt.date(2027, 1, 31)), met=True),
         StatutoryClock(clock="delivery", due_date=date_of(dt.date(2026, 11, 9)), met=True),
         StatutoryClock(clock="publication", due_date=date_of(dt.date(2026, 11, 30)), met=True)])
    assert client.readings() == {"spot_check_completion": (0, 0), "inspection_checklist_complete": (0, 0),
                                 "case_filing_on_time": (2, 2), "case_closing_on_time": (1, 1),
                                 "publication_on_time": (1, 1), "entities_supervised": (1, 1)}
    listed = client.cases.ListCases(pb.ListCasesRequest(filter="state = CLOSED AND source = REFERRAL"))
    assert {c.id for c in listed.cases} == {spot.id, case.id}
    for request in (pb.ListCasesRequest(filter="state = OPEN"), pb.ListCasesRequest(filter="party = x")):
        expect_error(lambda request=request: client.cases.ListCases(request), INVALID)
    expect_error(lambda: client.cases.GetCase(pb.GetCaseRequest(id="nope")), NOT_FOUND)
    expect_error(lambda: client.cases.CloseCase(pb.CloseCaseRequest(id=case.id, note="x" * 4001)), INVALID)


def test_the_simplified_limits_of_2019_apply_to_decisions_before_july_2021(client):
    client.clock.instant = at(dt.date(2021, 3, 1))
    client.entity(1)
    lead = client.lead(uscc(1))
    assert lead.rule_set == "samr-order-2-2018"
    found = expect_error(lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=lead.id, penalty=decision(
        party=pb.PARTY_KIND_INDIVIDUAL, yuan=100, simplified=True))), INVALID)
    assert "at most 50 yuan (samr-order-2-2018)" in found["penalty.sanctions[0].amount"]


def test_the_sweep_marks_what_time_made_overdue_once(client):
    client.entity(1)
    open_lead = client.lead(uscc(1), ref="a")
    still_filed = client.cases.FileCase(file_request(client.lead(uscc(1), ref="b").id))
    in_hearing = client.cases.FileCase(file_request(client.lead(uscc(1), ref="c").id))
    client.cases.PauseClock(pb.PauseClockRequest(id=in_hearing.id, reason=pb.PAUSE_REASON_HEARING))
    decided = client.cases.FileCase(file_request(client.lead(uscc(1), ref="d").id))
    decided_case(client, decided.id, decision(kind=pb.PENALTY_KIND_WARNING))
    inspection = client.answer_all(client.started(uscc(1)), {"CAT-02": ("未公示许可证", ["evidence/2.jpg"])})
    client.inspections.CompleteInspection(pb.CompleteInspectionRequest(
        id=inspection.id, rectification_due=date(TODAY + dt.timedelta(days=10))))
    client.sweep()
    assert client.events(events.CaseOverdue) == []
    client.clock.instant = at(dt.date(2027, 2, 1))
    client.sweep()
    client.sweep()
    overdue = {(e.message.case_id, e.message.deadline, e.message.state) for e in client.events(events.CaseOverdue)}
    # The warning of 2 November was to be delivered by 9 November.
    assert overdue == {(open_lead.id, "filing", "LEAD"), (still_filed.id, "decision", "FILED"),
                       (decided.id, "delivery", "DECIDED")}
    [rectification] = client.events(events.RectificationOverdue)
    assert (rectification.message.inspection_id, rectification.message.entity_id, rectification.message.due_date) == (
        inspection.id, uscc(1), date_of(TODAY + dt.timedelta(days=10)))
    assert {(e.message.record, e.message.record_id, e.message.entity_id)
            for e in client.events(events.PublicationOverdue)} == {("inspection", inspection.id, uscc(1)),
                                                                   ("case", decided.id, "")}
    assert client.cases.GetCase(pb.GetCaseRequest(id=open_lead.id)).filing_overdue
    assert client.inspections.GetInspection(pb.GetInspectionRequest(id=inspection.id)).rectification_overdue
    assert client.readings() == {"spot_check_completion": (0, 0), "inspection_checklist_complete": (1, 1),
                                 "case_filing_on_time": (3, 4), "case_closing_on_time": (1, 2),
                                 "publication_on_time": (0, 2), "entities_supervised": (1, 1)}
    late = client.inspections.PublishInspectionResult(pb.PublishInspectionResultRequest(id=inspection.id))
    assert late.publication_overdue and client.readings()["publication_on_time"] == (0, 2)
    # Decided after its limit and closed unpublished: the evidence says which clocks were missed.
    decided_case(client, still_filed.id, fine(5000))
    executed(client, still_filed.id, 5000)
    client.cases.CloseCase(pb.CloseCaseRequest(id=still_filed.id))
    [closed] = client.events(events.CaseClosed)
    assert (closed.message.closed_on, [(c.clock, c.met) for c in closed.message.clocks]) == (
        date_of(dt.date(2027, 2, 1)),
        [("filing", True), ("closing", False), ("delivery", True), ("publication", False)])
