"""The events mobile_enforcement publishes, built from its records: officer credit and the clocks
as they stood (the API tests follow them end to end; here the edges no calendar reaches quickly)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.common.contracts import date_of
from services.mobile_enforcement.domain import published
from services.mobile_enforcement.models import Case, Entity, Inspection
from supervision.common.v1.events_pb2 import StatutoryClock

DUE = dt.date(2027, 1, 8)
NOON = dt.datetime(2027, 1, 8, 4, 0, tzinfo=dt.UTC)  # noon in Shanghai on the due day


def case(**fields) -> Case:
    values = dict(id="c1", version=3, office_id="MH01", entity_id=None, party_name="某摊贩", source="REPORT",
                  source_ref="C-1", filing_decision_due=DUE, filing_due_provisional=True, filing_overdue=False,
                  filing_decided_on=None, filed_on=None, officer_ids="", closing_due=None, closing_overdue=False,
                  decided_on=None, penalty_kind=None, fine_yuan=None, simplified=False, publication_due=None,
                  published_at=None, publication_overdue=False, closed_at=None, not_filed_reason="")
    values.update(fields)
    return Case(**values)


def test_the_filing_clock_is_met_on_its_due_day_and_keeps_its_provisional_mark():
    filed = published.case_filed(case(filing_decided_on=DUE, filed_on=DUE, officer_ids="MH01-001,MH01-002",
                                      closing_due=dt.date(2027, 4, 8)))
    assert list(filed.officer_ids) == ["MH01-001", "MH01-002"] and filed.entity_id == ""
    assert list(filed.clocks) == [StatutoryClock(clock="filing", due_date=date_of(DUE), met=True, provisional=True)]
    late = published.case_filed(case(filing_decided_on=DUE + dt.timedelta(days=1), filing_overdue=True))
    assert [c.met for c in late.clocks] == [False]


def test_a_clock_the_sweep_marked_overdue_is_missed_whatever_the_day_recorded():
    closed = published.case_closed(case(
        filing_decided_on=DUE, filed_on=DUE, closing_due=DUE, decided_on=DUE, closing_overdue=True,
        publication_due=DUE, published_at=NOON, publication_overdue=True, penalty_kind="FINE",
        fine_yuan=Decimal("2000"), closed_at=NOON), DUE)
    assert [(c.clock, c.met) for c in closed.clocks] == [("filing", True), ("closing", False),
                                                         ("publication", False)]
    assert (closed.fine_yuan, closed.closed_on) == ("2000.00", date_of(DUE))


def test_an_inspection_names_its_team_and_an_entity_update_its_old_office_only_when_it_moved():
    inspection = Inspection(id="i1", version=4, office_id="MH01", entity_id="E1", kind="ROUTINE", plan_id=None,
                            outcome="COMPLIANT", rectification_due=None, lead_case_id=None, completed_at=NOON,
                            publication_due=dt.date(2027, 2, 5), inspector_ids="MH01-002,MH01-001",
                            due_date=None, checklist_category="PHARMACY")
    completed = published.inspection_completed(inspection, DUE)
    assert (list(completed.officer_ids), list(completed.clocks), completed.category, completed.plan_id) == (
        ["MH01-002", "MH01-001"], [], "PHARMACY", "")
    assert not completed.HasField("rectification_due")
    entity = Entity(uscc="E1", version=2, office_id="MH01", name="店", category="PHARMACY", street="莘庄镇",
                    risk_level="LOW", key_supervision=False)
    assert published.entity_updated(entity, "MH01").previous_office_id == ""
    assert published.entity_updated(entity, "MH02").previous_office_id == "MH02"


def test_a_closed_case_names_every_sanction_the_money_beside_the_fine_and_each_procedure_clock():
    sanctions = ('[{"kind": "FINE", "amount_yuan": "120000.00", "detail": "", "duration_days": 0}, '
                 '{"kind": "CONFISCATE_GAINS", "amount_yuan": "3500.50", "detail": "", "duration_days": 0}]')
    closed = published.case_closed(case(
        filing_decided_on=DUE, filed_on=DUE, closing_due=DUE, decided_on=DUE, penalty_kind="FINE",
        fine_yuan=Decimal("120000"), sanctions=sanctions, legal_review_due=DUE, legal_reviewed_on=DUE,
        legal_review_overdue=False, legal_review_due_provisional=True, delivery_due=DUE,
        delivered_on=DUE + dt.timedelta(days=1), delivery_overdue=False, payment_due=DUE, executed_on=DUE,
        payment_overdue=False, surcharge_paid=Decimal("0.00"), closed_at=NOON), DUE)
    assert (list(closed.penalties), closed.confiscated_gains_yuan, closed.surcharge_yuan) == (
        ["FINE", "CONFISCATE_GAINS"], "3500.50", "")
    assert [(c.clock, c.met, c.provisional) for c in closed.clocks] == [
        ("filing", True, True), ("closing", True, False), ("legal_review", True, True), ("delivery", False, False)]
    late = published.case_closed(case(decided_on=DUE, penalty_kind="WARNING", sanctions="[]", payment_due=DUE,
                                      executed_on=DUE, payment_overdue=True, surcharge_paid=Decimal("30"),
                                      closed_at=NOON), DUE)
    # A late payment is the party's: its surcharge is reported, and no clock of the office's is missed.
    assert (list(late.penalties), late.surcharge_yuan, [c.clock for c in late.clocks]) == (["WARNING"], "30.00",
                                                                                           [])


def test_an_overdue_case_names_a_registered_party_only():
    registered = case(entity_id="91310112MA1G000011", party_name="某某超市有限公司", state="DECIDED", delivery_due=DUE)
    assert (published.delivery_overdue(registered).entity_name, published.delivery_overdue(registered).deadline) == (
        "某某超市有限公司", "delivery")
    person = case(state="LEGAL_REVIEW", legal_review_due=DUE, payment_due=DUE)
    assert published.legal_review_overdue(person).entity_name == ""
    assert published.legal_review_overdue(person).due_date == date_of(DUE)
    assert published.payment_overdue(person).deadline == "payment"
    assert published.filing_overdue(person).entity_name == ""
