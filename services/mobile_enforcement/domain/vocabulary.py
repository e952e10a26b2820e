"""The words of mobile enforcement: object types, risk tiers, states and outcomes, as stored."""

from __future__ import annotations

# The 12 key supervised object types (docs/domain.md), with their Chinese labels.
CATEGORIES: dict[str, str] = {
    "HYPERMARKET": "大卖场",
    "SUPERMARKET": "超市",
    "CONVENIENCE_STORE": "便利店",
    "WET_MARKET": "农贸市场",
    "PHARMACY": "药店",
    "REAL_ESTATE_AGENCY": "房地产经纪",
    "OPTICAL_SHOP": "眼镜销售",
    "BEAUTY_SALON": "美容美发",
    "CATERING": "餐饮服务",
    "PRIMARY_MEDICAL_INSTITUTION": "一级医疗机构",
    "FOOD_PRODUCER": "食品生产企业",
    "PROPERTY_MANAGEMENT": "物业公司",
}

# Risk tiers, lowest first, with the grades of food-business risk grading (A-D) they stand for.
RISK_LEVELS = ("LOW", "MEDIUM", "HIGH", "VERY_HIGH")
RISK_LABELS: dict[str, str] = {"LOW": "低风险", "MEDIUM": "中风险", "HIGH": "较高风险", "VERY_HIGH": "高风险"}

# What a failed checklist item implies, in rising severity; an inspection's outcome is at least
# the most severe implication of its failed items.
ADVICE, RECTIFICATION, CASE_LEAD = "ADVICE", "RECTIFICATION", "CASE_LEAD"
FAILURE_OUTCOMES = (ADVICE, RECTIFICATION, CASE_LEAD)

# Inspections.
SPOT_CHECK, ROUTINE, RAPID_TEST_FOLLOW_UP, COMPLAINT = "SPOT_CHECK", "ROUTINE", "RAPID_TEST_FOLLOW_UP", "COMPLAINT"
INSPECTION_KINDS = (SPOT_CHECK, ROUTINE, RAPID_TEST_FOLLOW_UP, COMPLAINT)
PLANNED, IN_PROGRESS, COMPLETED = "PLANNED", "IN_PROGRESS", "COMPLETED"
PASS, FAIL, NOT_APPLICABLE = "PASS", "FAIL", "NOT_APPLICABLE"
COMPLIANT, ADVISED, RECTIFICATION_ORDERED, LEAD_OPENED = "COMPLIANT", "ADVISED", "RECTIFICATION_ORDERED", "CASE_LEAD"
# Outcomes in rising severity, and the outcome each failure implication calls for.
OUTCOME_SEVERITY = (COMPLIANT, ADVISED, RECTIFICATION_ORDERED, LEAD_OPENED)
OUTCOME_FOR_FAILURE = {ADVICE: ADVISED, RECTIFICATION: RECTIFICATION_ORDERED, CASE_LEAD: LEAD_OPENED}

# Cases.
LEAD, NOT_FILED, FILED, DECIDED, CLOSED = "LEAD", "NOT_FILED", "FILED", "DECIDED", "CLOSED"
SOURCE_INSPECTION, SOURCE_REPORT, SOURCE_RAPID_TEST, SOURCE_REFERRAL = "INSPECTION", "REPORT", "RAPID_TEST", "REFERRAL"
LEAD_SOURCES = (SOURCE_INSPECTION, SOURCE_REPORT, SOURCE_RAPID_TEST, SOURCE_REFERRAL)
TESTING, SUSPENSION, HEARING, NOTICE = "TESTING", "SUSPENSION", "HEARING", "NOTICE"
PAUSE_REASONS = (TESTING, SUSPENSION, HEARING, NOTICE)
INDIVIDUAL, ORGANISATION = "INDIVIDUAL", "ORGANISATION"
NO_PENALTY, WARNING, FINE = "NONE", "WARNING", "FINE"
