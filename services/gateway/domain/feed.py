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
from supervision.common.v1.events_pb2 import DeadlineRecomputed
from supervision.complaints.v1 import events_pb2 as complaints
from supervision.emergency.v1 import events_pb2 as emergency
from supervision.facilities.v1 import events_pb2 as facilities
from supervision.mobile_enforcement.v1 import events_pb2 as mobile_enforcement

LEVELS = {"I": "特别重大", "II": "重大", "III": "较大", "IV": "一般"}
# An incident graded at no level: what emergency's events call it instead (field `outcome`).
BELOW_LEVEL_IV = {"BELOW_LEVEL_IV": "未达到一般级别", "NOT_AN_ACCIDENT": "不属于事故"}
ITEM_KINDS = {"COMPLAINT": "投诉", "REPORT": "举报", "INQUIRY": "咨询"}
DEADLINES = {"ACCEPTANCE": "受理", "MEDIATION": "调解", "MEDIATION_NOTICE": "调解终结告知",
             "FILING_DECISION": "立案决定"}
# CaseOverdue.deadline, as the feed names each clock of the penalty procedure.
CASE_DEADLINES = {"filing": "立案决定", "decision": "作出处罚决定", "legal_review": "法制审核", "delivery": "送达",
                  "payment": "罚款缴纳"}

# DeadlineRecomputed.clock, by publisher, as the feed names each clock counted again.
RECOUNTED_CLOCKS = {"complaints": {"ACCEPTANCE": "受理", "MEDIATION": "调解", "MEDIATION_NOTICE": "调解终结告知",
                                   "FILING_DECISION": "立案决定", "REPORTER_NOTICE": "告知举报人"},
                    "mobile_enforcement": {"FILING": "立案决定", "LEGAL_REVIEW": "法制审核", "STATEMENT": "陈述申辩",
                                           "PUBLICATION": "公示"},
                    "command_center": {"DUE_DATE": "办理"}}
# DeadlineRecomputed.subject_type, as the feed names an item that has no public number (a case id
# or a task id means nothing to a reader, so it stays out).
RECOUNTED_SUBJECTS = {"case": "一起案件", "inspection": "一次检查", "task": "一项督办任务"}


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


def _incident_reported(message: emergency.IncidentReported) -> str:
    below = BELOW_LEVEL_IV.get(message.outcome)
    if below:
        return f"登记事件（{below}，日常跟踪处置）：{_cut(message.title)}"
    return f"报告突发事件{_level(message)}：{_cut(message.title)}"


def _incident_regraded(message: emergency.IncidentLevelChanged) -> str:
    grade = BELOW_LEVEL_IV.get(message.outcome) or _level(message)
    return f"突发事件调整为{grade}：{_cut(message.title)}"


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


def _recounted(source: str) -> Callable[[DeadlineRecomputed], str]:
    clocks = RECOUNTED_CLOCKS[source]

    def text(message: DeadlineRecomputed) -> str:
        # A complaint is known by its number; a case or an inspection only by what it is. A task is
        # known by its title, which the event does not carry.
        if source == "complaints":
            subject = f"投诉举报 {_cut(message.reference)} "
        else:
            subject = RECOUNTED_SUBJECTS.get(_cut(message.subject_type), "一项工作")
        clock = clocks.get(_cut(message.clock).upper(), "办理")
        try:
            before, after = day_of(message.previous_due_date), day_of(message.due_date)
        except InvalidArgument:  # no calendar day: the recount is still worth a line, without dates
            before = after = None
        moved = f"{before.isoformat()} → {after.isoformat()}" if before and after else ""
        still = "（仍为暂定）" if message.provisional else ""
        return f"工作日历更新，{subject}{clock}期限重算 {moved}{still}".rstrip()

    return text


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
    _notable("emergency", emergency.IncidentReported, _incident_reported, "emergency"),
    _notable("emergency", emergency.IncidentLevelChanged, _incident_regraded, "emergency"),
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
    # A market entity's name is public (its registration is). EntityRegistered has no line: a bulk
    # import of the registration authority's extract registers a million at once.
    _notable("mobile_enforcement", mobile_enforcement.EntityUpdated,
             lambda m: f"市场主体{'迁入本所辖区' if m.previous_office_id else '登记信息变更'}：{_cut(m.name)}"),
    _notable("complaints", DeadlineRecomputed, _recounted("complaints"), "complaints"),
    _notable("mobile_enforcement", DeadlineRecomputed, _recounted("mobile_enforcement"), "mobile_enforcement"),
    _notable("command_center", DeadlineRecomputed, _recounted("command_center")),
])
