"""mobile_enforcement through a real gRPC server: other services' events on the in-process bus."""

from __future__ import annotations

import datetime as dt

from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from tests.api.mobile_enforcement_fixtures import client as client  # a fixture: pytest finds it by name
from tests.api.mobile_enforcement_fixtures import (
    date,
    uscc,
)


def test_reports_and_rapid_test_positives_become_leads_once(client):
    client.entity(1, category=pb.ENTITY_CATEGORY_WET_MARKET)
    report = {"complaint_id": "C-2026-0001", "office_id": "MH02", "category": "食品安全",
              "respondent": {"name": "七宝某面馆", "uscc": "not-a-code", "address": "七宝老街9号", "street": "七宝镇"},
              "description": "举报人称该店使用过期面粉", "received_at": "2026-10-28T03:00:00Z"}
    first = client.announce("complaints", "CaseLeadRaised", "complaint/C-2026-0001", 4, report, "MH02")
    client.running.bus.publish(first)  # redelivered
    client.announce("complaints", "CaseLeadRaised", "complaint/C-2026-0001", 5, report, "MH02")
    [lead] = client.cases.ListCases(pb.ListCasesRequest(filter="source = REPORT")).cases
    # Received Wednesday 28 October: 15 working days end on Wednesday 18 November.
    assert (lead.office_id, lead.party.name, lead.party.uscc, lead.filing_decision_due) == (
        "MH02", "七宝某面馆", "", date(dt.date(2026, 11, 18)))
    assert lead.source_ref == "C-2026-0001" and "过期面粉" in lead.description
    positive = {"test_id": "RT-1", "office_id": "MH01", "item": "pesticide_residue", "reading": 62, "unit": "%",
                "sample": {"name": "青菜", "vendor_name": "莘庄菜场3号摊", "vendor_uscc": uscc(1).lower(),
                           "market": "莘庄菜场", "stall": "3号"}, "tested_at": "2026-11-02T01:30:00Z"}
    client.announce("facilities", "RapidTestPositive", "rapid_test/RT-1", 3, positive, "MH01")
    client.announce("facilities", "RapidTestPositive", "rapid_test/RT-2", 3,
                    {**positive, "test_id": "RT-2", "sample": {**positive["sample"], "vendor_uscc": ""}}, "MH01")
    follow_ups = client.inspections.ListInspections(pb.ListInspectionsRequest(
        filter="kind = RAPID_TEST_FOLLOW_UP")).inspections
    assert [(i.entity_id, i.source_ref, i.state) for i in follow_ups] == [
        (uscc(1), "RT-1", pb.INSPECTION_STATE_PLANNED)]
    leads = {c.source_ref: c for c in client.cases.ListCases(pb.ListCasesRequest(filter="source = RAPID_TEST")).cases}
    assert (leads["RT-1"].entity_id, leads["RT-2"].entity_id, leads["RT-2"].party.name) == (
        uscc(1), "", "莘庄菜场3号摊")
    before = client.counts()
    client.announce("facilities", "RapidTestPositive", "rapid_test/RT-3", 3,
                    {**positive, "test_id": "RT-3", "tested_at": "yesterday"}, "MH01")
    assert client.counts() == before


def test_a_street_moving_to_another_office_takes_its_businesses(client):
    client.entity(1)
    client.office("MH02", ["七宝镇", "莘庄镇"], version=2, event_type="OfficeUpdated")
    client.office("MH01", ["莘庄工业区"], version=2, event_type="OfficeUpdated")
    assert client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(1))).office_id == "MH02"
    client.office("MH02", ["七宝镇"], version=1, event_type="OfficeRegistered")  # stale: ignored
    assert client.entities.GetEntity(pb.GetEntityRequest(uscc=uscc(1))).office_id == "MH02"
