"""The fixed words of facilities' domain, shared by the use cases and the indicators."""

from __future__ import annotations

# 四统一 (docs/domain.md, "Facilities standard"): the four things every office is unified on.
ASPECTS: dict[str, str] = {
    "FUNCTION": "统一使用功能",
    "EQUIPMENT": "统一装备配置",
    "DISCLOSURE": "统一政务公开",
    "SIGNAGE": "统一标识标牌",
}

# Equipment status.
IN_SERVICE, UNDER_REPAIR, RETIRED = "IN_SERVICE", "UNDER_REPAIR", "RETIRED"
STATUSES = (IN_SERVICE, UNDER_REPAIR, RETIRED)

# Rapid-test results and states.
NEGATIVE, POSITIVE = "NEGATIVE", "POSITIVE"
POSITIVE_PENDING, RETEST_REQUESTED = "POSITIVE_PENDING", "RETEST_REQUESTED"
CONFIRMED_POSITIVE, CLEARED_ON_RETEST = "CONFIRMED_POSITIVE", "CLEARED_ON_RETEST"
OPEN_POSITIVE_STATES = (POSITIVE_PENDING, RETEST_REQUESTED)
RESOLVED_POSITIVE_STATES = (CONFIRMED_POSITIVE, CLEARED_ON_RETEST)
PASSED_STATES = (NEGATIVE, CLEARED_ON_RETEST)
