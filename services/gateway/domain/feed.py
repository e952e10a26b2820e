"""Notable events for the dashboard's live feed (动态), one Chinese line each, and which alert
probe an event should re-run. Records are named as people know them (a complaint by its number,
a case by its market entity's registered name, an incident by its title), with offices, categories,
levels and dates: never a complainant's, reporter's, officer's or unregistered party's name,
whatever the event carries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import Message

from services.common.contracts import day_of
from services.common.errors import InvalidArgument
from supervision.command_center.v1 import events_pb2 as command_center
from supervision.complaints.v1 import events_pb2 as complaints
from supervision.emergency.v1 import events_pb2 as emergency
from supervision.facilities.v1 import events_pb2 as facilities
from supervision.mobile_enforcement.v1 import events_pb2 as mobile_enforcement

LEVELS = {"I": "特别重大", "II": "重大", "III": "较大", "IV": "一般"}
ITEM_KINDS = {"COMPLAINT": "投诉", "REPORT": "举报", "INQUIRY": "咨询"}
DEADLINES = {"ACCEPTANCE": "受理", "MEDIATION": "调解", "MEDIATION_NOTICE": "调解终结告知",
             "FILING_DECISION": "立案决定"}


def _cut(value: str, limit: int = 40) -> str:
    return value[:limit]


def _kind(message: Message) -> str:
    return ITEM_KINDS.get(message.kind.upper(), "投诉举报")


def _level(message: Message) -> str:
    level = _cut(message.level)
    return f"{LEVELS.get(level, '')}（{level}级）" if level else ""


def _case(message: Message) -> str:
    # A party in the entity directory is a market entity whose name is public; one outside it may
    # be a person, and stays unnamed.
    name = _cut(message.party_name.strip()) if message.entity_id else ""
    return f"：{name}" if name else ""


def _calibration_due(message: facilities.CalibrationDue) -> str:
    try:
        due = day_of(message.calibration_due)
    except InvalidArgument:  # no calendar day: the line is still worth showing, without it
        due = None
    return f"{_cut(message.category_name) or '设备'} 检定到期日 {due.isoformat() if due else ''}"


@dataclass(frozen=True)
class Notable:
    # The line shown, from the event's message; None when the event is not worth a line.
    text: Callable[[Message], str] | None
    # The alert probe (by source) to run again soon after the event.
    probe: str = ""


# (publisher, message class) -> what the feed and the probes make of it.
NOTABLE: dict[tuple[str, type[Message]], Notable] = {
    ("complaints", complaints.ComplaintReceived): Notable(
        lambda m: f"收到{_kind(m)}（{_cut(m.category)}）", "complaints"),
    ("complaints", complaints.ComplaintOverdue): Notable(
        lambda m: f"{_kind(m)} {_cut(m.complaint_id)} 超过{DEADLINES.get(_cut(m.deadline).upper(), '办理')}期限",
        "complaints"),
    ("complaints", complaints.ComplaintAccepted): Notable(None, "complaints"),
    ("complaints", complaints.ComplaintRefused): Notable(None, "complaints"),
    ("complaints", complaints.ComplaintResolved): Notable(lambda m: f"{_kind(m)} {_cut(m.complaint_id)} 已办结",
                                                          "complaints"),
    ("emergency", emergency.IncidentReported): Notable(lambda m: f"报告突发事件{_level(m)}：{_cut(m.title)}",
                                                       "emergency"),
    ("emergency", emergency.IncidentLevelChanged): Notable(lambda m: f"突发事件调整为{_level(m)}：{_cut(m.title)}",
                                                           "emergency"),
    ("emergency", emergency.IncidentClosed): Notable(lambda m: f"突发事件处置结束：{_cut(m.title)}", "emergency"),
    ("command_center", command_center.TaskOverdue): Notable(lambda m: f"督办任务超期：{_cut(m.title)}"),
    ("command_center", command_center.OfficerRegistered): Notable(None, "command_center"),
    ("command_center", command_center.OfficerUpdated): Notable(None, "command_center"),
    ("facilities", facilities.CalibrationDue): Notable(_calibration_due, "facilities"),
    ("facilities", facilities.RapidTestPositive): Notable(lambda m: f"快检阳性：{_cut(m.sample.name) or '样品'}"),
    ("mobile_enforcement", mobile_enforcement.CaseFiled): Notable(
        lambda m: f"立案调查一起案件{_case(m)}", "mobile_enforcement"),
    ("mobile_enforcement", mobile_enforcement.CaseClosed): Notable(
        lambda m: f"结案一起案件{_case(m)}", "mobile_enforcement"),
}
