"""Notable events for the dashboard's live feed (动态), one Chinese line each, and which alert
probe an event should re-run. Records are named as people know them (a complaint by its number,
a case by its market entity's registered name, an incident by its title), with offices, categories,
levels and dates: never a complainant's, reporter's, officer's or unregistered party's name,
whatever the event carries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar, cast

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
# CaseOverdue.deadline, as the feed names each clock of the penalty procedure.
CASE_DEADLINES = {"filing": "立案决定", "decision": "作出处罚决定", "legal_review": "法制审核", "delivery": "送达",
                  "payment": "罚款缴纳"}


M = TypeVar("M", bound=Message)


class _Item(Protocol):
    """An event about a complaint, report or inquiry: it names its kind."""

    @property
    def kind(self) -> str: ...


class _Incident(Protocol):
    """An event about an incident: it names its level (I-IV)."""

    @property
    def level(self) -> str: ...


class _Case(Protocol):
    """An event about a penalty case: its party and, when in the directory, its market entity."""

    @property
    def party_name(self) -> str: ...

    @property
    def entity_id(self) -> str: ...


def _cut(value: str, limit: int = 40) -> str:
    return value[:limit]


def _kind(message: _Item) -> str:
    return ITEM_KINDS.get(message.kind.upper(), "投诉举报")


def _level(message: _Incident) -> str:
    level = _cut(message.level)
    return f"{LEVELS.get(level, '')}（{level}级）" if level else ""


def _case(message: _Case) -> str:
    # A party in the entity directory is a market entity whose name is public; one outside it may
    # be a person, and stays unnamed.
    name = _cut(message.party_name.strip()) if message.entity_id else ""
    return f"：{name}" if name else ""


def _case_overdue(message: mobile_enforcement.CaseOverdue) -> str:
    # The event names the party only when it is a market entity in the directory (entity_name).
    name = _cut(message.entity_name.strip())
    return f"案件超过{CASE_DEADLINES.get(_cut(message.deadline), '办理')}期限" + (f"：{name}" if name else "")


def _calibration_due(message: facilities.CalibrationDue) -> str:
    try:
        due = day_of(message.calibration_due)
    except InvalidArgument:  # no calendar day: the line is still worth showing, without it
        due = None
    return f"{_cut(message.category_name) or '设备'} 检定到期日 {due.isoformat() if due else ''}"


@dataclass(frozen=True)
class Notable:
    """What the live feed and the alert probes make of one kind of event."""

    # The line shown, from the event's message; None when the event is not worth a line.
    text: Callable[[Message], str] | None
    # The alert probe (by source) to run again soon after the event.
    probe: str = ""


def _notable(source: str, message_class: type[M], text: Callable[[M], str] | None,
             probe: str = "") -> tuple[tuple[str, type[Message]], Notable]:
    # The feed looks a line up by the event's message class, so `text` only ever gets a message of
    # `message_class`: the narrower parameter type is safe to widen to Message here.
    return (source, message_class), Notable(cast("Callable[[Message], str] | None", text), probe)


# (publisher, message class) -> what the feed and the probes make of it.
NOTABLE: dict[tuple[str, type[Message]], Notable] = dict([
    _notable("complaints", complaints.ComplaintReceived, lambda m: f"收到{_kind(m)}（{_cut(m.category)}）",
             "complaints"),
    _notable("complaints", complaints.ComplaintOverdue,
             lambda m: f"{_kind(m)} {_cut(m.complaint_id)} 超过{DEADLINES.get(_cut(m.deadline).upper(), '办理')}期限",
             "complaints"),
    _notable("complaints", complaints.ComplaintAccepted, None, "complaints"),
    _notable("complaints", complaints.ComplaintRefused, None, "complaints"),
    _notable("complaints", complaints.ComplaintResolved, lambda m: f"{_kind(m)} {_cut(m.complaint_id)} 已办结",
             "complaints"),
    _notable("emergency", emergency.IncidentReported, lambda m: f"报告突发事件{_level(m)}：{_cut(m.title)}",
             "emergency"),
    _notable("emergency", emergency.IncidentLevelChanged, lambda m: f"突发事件调整为{_level(m)}：{_cut(m.title)}",
             "emergency"),
    _notable("emergency", emergency.IncidentClosed, lambda m: f"突发事件处置结束：{_cut(m.title)}", "emergency"),
    _notable("command_center", command_center.TaskOverdue, lambda m: f"督办任务超期：{_cut(m.title)}"),
    _notable("command_center", command_center.OfficerRegistered, None, "command_center"),
    _notable("command_center", command_center.OfficerUpdated, None, "command_center"),
    _notable("facilities", facilities.CalibrationDue, _calibration_due, "facilities"),
    _notable("facilities", facilities.RapidTestPositive, lambda m: f"快检阳性：{_cut(m.sample.name) or '样品'}"),
    _notable("mobile_enforcement", mobile_enforcement.CaseFiled, lambda m: f"立案调查一起案件{_case(m)}",
             "mobile_enforcement"),
    _notable("mobile_enforcement", mobile_enforcement.CaseClosed, lambda m: f"结案一起案件{_case(m)}",
             "mobile_enforcement"),
    _notable("mobile_enforcement", mobile_enforcement.CaseOverdue, _case_overdue, "mobile_enforcement"),
])
