// Chinese labels of the contract's enum names.

const CATEGORIES = {
  HYPERMARKET: "大卖场", SUPERMARKET: "超市", CONVENIENCE_STORE: "便利店", WET_MARKET: "农贸市场",
  PHARMACY: "药店", REAL_ESTATE_AGENCY: "房地产经纪", OPTICAL_SHOP: "眼镜销售", BEAUTY_SALON: "美容美发",
  CATERING: "餐饮服务", PRIMARY_MEDICAL_INSTITUTION: "一级医疗机构", FOOD_PRODUCER: "食品生产企业",
  PROPERTY_MANAGEMENT: "物业公司", GENERAL: "通用", UNSPECIFIED: "一般市场主体",
};
const RISKS = { LOW: "低风险", MEDIUM: "中风险", HIGH: "高风险", VERY_HIGH: "极高风险", UNSPECIFIED: "未分级" };
export const OUTCOMES = { COMPLIANT: "合规", ADVISED: "提醒告诫", RECTIFICATION_ORDERED: "责令整改", CASE_LEAD: "立案线索" };
export const RESULTS = { PASS: "合格", FAIL: "不合格", NOT_APPLICABLE: "不适用" };
const STATES = { PLANNED: "待检查", IN_PROGRESS: "检查中", COMPLETED: "已完成" };
const KINDS = { SPOT_CHECK: "双随机抽查", ROUTINE: "日常检查", RAPID_TEST_FOLLOW_UP: "快检阳性跟进", COMPLAINT: "投诉举报核查" };
// The outcome each failure of a checklist item implies, in rising order.
const FAILURE_RANK = { ADVICE: 1, RECTIFICATION: 2, CASE_LEAD: 3 };
const OUTCOME_OF_RANK = ["COMPLIANT", "ADVISED", "RECTIFICATION_ORDERED", "CASE_LEAD"];

/** The enum name without its prefix: "ENTITY_CATEGORY_CATERING" → "CATERING". */
export function bare(name, prefix) {
  if (!name) return "UNSPECIFIED";
  return String(name).startsWith(prefix) ? String(name).slice(prefix.length) : String(name);
}

export const categoryLabel = (name) => CATEGORIES[bare(name, "ENTITY_CATEGORY_")] || "一般市场主体";
export const riskLabel = (name) => RISKS[bare(name, "RISK_LEVEL_")] || "未分级";
export const outcomeLabel = (name) => OUTCOMES[bare(name, "INSPECTION_OUTCOME_")] || "";
export const resultLabel = (name) => RESULTS[bare(name, "ITEM_RESULT_")] || "";
export const stateLabel = (name) => STATES[bare(name, "INSPECTION_STATE_")] || "";
export const kindLabel = (name) => KINDS[bare(name, "INSPECTION_KIND_")] || "检查";

/** The outcome the failed items imply (compliant when none failed). */
export function impliedOutcome(checklist, findings) {
  let rank = 0;
  for (const finding of findings) {
    if (bare(finding.result, "ITEM_RESULT_") !== "FAIL") continue;
    const item = (checklist?.items || []).find((candidate) => candidate.code === finding.item_code);
    rank = Math.max(rank, FAILURE_RANK[bare(item?.failure_outcome, "FAILURE_OUTCOME_")] || 1);
  }
  return OUTCOME_OF_RANK[rank];
}
