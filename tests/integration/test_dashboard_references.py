"""How the dashboard's alerts and feed name a case: by its market entity's registered name and the
day its lead came in, never by its UUID, and never by the name of a party outside the entity
directory (who may be a person)."""

from __future__ import annotations

import datetime as dt

from services.gateway.domain import alerts
from services.gateway.domain.feed import NOTABLE
from supervision.mobile_enforcement.v1 import events_pb2 as me

UUID_CASE = "28a3bac5-e39c-49b4-8fee-2eb8b1e96bf3"


def test_a_case_of_a_registered_entity_is_named_by_the_entity_and_the_day_its_lead_came_in():
    # 23:30 UTC on 1 December is 2 December in Shanghai: the day the office saw it.
    received = dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC)
    assert alerts.case_reference("莘庄某某超市有限公司", True, received) == "莘庄某某超市有限公司，2026-12-02 收到线索"


def test_a_party_outside_the_directory_stays_unnamed():
    assert alerts.case_reference("张三", False, None) == alerts.UNREGISTERED_PARTY
    assert "张三" not in alerts.case_reference("张三", False, dt.datetime(2026, 12, 1, tzinfo=dt.UTC))


def test_an_empty_or_overlong_name_gives_a_short_reference_still():
    assert alerts.case_reference("   ", True, None) == alerts.UNREGISTERED_PARTY
    assert len(alerts.case_reference("某" * 500, True, None)) == 40


def test_feed_lines_of_cases_name_the_registered_entity_and_no_uuid():
    filed = NOTABLE[("mobile_enforcement", me.CaseFiled)].text
    closed = NOTABLE[("mobile_enforcement", me.CaseClosed)].text
    registered = {"case_id": UUID_CASE, "office_id": "MH01", "entity_id": "91310112MA1GB1234X",
                  "party_name": "莘庄某某超市有限公司"}
    assert filed(me.CaseFiled(**registered)) == "立案调查一起案件：莘庄某某超市有限公司"
    assert closed(me.CaseClosed(**registered)) == "结案一起案件：莘庄某某超市有限公司"
    unregistered = {**registered, "entity_id": "", "party_name": "莘庄无名摊贩"}
    assert filed(me.CaseFiled(**unregistered)) == "立案调查一起案件"
    assert UUID_CASE not in filed(me.CaseFiled(**registered)) + closed(me.CaseClosed(**unregistered))
