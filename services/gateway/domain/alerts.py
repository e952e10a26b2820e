"""Alerts (预警): what needs a person's attention now. No personal data: items are named as the
people who handle them know them (a complaint by its number, a case by its market entity's
registered name and the day its lead came in, an incident by its title), never by complainants',
officers' or unregistered parties' names, and never by an internal UUID.

Operational alerts come from the services' own records (complaints and cases past their statutory
deadlines, open incidents of levels I-III, certificates and calibrations about to expire), read by
the gateway's probes; the index-drop alert comes from the live index itself.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from services.common.clock import shanghai_date
from services.common.config import ConfigError
from services.common.rulebook import read_document

ALERT_RULES_FILE = Path(__file__).resolve().parent.parent / "rules" / "alerts.yaml"

COMPLAINT_OVERDUE = "complaint_overdue"
CASE_OVERDUE = "case_overdue"
INCIDENT_OPEN = "incident_open"
CERTIFICATE_EXPIRING = "certificate_expiring"
CALIBRATION_DUE = "calibration_due"
INDEX_DROP = "index_drop"
KIND_NAMES = {
    COMPLAINT_OVERDUE: "投诉举报超期",
    CASE_OVERDUE: "案件办理超期",
    INCIDENT_OPEN: "较大以上突发事件处置中",
    CERTIFICATE_EXPIRING: "执法证件即将到期",
    CALIBRATION_DUE: "设备检定即将到期",
    INDEX_DROP: "标准化指数明显下降",
}
CRITICAL, WARNING = "critical", "warning"


@dataclass(frozen=True)
class Alert:
    """One alert (预警): a record or an office that needs a person's attention now."""

    kind: str
    ref: str  # the record's id in its service (or the office, for an index drop)
    office_id: str
    severity: str
    title: str
    due: dt.date | None = None

    @property
    def id(self) -> str:
        """The alert's identity: its kind and the record it is about."""
        return f"{self.kind}/{self.ref}"

    @property
    def kind_name(self) -> str:
        """The kind as the dashboard names it in Chinese (投诉举报超期, ...)."""
        return KIND_NAMES.get(self.kind, self.kind)


@dataclass(frozen=True)
class AlertRules:
    """The bureau's alert settings (rules/alerts.yaml): notice periods, incident levels, the index drop."""

    certificate_notice_days: int
    calibration_notice_days: int
    incident_levels: tuple[str, ...]
    index_drop_points: float
    index_drop_window: dt.timedelta

    @classmethod
    def load(cls, path: Path = ALERT_RULES_FILE) -> AlertRules:
        """The alert settings of `path`; a missing or invalid file stops the gateway (ConfigError)."""
        try:
            document = read_document(path)
            rules = cls(
                certificate_notice_days=int(document["certificates"]["notice_days"]),
                calibration_notice_days=int(document["calibration"]["notice_days"]),
                incident_levels=tuple(str(level) for level in document["incidents"]["levels"]),
                index_drop_points=float(document["index_drop"]["points"]),
                index_drop_window=dt.timedelta(hours=float(document["index_drop"]["window_hours"])))
        # RuleDataError (an unreadable file, or not a mapping) is a ValueError too.
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"configuration error: alert rules {path} are invalid ({exc!r})") from None
        if min(rules.certificate_notice_days, rules.calibration_notice_days) < 0 \
                or not (math.isfinite(rules.index_drop_points) and rules.index_drop_points > 0) \
                or rules.index_drop_window <= dt.timedelta(0) \
                or not set(rules.incident_levels) <= {"I", "II", "III", "IV"}:
            raise ConfigError(f"configuration error: alert rules {path}: notice days >= 0, index drop points > 0, "
                              "a positive window and levels among I, II, III, IV")
        return rules


class IndexTrack:
    """Each office's index over the drop window, one sample a minute at most: enough to tell how
    far it fell from where it stood within the window."""

    SAMPLE_SECONDS = 60

    def __init__(self, window: dt.timedelta) -> None:
        self.window = window
        self._samples: dict[str, deque[tuple[dt.datetime, float]]] = {}

    def record(self, office_id: str, index: float | None, now: dt.datetime) -> None:
        """Samples an office's index (an office without one yet is skipped)."""
        if index is None:
            return
        samples = self._samples.setdefault(office_id, deque())
        if samples and (now - samples[-1][0]).total_seconds() < self.SAMPLE_SECONDS:
            # A minute keeps its highest value: a fall within the minute is still measured from it.
            samples[-1] = (samples[-1][0], max(samples[-1][1], index))
        else:
            samples.append((now, index))
        while len(samples) > 1 and samples[1][0] <= now - self.window:
            samples.popleft()

    def drop(self, office_id: str, current: float | None) -> float:
        """How far the index fell from the highest value it had within the window (0 when it did not)."""
        samples = self._samples.get(office_id)
        if not samples or current is None:
            return 0.0
        return max(0.0, max(value for _, value in samples) - current)


UNREGISTERED_PARTY = "未登记当事人"


def case_reference(party_name: str, registered: bool, received_at: dt.datetime | None) -> str:
    """A case as its office knows it: its market entity's registered name (public in the directory)
    and the day its lead came in; a party not in the directory stays unnamed (it may be a person)."""
    who = party_name.strip()[:40] if registered and party_name.strip() else UNREGISTERED_PARTY
    if received_at is None:
        return who
    return f"{who}，{shanghai_date(received_at).isoformat()} 收到线索"


def index_drop_alert(office_id: str, drop: float, rules: AlertRules, name: str) -> Alert | None:
    """The alert for an office whose index fell by the rules' points within the window; None otherwise."""
    if drop < rules.index_drop_points:
        return None
    hours = rules.index_drop_window.total_seconds() / 3600
    return Alert(INDEX_DROP, office_id, office_id, WARNING, f"{name} 标准化指数 {hours:g} 小时内下降 {drop:.1f} 分")
