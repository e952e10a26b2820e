"""The four groups every office runs (docs/domain.md, "The district")."""

from __future__ import annotations

GENERAL = "GENERAL"
SUPERVISION = "SUPERVISION"
CASE_HANDLING = "CASE_HANDLING"
COMPLAINT_HANDLING = "COMPLAINT_HANDLING"

GROUPS: dict[str, str] = {
    GENERAL: "综合组",
    SUPERVISION: "监管组",
    CASE_HANDLING: "办案组",
    COMPLAINT_HANDLING: "申投诉处理组",
}
