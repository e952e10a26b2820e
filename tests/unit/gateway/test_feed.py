"""The live feed's table: every notable event is one of its publisher's messages (or a message of
the common package every service may publish), and each line reads only fields that message has
(the lines themselves are checked against the publishers' own events in tests/contracts)."""

from __future__ import annotations

import pytest
from google.type.date_pb2 import Date

from services.common.sources import SOURCES
from services.gateway.domain.feed import NOTABLE, RECOUNTED_CLOCKS, _recounted
from supervision.common.v1.events_pb2 import DeadlineRecomputed


@pytest.mark.parametrize(("source", "message_class"), list(NOTABLE), ids=lambda v: getattr(v, "__name__", v))
def test_a_notable_event_is_a_message_of_its_publisher_and_its_line_reads_its_fields(source, message_class):
    assert source in SOURCES
    package = message_class.DESCRIPTOR.full_name.rsplit(".", 1)[0]
    assert package in (f"supervision.{source}.v1", "supervision.common.v1")
    if package == "supervision.common.v1":
        # A shared message names its clocks in each publisher's vocabulary: the feed must know them.
        assert message_class is DeadlineRecomputed and source in RECOUNTED_CLOCKS
    notable = NOTABLE[(source, message_class)]
    assert notable.text is not None or notable.probe
    if notable.text is not None:
        # An unset message: a field the line reads that the message lacks raises here.
        assert isinstance(notable.text(message_class()), str)
    assert notable.probe in ("", *SOURCES)


@pytest.mark.parametrize(("source", "subject_type", "clock", "provisional", "line"), [
    ("mobile_enforcement", "case", "publication", False, "工作日历更新，一起案件公示期限重算 2027-01-04 → 2027-01-05"),
    ("mobile_enforcement", "inspection", "publication", True,
     "工作日历更新，一次检查公示期限重算 2027-01-04 → 2027-01-05（仍为暂定）"),
    ("command_center", "task", "due_date", False, "工作日历更新，一项督办任务办理期限重算 2027-01-04 → 2027-01-05"),
    ("mobile_enforcement", "case", "a-clock-added-later", False,
     "工作日历更新，一起案件办理期限重算 2027-01-04 → 2027-01-05"),
])
def test_a_recount_line_names_the_item_and_its_clock_without_ids(source, subject_type, clock, provisional, line):
    message = DeadlineRecomputed(subject_type=subject_type, subject_id="secret-id", reference="secret-ref",
                                 clock=clock, previous_due_date=Date(year=2027, month=1, day=4),
                                 due_date=Date(year=2027, month=1, day=5), provisional=provisional)
    text = _recounted(source)(message)
    assert text == line
    assert "secret" not in text
