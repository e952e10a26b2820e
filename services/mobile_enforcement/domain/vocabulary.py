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

# The checklist of an entity of no key object type (most of the market: a petrol station, an
# industrial-product seller, a lift user); a checklist's category only, never an entity's.
GENERAL = "GENERAL"
CHECKLIST_CATEGORIES: dict[str, str] = {**CATEGORIES, GENERAL: "通用"}

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

# Cases: a lead, then the ordinary procedure's states in order (the proto's CaseState names).
LEAD, NOT_FILED, FILED, DECIDED, CLOSED = "LEAD", "NOT_FILED", "FILED", "DECIDED", "CLOSED"
INVESTIGATED, LEGAL_REVIEW, NOTIFIED = "INVESTIGATED", "LEGAL_REVIEW", "NOTIFIED"
# The state of a case whose party asked for a hearing (the pause reason HEARING has the same name).
IN_HEARING = "HEARING"
DELIVERED, EXECUTED = "DELIVERED", "EXECUTED"
CASE_STATES = (LEAD, NOT_FILED, FILED, INVESTIGATED, LEGAL_REVIEW, NOTIFIED, IN_HEARING, DECIDED, DELIVERED,
               EXECUTED, CLOSED)
# The filed case's states before the decision: its decision (closing) clock runs in all but
# IN_HEARING, where it stands still.
UNDECIDED_STATES = (FILED, INVESTIGATED, LEGAL_REVIEW, NOTIFIED, IN_HEARING)
CLOSING_CLOCK_STATES = (FILED, INVESTIGATED, LEGAL_REVIEW, NOTIFIED)
CASE_STATE_LABELS: dict[str, str] = {
    LEAD: "案源", NOT_FILED: "不予立案", FILED: "立案调查", INVESTIGATED: "调查终结", LEGAL_REVIEW: "法制审核",
    NOTIFIED: "已告知", IN_HEARING: "听证", DECIDED: "已作出处罚决定", DELIVERED: "已送达", EXECUTED: "执行完毕",
    CLOSED: "结案",
}
SOURCE_INSPECTION, SOURCE_REPORT, SOURCE_RAPID_TEST, SOURCE_REFERRAL = "INSPECTION", "REPORT", "RAPID_TEST", "REFERRAL"
LEAD_SOURCES = (SOURCE_INSPECTION, SOURCE_REPORT, SOURCE_RAPID_TEST, SOURCE_REFERRAL)
TESTING, SUSPENSION, HEARING, NOTICE = "TESTING", "SUSPENSION", "HEARING", "NOTICE"
PAUSE_REASONS = (TESTING, SUSPENSION, HEARING, NOTICE)
INDIVIDUAL, ORGANISATION = "INDIVIDUAL", "ORGANISATION"

# Penalties (行政处罚法 art. 9), the proto's PenaltyKind names.
NO_PENALTY, WARNING, FINE = "NONE", "WARNING", "FINE"
PUBLIC_CRITICISM, CONFISCATE_GAINS, CONFISCATE_GOODS = "PUBLIC_CRITICISM", "CONFISCATE_GAINS", "CONFISCATE_GOODS"
SUSPEND_PERMIT, REVOKE_LICENCE = "SUSPEND_PERMIT", "REVOKE_LICENCE"
RESTRICT_BUSINESS, SUSPEND_BUSINESS, ORDER_CLOSURE = "RESTRICT_BUSINESS", "SUSPEND_BUSINESS", "ORDER_CLOSURE"
RESTRICT_PRACTICE = "RESTRICT_PRACTICE"
# Imposed by the public security organs only: a market regulator's decision never carries it.
ADMINISTRATIVE_DETENTION = "ADMINISTRATIVE_DETENTION"
# What a market regulator may decide, in the order of the law (NONE: decided not to penalise).
PENALTY_KINDS = (NO_PENALTY, WARNING, FINE, PUBLIC_CRITICISM, CONFISCATE_GAINS, CONFISCATE_GOODS, SUSPEND_PERMIT,
                 REVOKE_LICENCE, RESTRICT_BUSINESS, SUSPEND_BUSINESS, ORDER_CLOSURE, RESTRICT_PRACTICE)
PENALTY_LABELS: dict[str, str] = {
    NO_PENALTY: "不予行政处罚", WARNING: "警告", FINE: "罚款", PUBLIC_CRITICISM: "通报批评",
    CONFISCATE_GAINS: "没收违法所得", CONFISCATE_GOODS: "没收非法财物", SUSPEND_PERMIT: "暂扣许可证件、降低资质等级",
    REVOKE_LICENCE: "吊销许可证件", RESTRICT_BUSINESS: "限制开展生产经营活动", SUSPEND_BUSINESS: "责令停产停业",
    ORDER_CLOSURE: "责令关闭", RESTRICT_PRACTICE: "限制从业", ADMINISTRATIVE_DETENTION: "行政拘留",
}
# Which sanctions carry an amount (required / allowed: the goods' assessed value), a detail (what is
# confiscated, suspended or revoked) and a term in days.
AMOUNT_REQUIRED = (FINE, CONFISCATE_GAINS)
AMOUNT_ALLOWED = (FINE, CONFISCATE_GAINS, CONFISCATE_GOODS)
DETAIL_REQUIRED = (CONFISCATE_GOODS, SUSPEND_PERMIT, REVOKE_LICENCE)
DURATION_ALLOWED = (SUSPEND_PERMIT, RESTRICT_BUSINESS, SUSPEND_BUSINESS, RESTRICT_PRACTICE)
# The simplified procedure on the spot (当场处罚) imposes these only.
SIMPLIFIED_KINDS = (WARNING, FINE)

# How a decision reaches the party (送达方式), the proto's DeliveryMethod names.
DIRECT, LEFT_AT_RESIDENCE, MAIL, ELECTRONIC, PUBLIC_NOTICE = (
    "DIRECT", "LEFT_AT_RESIDENCE", "MAIL", "ELECTRONIC", "PUBLIC_NOTICE")
DELIVERY_METHODS = (DIRECT, LEFT_AT_RESIDENCE, MAIL, ELECTRONIC, PUBLIC_NOTICE)
DELIVERY_METHOD_LABELS: dict[str, str] = {
    DIRECT: "直接送达", LEFT_AT_RESIDENCE: "留置送达", MAIL: "邮寄送达", ELECTRONIC: "电子送达",
    PUBLIC_NOTICE: "公告送达",
}
