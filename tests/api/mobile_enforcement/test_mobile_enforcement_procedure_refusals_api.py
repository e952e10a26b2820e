"""The penalty procedure's refusals through a real gRPC server, on SQLite and PostgreSQL: every
step refused when malformed, for an unknown case, out of order, too early or by the wrong officer
(another office's, an auditor), changing nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import grpc

from services.common.auth import issue_token
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement.procedure_support import (
    FINE,
    HEARING_ROOM,
    REVOKE,
    at,
    execution,
    hearing,
    on,
    refused,
    review,
    staffed,
)
from tests.api.mobile_enforcement.support import (
    FACTS,
    INVALID,
    LEGAL_BASIS,
    NOT_FOUND,
    OFFICES,
    InstantClock,
    conclude,
    connect,
    expect_error,
    filed_case,
    fine,
    host_mobile_enforcement,
    notified,
    penalty,
    sanction,
    uscc,
)


def test_every_step_refuses_malformed_input_and_unknown_cases(client):
    staffed(client)
    case = filed_case(client, uscc(1), "bad")
    before = client.counts()
    for request, field in [
        (pb.ConcludeInvestigationRequest(id=case.id, legal_basis=LEGAL_BASIS, proposed_penalty=fine(100)), "facts"),
        (pb.ConcludeInvestigationRequest(id=case.id, facts=FACTS, proposed_penalty=fine(100)), "legal_basis"),
        (pb.ConcludeInvestigationRequest(id=case.id, facts="x" * 20001, legal_basis=LEGAL_BASIS,
                                         proposed_penalty=fine(100)), "facts"),
        (pb.ConcludeInvestigationRequest(id=case.id, facts=FACTS, legal_basis=LEGAL_BASIS,
                                         proposed_penalty=penalty()), "proposed_penalty.sanctions"),
        (pb.ConcludeInvestigationRequest(id=case.id, facts=FACTS, legal_basis=LEGAL_BASIS,
                                         proposed_penalty=penalty(sanction(FINE, 100, currency="USD"))),
         "proposed_penalty.sanctions[0].amount"),
        (pb.ConcludeInvestigationRequest(id=case.id, facts=FACTS, legal_basis=LEGAL_BASIS,
                                         proposed_penalty=penalty(sanction(FINE))), "proposed_penalty.sanctions[0]"),
        (pb.ConcludeInvestigationRequest(id=case.id, facts=FACTS, legal_basis=LEGAL_BASIS,
                                         proposed_penalty=penalty(sanction(FINE, 100), sanction(FINE, 200))),
         "proposed_penalty.sanctions[1]"),
        (pb.ConcludeInvestigationRequest(id=case.id, facts=FACTS, legal_basis=LEGAL_BASIS,
                                         proposed_penalty=penalty(sanction(pb.PENALTY_KIND_NONE),
                                                                  sanction(pb.PENALTY_KIND_WARNING))),
         "proposed_penalty.sanctions"),
        (pb.ConcludeInvestigationRequest(id=case.id, facts=FACTS, legal_basis=LEGAL_BASIS,
                                         proposed_penalty=penalty(sanction(REVOKE))),
         "proposed_penalty.sanctions[0]"),
        (pb.ConcludeInvestigationRequest(id=case.id, facts=FACTS, legal_basis=LEGAL_BASIS,
                                         proposed_penalty=penalty(sanction(pb.PENALTY_KIND_ADMINISTRATIVE_DETENTION,
                                                                           days=5))),
         "proposed_penalty.sanctions[0]"),
        (pb.ConcludeInvestigationRequest(id=case.id, facts=FACTS, legal_basis=LEGAL_BASIS,
                                         proposed_penalty=fine(100, simplified=True)), "proposed_penalty.simplified"),
    ]:
        found = expect_error(lambda request=request: client.cases.ConcludeInvestigation(request), INVALID)
        assert any(name.startswith(field) for name in found), (field, found)
    assert client.counts() == before

    conclude(client, case.id, fine(100_000))
    client.cases.SubmitForLegalReview(pb.SubmitForLegalReviewRequest(id=case.id))
    refused(client, [lambda: client.cases.RecordLegalReview(review(case.id, "")),
                     lambda: client.cases.RecordLegalReview(review(case.id, "MH01-004", opinion="x" * 4001))], INVALID)
    client.cases.RecordLegalReview(review(case.id, "MH01-004"))
    assert "record" in refused(client, [lambda: client.cases.RecordCollectiveDiscussion(
        pb.RecordCollectiveDiscussionRequest(id=case.id))], INVALID)
    client.cases.IssueAdvanceNotice(pb.IssueAdvanceNoticeRequest(id=case.id))
    for call, field in [
        (lambda: client.cases.RecordStatement(pb.RecordStatementRequest(id=case.id)), "statement"),
        (lambda: client.cases.RecordStatement(pb.RecordStatementRequest(id=case.id, statement="x" * 20001)),
         "statement"),
    ]:
        assert field in refused(client, [call], INVALID)
    client.cases.RequestHearing(pb.RequestHearingRequest(id=case.id))
    later = at(dt.date(2026, 11, 20), 9)
    unset = pb.ScheduleHearingRequest(id=case.id, host_id="MH01-005", place=HEARING_ROOM)
    for call, field in [
        (lambda: client.cases.ScheduleHearing(hearing(case.id, "", later)), "host_id"),
        (lambda: client.cases.ScheduleHearing(hearing(case.id, "MH01-005", later, place="")), "place"),
        (lambda: client.cases.ScheduleHearing(hearing(case.id, "MH01-005", later, place="x" * 201)), "place"),
        (lambda: client.cases.ScheduleHearing(unset), "hearing_time"),
    ]:
        assert field in refused(client, [call], INVALID)
    client.cases.ScheduleHearing(hearing(case.id, "MH01-005", later))
    on(client, dt.date(2026, 11, 20), 15)
    assert "record" in refused(client, [lambda: client.cases.RecordHearing(pb.RecordHearingRequest(id=case.id))],
                               INVALID)
    client.cases.RecordHearing(pb.RecordHearingRequest(id=case.id, record="听证笔录"))
    client.cases.DecideCase(pb.DecideCaseRequest(id=case.id, penalty=fine(100_000)))
    assert "method" in refused(client, [lambda: client.cases.RecordDelivery(pb.RecordDeliveryRequest(id=case.id))],
                               INVALID)
    client.cases.RecordDelivery(pb.RecordDeliveryRequest(id=case.id, method=pb.DELIVERY_METHOD_DIRECT))
    for request, field in [(execution(case.id, Decimal(100_000), currency="USD"), "amount_paid"),
                           (execution(case.id, Decimal(100_000), note="x" * 4001), "note")]:
        assert field in refused(client, [lambda request=request: client.cases.RecordExecution(request)], INVALID)

    refused(client, [
        lambda: client.cases.ConcludeInvestigation(pb.ConcludeInvestigationRequest(
            id="nope", facts=FACTS, legal_basis=LEGAL_BASIS, proposed_penalty=fine(100))),
        lambda: client.cases.SubmitForLegalReview(pb.SubmitForLegalReviewRequest(id="nope")),
        lambda: client.cases.RecordLegalReview(review("nope", "MH01-004")),
        lambda: client.cases.RecordCollectiveDiscussion(pb.RecordCollectiveDiscussionRequest(id="nope", record="x")),
        lambda: client.cases.IssueAdvanceNotice(pb.IssueAdvanceNoticeRequest(id="nope")),
        lambda: client.cases.RecordStatement(pb.RecordStatementRequest(id="nope", statement="x")),
        lambda: client.cases.RequestHearing(pb.RequestHearingRequest(id="nope")),
        lambda: client.cases.ScheduleHearing(hearing("nope", "MH01-005", later)),
        lambda: client.cases.RecordHearing(pb.RecordHearingRequest(id="nope", record="x")),
        lambda: client.cases.RecordDelivery(pb.RecordDeliveryRequest(id="nope", method=pb.DELIVERY_METHOD_DIRECT)),
        lambda: client.cases.RecordExecution(execution("nope", None)),
    ], NOT_FOUND)


def test_the_procedure_refuses_a_lead_and_another_offices_officers(client):
    staffed(client)
    lead = client.lead(uscc(1), ref="lead-only")
    refused(client, [
        lambda: conclude(client, lead.id, fine(100)),
        lambda: client.cases.SubmitForLegalReview(pb.SubmitForLegalReviewRequest(id=lead.id)),
        lambda: client.cases.RecordCollectiveDiscussion(pb.RecordCollectiveDiscussionRequest(id=lead.id, record="x")),
        lambda: client.cases.RecordHearing(pb.RecordHearingRequest(id=lead.id, record="x")),
        lambda: client.cases.ScheduleHearing(hearing(lead.id, "MH01-005", at(dt.date(2026, 11, 20)))),
        lambda: client.cases.RecordDelivery(pb.RecordDeliveryRequest(id=lead.id, method=pb.DELIVERY_METHOD_DIRECT)),
        lambda: client.cases.RecordExecution(execution(lead.id, None)),
        lambda: client.cases.DecideCase(pb.DecideCaseRequest(id=lead.id, penalty=fine(100))),
    ])
    case = filed_case(client, uscc(1), "hosts")
    notified(client, case.id, fine(100_000))
    client.cases.RequestHearing(pb.RequestHearingRequest(id=case.id))
    # Another office's officer hosts no hearing here, and an unknown one nothing at all.
    refused(client, [lambda: client.cases.ScheduleHearing(hearing(case.id, "MH02-001", at(dt.date(2026, 11, 20))))])
    assert "host_id" in refused(client, [lambda: client.cases.ScheduleHearing(hearing(
        case.id, "MH01-099", at(dt.date(2026, 11, 20))))], INVALID)


def test_another_offices_officer_and_an_auditor_take_no_step_of_the_procedure(tmp_path):
    secret = "test-secret-of-at-least-32-bytes!!"
    client = connect(host_mobile_enforcement(f"sqlite:///{tmp_path / 'enforcement.db'}", InstantClock(),
                                             AUTH_MODE="jwt", JWT_SECRET=secret), tmp_path)
    try:
        for office_id, street in OFFICES.items():
            client.office(office_id, [street])
        for number in range(1, 5):
            client.officer(f"MH01-{number:03d}")

        def as_(roles, office_id=""):
            return (("authorization", f"Bearer {issue_token(secret, subject='u1', roles=roles, office_id=office_id)}"),)

        mh01, mh02, auditor = as_(["officer"], "MH01"), as_(["officer"], "MH02"), as_(["auditor"])
        client.entities.RegisterEntity(pb.RegisterEntityRequest(entity=pb.Entity(
            uscc=uscc(1), name="小杨生煎", category=pb.ENTITY_CATEGORY_CATERING, address="x", street="莘庄镇",
            risk_level=pb.RISK_LEVEL_LOW)), metadata=mh01)
        lead = client.cases.OpenLead(pb.OpenLeadRequest(lead=pb.Case(
            entity_id=uscc(1), source=pb.LEAD_SOURCE_REFERRAL, description="涉嫌销售过期食品")), metadata=mh01)
        case = client.cases.FileCase(pb.FileCaseRequest(id=lead.id, officer_ids=["MH01-001", "MH01-002"]),
                                     metadata=mh01)
        conclusion = pb.ConcludeInvestigationRequest(id=case.id, facts=FACTS, legal_basis=LEGAL_BASIS,
                                                     proposed_penalty=fine(100_000))
        before = client.counts()
        for caller in (mh02, auditor):
            steps = (
                lambda who: client.cases.ConcludeInvestigation(conclusion, metadata=who),
                lambda who: client.cases.SubmitForLegalReview(pb.SubmitForLegalReviewRequest(id=case.id), metadata=who),
                lambda who: client.cases.IssueAdvanceNotice(pb.IssueAdvanceNoticeRequest(id=case.id), metadata=who),
                lambda who: client.cases.RecordDelivery(pb.RecordDeliveryRequest(
                    id=case.id, method=pb.DELIVERY_METHOD_DIRECT), metadata=who),
                lambda who: client.cases.RecordExecution(execution(case.id, None), metadata=who),
            )
            for step in steps:
                expect_error(lambda step=step, caller=caller: step(caller), grpc.StatusCode.PERMISSION_DENIED)
        assert client.counts() == before
        concluded = client.cases.ConcludeInvestigation(conclusion, metadata=mh01)
        assert client.cases.GetCase(pb.GetCaseRequest(id=case.id), metadata=auditor) == concluded
    finally:
        client.close()
