// 大屏 drill-down: an office's indicators with the explanation of every point lost, and its trend.
// Loaded before app.js, whose state and helpers (state, api, el, fmt, ...) it uses when called.
"use strict";

let drillTimer = null;

async function openDrill(officeId) {
  state.openOffice = officeId;
  document.getElementById("drill").hidden = false;
  document.getElementById("drill-title").textContent = state.offices.get(officeId)?.name || officeId;
  document.getElementById("drill-body").replaceChildren(el("p", { class: "empty", text: "加载中…" }));
  await refreshDrill(true);
}

function refreshDrill(now = false) {
  clearTimeout(drillTimer);
  return new Promise((resolve) => {
    drillTimer = setTimeout(async () => { await loadDrill(); resolve(); }, now ? 0 : 300);
  });
}

async function loadDrill() {
  const officeId = state.openOffice;
  if (!officeId) return;
  const body = document.getElementById("drill-body");
  let detail;
  try {
    detail = await api(`/api/v1/offices/${encodeURIComponent(officeId)}`);
  } catch (error) {
    body.replaceChildren(el("p", { class: "empty",
      text: error.status === 403 ? "无权查看该所明细（仅可查看本所）" : `加载失败：${error.message}` }));
    return;
  }
  if (state.openOffice !== officeId) return;
  const rows = detail.indicators.map((i) => el("tr", {
    class: i.status === "missing" ? "missing" : (i.points_lost > 0 ? "lost" : ""), "data-indicator": i.key },
  el("td", { text: i.name }),
  el("td", { class: "num", text: i.status === "missing" ? "—" : percentOrNumber(i.value) }),
  el("td", { class: "num", text: percentOrNumber(i.target) }),
  el("td", { class: "num", text: `${fmt(i.points, 2)} / ${i.weight}` }),
  el("td", { class: "num loss", text: i.points_lost > 0 ? `-${fmt(i.points_lost, 2)}` : "0" }),
  el("td", { class: "num loss", text: i.index_points_lost > 0 ? `-${fmt(i.index_points_lost, 2)}` : "0" }),
  el("td", { text: i.explanation_zh })));
  const dims = detail.dimensions.map((d) => el("div", { class: "dimension" },
    el("span", { text: d.name }),
    el("div", { class: "bar" }, el("span", { style: `width:${d.score === null ? 0 : d.score}%` })),
    el("span", { class: "score", text: fmt(d.score) })));
  const figures = detail.unscored.map((f) => el("li", { text: `${f.name}：${percentOrNumber(f.value)}` }));
  const alerts = detail.alerts.map((a) => el("li", { class: a.severity, text: `[${a.kind_name}] ${a.title}` }));
  body.replaceChildren(
    el("div", { class: "drill-summary" },
      el("div", {}, el("div", { class: "subtitle", text: "标准化指数" }),
        el("div", { class: "big-number", "data-testid": "drill-index", text: fmt(detail.index) })),
      el("div", {}, el("div", { class: "subtitle", text: "排名" }), el("div", { class: "big-number", text: detail.rank || "—" })),
      el("div", { class: "dimensions", style: "flex:1" }, ...dims)),
    el("h3", { text: "指标得分与扣分说明" }),
    el("table", {},
      el("thead", {}, el("tr", {}, ...["指标", "数值", "目标", "得分/满分", "维度扣分", "指数影响", "说明"].map((h) => el("th", { text: h })))),
      el("tbody", {}, ...rows)),
    el("h3", { text: "其他数据" }), el("ul", { class: "feed" }, ...(figures.length ? figures : [el("li", { class: "empty", text: "无" })])),
    el("h3", { text: "本所预警" }), el("ul", { class: "alerts" }, ...(alerts.length ? alerts : [el("li", { class: "empty", text: "暂无预警" })])),
    el("h3", { text: "本所指数趋势（24小时）" }), el("div", { id: "office-trend", class: "chart office-trend" }));
  appendStage(officeId, body); // stages.js: the office's stage and what it lacks, loaded beside the trend
  try {
    const trend = await api(`/api/v1/indicators/index/history?office_id=${encodeURIComponent(officeId)}&resolution=minute`);
    const node = document.getElementById("office-trend");
    if (node) {
      if (charts["office-trend"]) charts["office-trend"].dispose();
      charts["office-trend"] = echarts.init(node, null, { renderer: "svg" });
      const points = trend.points.filter((p) => p.value !== null).map((p) => [p.time, p.value]);
      if (detail.index !== null) points.push([new Date().toISOString(), detail.index]);
      const fontSize = rem(0.75); // the page's text size, which follows the screen's
      charts["office-trend"].setOption({
        grid: { left: 4, right: fontSize, top: fontSize, bottom: fontSize, containLabel: true }, tooltip: { trigger: "axis" },
        xAxis: { type: "time", axisLabel: { color: "#8fb0d9", fontSize, hideOverlap: true } },
        yAxis: { type: "value", max: 100, axisLabel: { color: "#8fb0d9", fontSize },
          splitLine: { lineStyle: { color: "rgba(143,176,217,0.15)" } } },
        series: [{ type: "line", step: "end", showSymbol: false, data: points, lineStyle: { color: "#2ed47a" } }],
      });
    }
  } catch (error) {
    // The trend is a detail: the breakdown above stands without it.
  }
}

function closeDrill() {
  state.openOffice = null;
  document.getElementById("drill").hidden = true;
}
