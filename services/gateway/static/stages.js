// 大屏 drill-down: the office's stage of standardization (规范 → 推进 → 提升), judged by assessment from
// the closed periods, and what it still lacks for the next stage. Uses app.js's helpers (api, el, state)
// when drill.js calls it, after the drill-down's body is built.
"use strict";

async function appendStage(officeId, body) {
  const title = el("h3", { text: "标准化阶段（规范 → 推进 → 提升）" });
  const section = el("div", { class: "stage", "data-testid": "drill-stage" }, title,
    el("p", { class: "empty", text: "加载中…" }));
  body.append(section);
  let answer;
  try {
    answer = await api(`/api/v1/stages?office_id=${encodeURIComponent(officeId)}`);
  } catch (error) {
    section.replaceChildren(title, el("p", { class: "empty",
      text: error.status === 403 ? "无权查看该所阶段（仅可查看本所）" : `阶段暂不可用：${error.message}` }));
    return;
  }
  if (state.openOffice !== officeId) return;
  const office = answer.offices[0];
  if (!office) {
    section.replaceChildren(title, el("p", { class: "empty", text: "考核服务尚不知道该所" }));
    return;
  }
  const current = office.stage ? office.stage_name : "尚未达到规范阶段";
  const next = office.next_stage ? `下一阶段：${office.next_stage_name}` : "已达到最高阶段";
  const periods = office.periods.length ? `依据已结束的考核期：${office.periods.join("、")}` : "尚无已结束的考核期";
  const lacks = office.lacks.map((lack) => el("li", { class: "warning", "data-target": lack.target,
    text: lack.description }));
  section.replaceChildren(title,
    el("div", { class: "stage-summary" },
      el("span", { class: `stage-badge ${office.stage ? "reached" : "none"}`, "data-testid": "stage-name",
        text: current }),
      el("span", { class: "stage-next", text: next })),
    el("p", { class: "subtitle", text: periods }),
    ...(office.next_stage ? [el("ul", { class: "alerts stage-lacks" },
      ...(lacks.length ? lacks : [el("li", { class: "empty", text: "无" })]))] : []));
}
