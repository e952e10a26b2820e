"""Evidence read from other services' events, whose shapes belong to their publishers."""

from __future__ import annotations

import datetime as dt

from services.assessment.domain import evidence

DAY = dt.date(2026, 8, 10)


def test_officer_ids_come_from_any_of_the_publishers_keys_once_each():
    data = {"officer_ids": ["MH01-01", "MH01-02", ""], "officer_id": "MH01-02", "handled_by": "MH01-03",
            "completed_by": 7, "inspector_ids": "MH01-04"}
    assert evidence.officer_ids_of(data) == ("MH01-01", "MH01-02", "MH01-03", "MH01-04")
    assert evidence.officer_ids_of({}) == ()
    assert len(evidence.officer_ids_of({"officer_ids": [f"O{n}" for n in range(50)]})) == evidence.MAX_OFFICERS


def test_timeliness_comes_from_whichever_flag_the_event_carries():
    assert evidence.on_time_of({"on_time": True}) is True
    assert evidence.on_time_of({"overdue": True}) is False
    assert evidence.on_time_of({"overdue": False}) is True
    assert evidence.on_time_of({"within_limit": False}) is False
    assert evidence.on_time_of({"late": True}) is False
    assert evidence.on_time_of({"overdue": "yes"}) is None  # not a flag: unknown, not late
    assert evidence.on_time_of({}) is None


def test_an_event_becomes_evidence_keyed_by_its_record():
    task = evidence.from_event(evidence.TASK, "command_center", "t-1", "MH01", DAY,
                               {"id": "t-1", "office_id": "MH01", "title": "督办：电梯维保专项检查", "overdue": True})
    assert (task.id, task.on_time, task.title, task.officer_ids) == (
        "command_center/TASK/t-1", False, "督办：电梯维保专项检查", ())
    complaint = evidence.from_event(evidence.COMPLAINT, "complaints", "", "", DAY,
                                    {"complaint_id": "C-9", "office_id": "MH02", "handled_by": "MH02-05"})
    assert (complaint.reference, complaint.office_id, complaint.officer_ids) == ("C-9", "MH02", ("MH02-05",))
    inspection = evidence.from_event(evidence.INSPECTION, "mobile_enforcement", "I-1", "MH03", DAY,
                                     {"entity_id": "E-7"})
    assert (inspection.reference, inspection.entity_id) == ("I-1", "E-7")


def test_an_event_without_its_office_or_record_is_no_evidence():
    assert evidence.from_event(evidence.CASE, "mobile_enforcement", "", "MH01", DAY, {}) is None
    assert evidence.from_event(evidence.CASE, "mobile_enforcement", "K-1", "", DAY, {}) is None
