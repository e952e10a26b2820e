"""The services' refusals of a field action, as inspectors read them: Chinese first, the service's own
English kept after it (the words the operators' logs and the services' documentation use).

Only messages known here are translated; any other keeps its English after a general Chinese
phrase, so that nothing the service said is lost."""

from __future__ import annotations

import re

from services.common.errors import FieldViolation

# (field pattern, description pattern, Chinese). The first match wins; {0}, {1}... are the
# description's groups.
_KNOWN: tuple[tuple[str, str, str], ...] = (
    (r"location\.point", r"where the inspection takes place is required", "需要检查地点的定位"),
    (r"location\.point\.latitude", r"between -90 and 90", "纬度须在 -90 到 90 之间"),
    (r"location\.point\.longitude", r"between -180 and 180", "经度须在 -180 到 180 之间"),
    (r"location\.address", r"at most (\d+) characters", "地址不能超过 {0} 个字"),
    (r"officer_ids", r".*at least (\d+).*", "至少需要 {0} 名执法人员"),
    (r"officer_ids", r".*certificate.*", "执法人员须持有有效的执法证"),
    (r"officer_ids", r".*conflict.*", "执法人员与检查对象有利害关系，须回避"),
    (r"officer_ids", r"the draw assigned officer (\S+).*", "抽查计划指派的执法人员 {0} 必须参加"),
    (r"officer_ids", r".*(?:another office|not of the office|office).*", "执法人员须属于本所"),
    (r"findings", r"give at least one item's result", "请至少填写一项检查结果"),
    (r"findings.*item_code", r".*", "检查项不在本次检查表中"),
    (r"findings.*evidence_refs", r".*", "引用的证据未附在本次检查中"),
    (r"findings.*result", r".*", "检查结果须为 符合、不符合 或 不适用"),
    (r"note", r"at most (\d+) characters", "备注不能超过 {0} 个字"),
    (r"summary", r"at most (\d+) characters", "检查小结不能超过 {0} 个字"),
    (r"outcome", r"must be one of .*", "检查结论不在可选范围内"),
    (r"outcome", r".*", "检查结论轻于不符合项所要求的处理"),
    (r"rectification_due", r"required when rectification is ordered", "责令整改时须填写整改期限"),
    (r"rectification_due", r"only given when rectification is ordered", "只有责令整改时才填写整改期限"),
    (r"rectification_due", r"must be after today.*", "整改期限须晚于今天"),
    (r"rectification_due", r"more than a year ahead", "整改期限不能超过一年"),
    (r"request_id", r"at most (\d+) characters", "request_id 不能超过 {0} 个字符"),
    (r"evidence\.capture_time", r".*", "拍摄时间不能晚于上传时间，也不能早于检查开始"),
    (r"evidence\.item_code", r".*", "证据所属的检查项不在本次检查表中"),
    (r"evidence\.kind", r".*", "此时不能附加这类证据"),
    (r"evidence\.position.*", r".*", "定位不正确"),
    (r"evidence\.sha256", r".*", "SHA-256 不正确"),
    (r"signature_png", r".*", "签名图片须为不超过 256 KB 的 PNG"),
    (r"signer_name", r".*", "请填写签名人姓名"),
    (r"sign_time", r".*", "签名时间不能晚于现在，也不能早于笔录出具时间"),
    (r"document_id", r".*", "只能签署尚未签署的现场检查笔录"),
    (r"expected_version", r".*", "版本号不正确"),
)
_COMPILED = tuple((re.compile(f), re.compile(d, re.DOTALL), zh) for f, d, zh in _KNOWN)


def translate(field: str, description: str) -> str:
    """The violation's description, Chinese first when its message is known: "中文 / English"."""
    for field_pattern, description_pattern, chinese in _COMPILED:
        if field_pattern.fullmatch(field):
            match = description_pattern.fullmatch(description)
            if match:
                return f"{chinese.format(*match.groups())} / {description}"
    return f"请检查此项 / {description}"


def translated(violations: list[tuple[str, str]]) -> list[FieldViolation]:
    """Every (field, description) of a refusal with its description translated."""
    return [FieldViolation(field, translate(field, description)) for field, description in violations]
