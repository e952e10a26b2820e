"""Time as the domain sees it: instants in UTC, statutory dates in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai_date(instant: dt.datetime) -> dt.date:
    return instant.astimezone(SHANGHAI).date()


def shanghai_today() -> dt.date:
    return shanghai_date(dt.datetime.now(dt.UTC))
