// 今日任务: the acting officer's open inspections (earliest due first) with what they need on the
// way, the office's open supervision tasks, and a search of the office's entities that also works
// offline on the list kept on the phone.
import { read } from "./api.js";
import { remember } from "./queue.js";
import { dayText, h, show, todayText, announce } from "./dom.js";
import { bare, categoryLabel, kindLabel, outcomeLabel, riskLabel, stateLabel } from "./labels.js";

/** One line that says what kind of entity it is and how risky. */
function entityMeta(entity) {
  const risk = bare(entity.risk_level, "RISK_LEVEL_");
  return h("p", { class: "meta" },
    h("span", { class: "badge" }, categoryLabel(entity.category)),
    h("span", { class: risk === "HIGH" || risk === "VERY_HIGH" ? "badge high" : "badge" }, riskLabel(entity.risk_level)),
    entity.key_supervision ? h("span", { class: "badge high" }, "重点监管") : null);
}

function assignmentCard(assignment) {
  const { inspection, entity = {} } = assignment;
  const started = bare(inspection.state, "INSPECTION_STATE_") === "IN_PROGRESS";
  const last = assignment.last_outcome && bare(assignment.last_outcome, "INSPECTION_OUTCOME_") !== "UNSPECIFIED"
    ? `上次检查：${outcomeLabel(assignment.last_outcome)}（${(assignment.last_complete_time || "").slice(0, 10)}）`
    : "上次检查：无记录";
  return h("li", { class: "card" },
    h("h3", {}, entity.name || inspection.entity_id),
    h("p", { class: "meta" }, entity.address || ""),
    entityMeta(entity),
    h("p", { class: "meta" }, `${kindLabel(inspection.kind)} · ${stateLabel(inspection.state)} · 截止 ${dayText(inspection.due_date) || "未定"}`),
    h("p", { class: "meta" }, last),
    h("a", { class: "button primary", href: `#/inspection/${encodeURIComponent(inspection.id)}`,
      "aria-label": `${started ? "继续检查" : "开始检查"}：${entity.name || inspection.entity_id}` }, started ? "继续检查" : "开始检查"));
}

function taskCard(task) {
  return h("li", { class: "card" },
    h("h3", {}, task.title || task.name || task.id),
    task.description ? h("p", { class: "meta" }, task.description) : null,
    h("p", { class: "meta" }, `截止 ${dayText(task.due_date) || (task.due_time || "").slice(0, 10) || "未定"}`));
}

/** The office's entities matching `term`: from the gateway, or from the list kept on the phone. */
async function searchEntities(term) {
  try {
    const answer = await read("entities", { query: { search: term } });
    return { entities: answer.entities || [], offline: false };
  } catch (error) {
    if (!error.retryable) throw error;
    const kept = await read("entities");
    const lowered = term.toLowerCase();
    return { offline: true, entities: (kept.entities || []).filter((entity) =>
      (entity.name || "").toLowerCase().includes(lowered) || (entity.uscc || "").toUpperCase().startsWith(term.toUpperCase())) };
  }
}

function searchForm() {
  const input = h("input", { type: "search", id: "entity-search", name: "search", autocomplete: "off", enterkeyhint: "search" });
  const results = h("div", { id: "entity-results", "aria-live": "polite" });
  const form = h("form", { role: "search", "aria-label": "搜索市场主体", onsubmit: async (event) => {
    event.preventDefault();
    const term = input.value.trim();
    if (!term) return;
    results.replaceChildren(h("p", { class: "hint" }, "正在搜索…"));
    try {
      const found = await searchEntities(term);
      results.replaceChildren(
        h("p", { class: "hint" }, `${found.offline ? "离线：在本机保存的名录中" : ""}找到 ${found.entities.length} 个市场主体`),
        h("ul", { class: "plain" }, found.entities.map((entity) => h("li", { class: "card" },
          h("h3", {}, entity.name), h("p", { class: "meta" }, `统一社会信用代码 ${entity.uscc}`),
          h("p", { class: "meta" }, entity.address || ""), entityMeta(entity)))));
    } catch (error) {
      results.replaceChildren(h("p", { class: "error", role: "alert" }, error.message));
    }
  } },
  h("label", { for: "entity-search" }, "搜索本所市场主体（名称或统一社会信用代码）"),
  input, h("button", { type: "submit", class: "primary" }, "搜索"));
  return [form, results];
}

/** Shows today's work. */
export async function workView() {
  let work;
  try {
    work = await read("work");
  } catch (error) {
    show(h("h2", {}, "今日任务"), h("p", { class: "error", role: "alert" }, `无法载入任务：${error.message}`));
    return;
  }
  read("entities").catch(() => {});  // the office's directory kept for searching offline
  read("checklists").catch(() => {});
  read("officers").catch(() => {});
  const assignments = work.assignments || [];
  // Their versions are what the first action taken offline will expect.
  await Promise.all(assignments.map((assignment) => remember(assignment.inspection)));
  const tasks = work.tasks || [];
  show(
    h("h2", {}, `今日任务 · ${todayText()}`),
    h("h3", {}, `待检查（${assignments.length}）`),
    assignments.length ? h("ul", { class: "plain", id: "assignments" }, assignments.map(assignmentCard))
      : h("p", { class: "hint" }, "今天没有待检查的对象。"),
    h("h3", {}, `督办任务（${tasks.length}）`),
    tasks.length ? h("ul", { class: "plain" }, tasks.map(taskCard)) : h("p", { class: "hint" }, "没有进行中的督办任务。"),
    h("h3", {}, "查找市场主体"),
    ...searchForm());
  announce(`今日任务：${assignments.length} 项待检查`);
}

/** The assignment of an inspection from the work list (kept offline), or null. */
export async function assignmentOf(inspectionId) {
  try {
    const work = await read("work");
    return (work.assignments || []).find((a) => a.inspection.id === inspectionId) || null;
  } catch {
    return null;
  }
}
