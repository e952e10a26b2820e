"""The events built in one place from their records: the entity's industry code and the plan's
rounding rule travel with the record, and so does a publication date's provisional flag."""

from __future__ import annotations

import datetime as dt

import pytest

from services.mobile_enforcement.domain import published
from services.mobile_enforcement.models import Case, Entity, Inspection, Plan


def entity(industry_code: str, office_id: str = "MH01") -> Entity:
    return Entity(uscc="91310112MA1000001X", version=2, office_id=office_id, name="闵行加油站", category="",
                  street="莘庄镇", risk_level="LOW", key_supervision=False, industry_code=industry_code)


@pytest.mark.parametrize("code", ["5265", "45", ""])
def test_entity_events_carry_the_industry_code(code):
    assert published.entity_registered(entity(code)).industry_code == code
    updated = published.entity_updated(entity(code), previous_office_id="MH02")
    assert (updated.industry_code, updated.previous_office_id) == (code, "MH02")


@pytest.mark.parametrize("rounding", ["HALF_UP", "CEIL", "PER_GROUP_CEIL"])
def test_a_drawn_plan_states_its_rounding_rule(rounding):
    plan = Plan(id="p1", office_id="MH01", name="2027 年第一批", seed="s", drawn_on=dt.date(2026, 12, 1),
                entity_digest="e", officer_digest="o", target_count=2, rounding=rounding)
    assert published.plan_drawn(plan).rounding == rounding


@pytest.mark.parametrize("provisional", [True, False])
def test_publication_events_and_clocks_carry_the_provisional_flag(provisional):
    due = dt.date(2027, 1, 12)
    inspection = Inspection(id="i1", version=3, office_id="MH01", entity_id="91310112MA1000001X", kind="ROUTINE",
                            publication_due=due, publication_due_provisional=provisional, inspector_ids="a,b",
                            checklist_category="CATERING", due_date=None)
    assert published.inspection_completed(inspection, dt.date(2026, 12, 15)).publication_due_provisional is provisional
    assert published.inspection_publication_overdue(inspection).due_date_provisional is provisional
    case = Case(id="c1", version=5, office_id="MH01", publication_due=due, publication_due_provisional=provisional,
                published_at=None, publication_overdue=False, filing_decided_on=None, closing_due=None,
                legal_review_due=None, delivery_due=None)
    assert published.case_publication_overdue(case).due_date_provisional is provisional
    [clock] = published.case_clocks(case)
    assert (clock.clock, clock.provisional, clock.met) == ("publication", provisional, False)
