"""The monolith with emergency after command_center: the demo district's incidents and drills load
from the offices and officers command_center's events delivered."""

from __future__ import annotations

import collections

import pytest
from sqlalchemy import select

from services.common.contracts import type_name
from services.emergency.models import Drill, Incident, IncidentAction, Outbox
from supervision.emergency.v1 import events_pb2


@pytest.fixture
def district(demo_district):
    return demo_district.services


def test_the_demo_has_incidents_in_every_state_and_drills_per_office(district):
    emergency = district["emergency"].runtime
    with emergency.store.read() as session:
        incidents = list(session.scalars(select(Incident)))
        late = list(session.scalars(select(IncidentAction.code).where(IncidentAction.overdue.is_(True))))
        drills = collections.Counter(session.scalars(select(Drill.office_id)))
        published = collections.Counter(session.scalars(select(Outbox.event_type)))
    assert {i.state for i in incidents} == {"ACTIVE", "STABLE", "CLOSED"}
    # Two meet no criterion: below level IV ("" level), each with its outcome's own handling.
    assert {i.level for i in incidents} == {"II", "III", "IV", ""}
    below = {i.outcome: i.handling for i in incidents if i.level == ""}
    assert below == {"BELOW_LEVEL_IV": "FS-BELOW-IV-cause-clear", "NOT_AN_ACCIDENT": "SE-NOT-ACCIDENT"}
    assert len({i.office_id for i in incidents}) >= 5 and len({i.type for i in incidents}) == 5
    assert any(i.level != i.criteria_level for i in incidents)  # one was escalated by an officer
    assert late and published[type_name(events_pb2.ActionOverdue)]
    assert published[type_name(events_pb2.NotificationOverdue)]
    assert len(drills) >= 12 and max(drills.values()) > min(drills.values())
    assert emergency.seed_demo().loaded is False  # never over existing data
