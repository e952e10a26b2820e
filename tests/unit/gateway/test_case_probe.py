"""The gateway's probe of mobile_enforcement's cases: a case raises an alert for a limit it ran out of
only in the states where that limit is still open, one alert per case, for every step of the penalty
procedure (the decision's clock in every state before the decision, legal review, delivery, payment,
publication)."""

from __future__ import annotations

import datetime as dt

import pytest
from google.type import date_pb2

from services.gateway.domain import alerts
from services.gateway.domain.alerts import AlertRules
from services.gateway.probes import CASE_LIMITS, cases_overdue
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

TODAY = dt.date(2026, 12, 7)
DUE = date_pb2.Date(year=2026, month=12, day=1)


class Upstream:
    """mobile_enforcement's ListCases over fixed cases, filtered by state as the service filters."""

    def __init__(self, *cases: pb.Case, page_size: int = 2):
        self.cases = cases
        self.page_size = page_size
        self.asked: list[str] = []

    def call(self, source, stub_class, method, request):
        assert (source, method) == ("mobile_enforcement", "ListCases")
        self.asked.append(request.filter)
        state = pb.CaseState.Value("CASE_STATE_" + request.filter.removeprefix("state = "))
        matching = [c for c in self.cases if c.state == state]
        start = int(request.page_token or 0)
        end = start + self.page_size
        return pb.ListCasesResponse(cases=matching[start:end], next_page_token=str(end) if end < len(matching) else "")


def case(case_id: str, state: str, *flags: str, registered: bool = True) -> pb.Case:
    item = pb.Case(id=case_id, office_id="MH01", state=pb.CaseState.Value(f"CASE_STATE_{state}"),
                   party=pb.Party(name="七宝鲜丰超市有限公司" if registered else "张某某"),
                   entity_id="91310112MA1000001X" if registered else "")
    for flag in flags:
        setattr(item, flag, True)
    for _, due, _, _ in CASE_LIMITS:
        getattr(item, due).CopyFrom(DUE)
    return item


def probe(*cases: pb.Case) -> list[alerts.Alert]:
    return cases_overdue(Upstream(*cases), AlertRules.load(), TODAY)


@pytest.mark.parametrize(("state", "flag", "what"), [
    ("LEAD", "filing_overdue", "立案决定"),
    ("FILED", "closing_overdue", "处罚决定"),
    ("INVESTIGATED", "closing_overdue", "处罚决定"),
    ("LEGAL_REVIEW", "closing_overdue", "处罚决定"),
    ("NOTIFIED", "closing_overdue", "处罚决定"),
    ("HEARING", "closing_overdue", "处罚决定"),
    ("LEGAL_REVIEW", "legal_review_overdue", "法制审核"),
    ("DECIDED", "delivery_overdue", "处罚决定送达"),
    ("DELIVERED", "payment_overdue", "罚款缴纳"),
    ("DECIDED", "publication_overdue", "处罚信息公示"),
    ("EXECUTED", "publication_overdue", "处罚信息公示"),
])
def test_a_limit_run_out_in_a_state_where_it_is_open_is_an_alert(state, flag, what):
    [alert] = probe(case("C1", state, flag))
    assert (alert.kind, alert.ref, alert.office_id, alert.severity) == (alerts.CASE_OVERDUE, "C1", "MH01",
                                                                         alerts.CRITICAL)
    assert f"超过{what}期限" in alert.title and "七宝鲜丰超市有限公司" in alert.title
    assert alert.due == dt.date(2026, 12, 1)


@pytest.mark.parametrize(("state", "flag"), [
    ("FILED", "filing_overdue"),  # filed late: history once filed
    ("DECIDED", "closing_overdue"),  # decided late: history once decided
    ("INVESTIGATED", "legal_review_overdue"),  # reviewed late
    ("DELIVERED", "delivery_overdue"),  # delivered late
    ("EXECUTED", "payment_overdue"),  # paid late, with the surcharge
    ("CLOSED", "publication_overdue"),  # closed cases are not listed at all
])
def test_a_limit_met_late_raises_no_alert_once_the_step_is_done(state, flag):
    assert probe(case("C1", state, flag)) == []


def test_one_alert_per_case_naming_its_first_limit_and_a_person_stays_unnamed():
    [alert] = probe(case("C1", "LEGAL_REVIEW", "legal_review_overdue", "closing_overdue", registered=False))
    assert "处罚决定" in alert.title and "张某某" not in alert.title


def test_every_open_state_is_asked_for_page_by_page():
    upstream = Upstream(*(case(f"C{n}", "DELIVERED", "payment_overdue") for n in range(5)))
    found = cases_overdue(upstream, AlertRules.load(), TODAY)
    assert [a.ref for a in found] == [f"C{n}" for n in range(5)]
    asked_states = {f.removeprefix("state = ") for f in upstream.asked}
    assert asked_states == {"LEAD", "FILED", "INVESTIGATED", "LEGAL_REVIEW", "NOTIFIED", "HEARING", "DECIDED",
                            "DELIVERED", "EXECUTED"}
    assert upstream.asked.count("state = DELIVERED") == 3  # five cases, two a page
