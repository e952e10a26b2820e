"""Helpers of the penalty procedure's API tests: times in Shanghai, money, the requests of the steps,
a staffed office, and a refusal that changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement.support import (
    PRECONDITION,
    Client,
    expect_error,
    uscc,
)

FINE, GAINS, REVOKE = pb.PENALTY_KIND_FINE, pb.PENALTY_KIND_CONFISCATE_GAINS, pb.PENALTY_KIND_REVOKE_LICENCE
LICENCE = "食品经营许可证JY23101120000001"
HEARING_ROOM = "闵行区市场监督管理局第一听证室"


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """That day at the hour in Shanghai."""
    return dt.datetime(day.year, day.month, day.day, hour - 8, tzinfo=dt.UTC)


def on(client: Client, day: dt.date, hour: int = 10) -> None:
    client.clock.instant = at(day, hour)


def yuan(money) -> Decimal:
    return Decimal(money.units) + Decimal(money.nanos // 10_000_000) / 100


def refused(client: Client, calls, code=PRECONDITION) -> dict[str, str]:
    """Each call refused with the code, the store and the outbox untouched; the last call's violations."""
    before = client.counts()
    found: dict[str, str] = {}
    for call in calls:
        found = expect_error(call, code)
    assert client.counts() == before
    return found


def get(client: Client, case_id: str) -> pb.Case:
    return client.cases.GetCase(pb.GetCaseRequest(id=case_id))


APPROVAL = "事实清楚，证据确凿，适用依据正确，程序合法"


def review(case_id: str, reviewer: str, approved: bool = True, opinion: str = APPROVAL) -> pb.RecordLegalReviewRequest:
    return pb.RecordLegalReviewRequest(id=case_id, reviewer_id=reviewer, approved=approved, opinion=opinion)


def hearing(case_id: str, host: str, when: dt.datetime, place: str = HEARING_ROOM) -> pb.ScheduleHearingRequest:
    request = pb.ScheduleHearingRequest(id=case_id, host_id=host, place=place)
    request.hearing_time.FromDatetime(when)
    return request


def execution(case_id: str, paid: Decimal | None, note: str = "", currency: str = "CNY") -> pb.RecordExecutionRequest:
    request = pb.RecordExecutionRequest(id=case_id, note=note)
    if paid is not None:
        units = int(paid)
        request.amount_paid.currency_code, request.amount_paid.units = currency, units
        request.amount_paid.nanos = int((paid - units) * 100) * 10_000_000
    return request


def staffed(client: Client) -> None:
    """Entity 1, a fifth officer at MH01 to host hearings, and MH01-003 conflicted with the party."""
    client.entity(1)
    client.officer("MH01-005")
    client.spot_checks.DeclareConflict(pb.DeclareConflictRequest(conflict=pb.Conflict(
        officer_id="MH01-003", entity_id=uscc(1), reason="当事人法定代表人系其配偶")))
