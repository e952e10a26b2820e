"""Notable events for the dashboard's live feed (动态), one Chinese line each, and which alert
probe an event should re-run. Only ids, offices, categories, levels and dates are shown: never a
complainant's, reporter's, vendor's or officer's name, whatever the event carries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

LEVELS = {"I": "特别重大", "II": "重大", "III": "较大", "IV": "一般"}
ITEM_KINDS = {"COMPLAINT": "投诉", "REPORT": "举报", "INQUIRY": "咨询"}
DEADLINES = {"ACCEPTANCE": "受理", "MEDIATION": "调解", "MEDIATION_NOTICE": "调解终结告知",
             "FILING_DECISION": "立案决定"}


def _get(data: Mapping[str, Any], key: str, limit: int = 40) -> str:
    return str(data.get(key) or "")[:limit]


def _kind(data: Mapping[str, Any]) -> str:
    return ITEM_KINDS.get(_get(data, "kind").upper(), "投诉举报")


def _level(data: Mapping[str, Any]) -> str:
    level = _get(data, "level")
    return f"{LEVELS.get(level, '')}（{level}级）" if level else ""


@dataclass(frozen=True)
class Notable:
    # The line shown, from the event's data; None when the event is not worth a line.
    text: Callable[[Mapping[str, Any]], str] | None
    # The alert probe (by source) to run again soon after the event.
    probe: str = ""


NOTABLE: dict[tuple[str, str], Notable] = {
    ("complaints", "ComplaintReceived"): Notable(lambda d: f"收到{_kind(d)}（{_get(d, 'category')}）", "complaints"),
    ("complaints", "ComplaintOverdue"): Notable(
        lambda d: f"{_kind(d)} {_get(d, 'complaint_id')} 超过{DEADLINES.get(_get(d, 'deadline').upper(), '办理')}期限",
        "complaints"),
    ("complaints", "ComplaintAccepted"): Notable(None, "complaints"),
    ("complaints", "ComplaintRefused"): Notable(None, "complaints"),
    ("complaints", "ComplaintResolved"): Notable(lambda d: f"{_kind(d)} {_get(d, 'complaint_id')} 已办结",
                                                 "complaints"),
    ("emergency", "IncidentReported"): Notable(lambda d: f"报告突发事件{_level(d)}：{_get(d, 'title')}", "emergency"),
    ("emergency", "IncidentLevelChanged"): Notable(lambda d: f"突发事件调整为{_level(d)}：{_get(d, 'title')}",
                                                   "emergency"),
    ("emergency", "IncidentClosed"): Notable(lambda d: f"突发事件处置结束：{_get(d, 'title')}", "emergency"),
    ("command_center", "TaskOverdue"): Notable(lambda d: f"督办任务超期：{_get(d, 'title')}"),
    ("command_center", "OfficerRegistered"): Notable(None, "command_center"),
    ("command_center", "OfficerUpdated"): Notable(None, "command_center"),
    ("facilities", "CalibrationDue"): Notable(
        lambda d: f"{_get(d, 'category_name') or '设备'} 检定到期日 {_get(d, 'calibration_due')}",
        "facilities"),
    ("facilities", "RapidTestPositive"): Notable(
        lambda d: f"快检阳性：{_get(d.get('sample') or {}, 'name') or '样品'}"),
    ("mobile_enforcement", "CaseFiled"): Notable(lambda d: "立案调查一起案件", "mobile_enforcement"),
    ("mobile_enforcement", "CaseClosed"): Notable(lambda d: "结案一起案件", "mobile_enforcement"),
}
