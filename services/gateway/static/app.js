// 大屏: the live standardization index of the district's offices. Everything comes from the
// gateway's own API: a snapshot and then every change through the live stream (EventSource, which
// reconnects by itself and resumes after the last event it received), details on demand.
"use strict";

const state = {
  token: "",
  lastEventId: "",
  session: null,
  scheme: null,
  offices: new Map(),
  district: null,
  alerts: new Map(),
  feed: [],
  sources: new Map(),
  openOffice: null,
  trend: [],
};
const charts = {};
const RECONNECT_MILLISECONDS = 3000;
const READINESS_POLL_MILLISECONDS = 2000;
const DIMENSION_COLORS = ["#38c6ff", "#2ed47a", "#ffb020", "#b38cff"];
// The page runs for days on a wall: what it keeps grows no further than what it shows. The feed as
// long as the gateway's own (its snapshot sends at most that many), the trend one day of minutes.
const FEED_LIMIT = 50;
const TREND_SPAN_MILLISECONDS = 24 * 60 * 60 * 1000;
const TREND_LIMIT = 24 * 60 + 60;
const MINUTE_MILLISECONDS = 60 * 1000;
// Updates move the figures from where they stand; only the first drawing of a chart grows from zero.
const UPDATE_ANIMATION = { animationDurationUpdate: 400, animationEasingUpdate: "cubicOut" };

// ------------------------------------------------------------------ access

// The token the page holds, re-read at every use: a sign-in in another tab of the session (or the
// address opened again with a new #token=) replaces it without reloading this page.
function readToken() {
  const match = location.hash.match(/token=([^&]+)/);
  if (match) {
    sessionStorage.setItem("gatewayToken", decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname);
  }
  state.token = sessionStorage.getItem("gatewayToken") || "";
  return state.token;
}

// Whether a JWT's exp has passed (the signature is the server's business; the page only avoids
// reconnecting in a loop with a token the server will refuse).
function tokenExpired(token) {
  if (!token) return false;
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload + "=".repeat((4 - (payload.length % 4)) % 4)));
    return typeof claims.exp === "number" && claims.exp * 1000 <= Date.now();
  } catch (error) {
    return false;
  }
}

function askToSignIn() {
  const link = document.getElementById("link");
  link.textContent = "已断开";
  link.className = "link offline";
  document.getElementById("who").textContent = "登录已过期";
  document.getElementById("signin").hidden = false;
}

function authHeaders() {
  const token = readToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function api(path) {
  const response = await fetch(path, { headers: authHeaders() });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error((body.error && body.error.message) || response.statusText);
    error.status = response.status;
    throw error;
  }
  return body;
}

// ------------------------------------------------------------------ formatting

function fmt(value, digits = 1) {
  return value === null || value === undefined ? "—" : Number(value).toFixed(digits);
}

function percentOrNumber(value) {
  if (value === null || value === undefined) return "—";
  return value >= 0 && value <= 1 ? `${(value * 100).toFixed(1)}%` : `${Number(value).toFixed(2).replace(/\.00$/, "")}`;
}

function shortName(name) {
  return String(name || "").replace(/市场监督管理所$/, "").replace(/市场监管所$/, "") || name;
}

function band(index) {
  if (index === null || index === undefined) return "none";
  if (index >= 90) return "good";
  if (index >= 80) return "fair";
  if (index >= 60) return "warn";
  return "bad";
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "style") node.style.cssText = value; // through the CSSOM, which the CSP allows
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function clockTick() {
  const now = new Date();
  document.getElementById("clock").textContent = now.toLocaleString("zh-CN", { hour12: false });
}

function timeOf(iso) {
  return iso ? new Date(iso).toLocaleTimeString("zh-CN", { hour12: false }) : "";
}

// ------------------------------------------------------------------ rendering

// A chart follows its box: the panels share the screen, and a box changes size when the window does
// and when the content of its neighbours arrives (the tiles, the source list).
const chartBoxes = new ResizeObserver(() => onResize());

function chart(id) {
  if (!charts[id]) {
    const node = document.getElementById(id);
    charts[id] = echarts.init(node, null, { renderer: "svg" });
    chartBoxes.observe(node);
  }
  return charts[id];
}

// The root font size in pixels (app.css scales it with the viewport): chart text follows the page's.
function rem(factor = 1) {
  return Math.round(parseFloat(getComputedStyle(document.documentElement).fontSize) * factor);
}

// The radar's radius that leaves room for its axis names on every side: CJK glyphs are about one
// em wide, the names left and right of the radar need their whole width, those above and below a line.
function radarRadius(node, names, fontSize, nameGap) {
  const widest = Math.max(0, ...names.map((name) => String(name).length)) * fontSize;
  const across = node.clientWidth / 2 - widest - nameGap - 4;
  const down = node.clientHeight / 2 - fontSize * 1.4 - nameGap - 4;
  return Math.max(8, Math.floor(Math.min(across, down)));
}

function renderScheme() {
  if (!state.scheme) return;
  const origin = state.scheme.origin === "assessment" ? "" : "（初始方案）";
  document.getElementById("scheme").textContent =
    `评价方案 第 ${state.scheme.version} 版${origin}，${state.scheme.effective_from} 起施行`;
}

function renderDistrict() {
  const district = state.district;
  if (!district) return;
  document.getElementById("district-index").textContent = fmt(district.index);
  const ring = rem(0.8);
  chart("district-gauge").setOption({
    ...UPDATE_ANIMATION,
    series: [{
      id: "district", type: "gauge", min: 0, max: 100, radius: "92%", center: ["50%", "55%"],
      progress: { show: true, width: ring },
      axisLine: { lineStyle: { width: ring, color: [[1, "rgba(255,255,255,0.1)"]] } },
      axisTick: { show: false }, splitLine: { distance: 0, length: rem(0.5), lineStyle: { color: "#8fb0d9" } },
      axisLabel: { color: "#8fb0d9", fontSize: rem(0.75), distance: ring + rem(0.4) }, pointer: { width: rem(0.3) },
      detail: { show: false }, data: [{ value: district.index === null ? 0 : Number(district.index.toFixed(1)) }],
      itemStyle: { color: "#38c6ff" },
    }],
  });
  const holder = document.getElementById("dimensions");
  holder.replaceChildren(...district.dimensions.map((d) => el("div", { class: "dimension" },
    el("span", { text: d.name }),
    el("div", { class: "bar" }, el("span", { style: `width:${d.score === null ? 0 : d.score}%` })),
    el("span", { class: "score", text: fmt(d.score) }))));
  const names = district.dimensions.map((d) => d.name);
  const fontSize = rem(0.85);
  const nameGap = rem(0.5);
  chart("dimension-radar").setOption({
    ...UPDATE_ANIMATION,
    radar: {
      indicator: names.map((name) => ({ name, max: 100 })),
      radius: radarRadius(document.getElementById("dimension-radar"), names, fontSize, nameGap), nameGap,
      axisName: { color: "#8fb0d9", fontSize },
      splitLine: { lineStyle: { color: "rgba(143,176,217,0.3)" } }, splitArea: { show: false },
    },
    series: [{
      id: "district", type: "radar", areaStyle: { color: "rgba(56,198,255,0.3)" }, lineStyle: { color: "#38c6ff" },
      data: [{ value: district.dimensions.map((d) => (d.score === null ? 0 : d.score)), name: "区级" }],
    }],
  });
}

function renderSources() {
  const list = document.getElementById("sources");
  const names = {
    command_center: "监管指挥中心", mobile_enforcement: "移动执法", complaints: "举报投诉",
    emergency: "应急处置", facilities: "软硬设施", assessment: "评价与改进",
  };
  list.replaceChildren(...[...state.sources.values()].map((s) => el("li", { "data-source": s.source },
    el("span", { text: names[s.source] || s.source }),
    el("span", { class: s.available ? "up" : "down", text: s.available ? "正常" : "离线", title: s.error || "" }))));
}

function tile(office) {
  const node = el("div", { class: "tile", "data-office": office.office_id, tabindex: "0" });
  node.addEventListener("click", () => openDrill(office.office_id));
  node.addEventListener("keydown", (event) => { if (event.key === "Enter") openDrill(office.office_id); });
  return node;
}

function renderTile(office, flash = false) {
  const holder = document.getElementById("tiles");
  let node = holder.querySelector(`[data-office="${CSS.escape(office.office_id)}"]`);
  if (!node) {
    node = tile(office);
    holder.append(node);
  }
  node.className = `tile band-${band(office.index)}${office.dimensions ? "" : " restricted"}`;
  const mini = el("div", { class: "mini" });
  const dims = office.dimensions || {};
  (state.scheme ? state.scheme.dimensions : []).forEach((d, i) => {
    const score = dims[d.key];
    mini.append(el("div", { class: "bar", title: `${d.name} ${fmt(score)}` },
      el("span", { style: `width:${score === null || score === undefined ? 0 : score}%;background:${DIMENSION_COLORS[i % 4]}` })));
  });
  const figures = el("div", { class: "figures" });
  const backlog = office.figures ? office.figures["complaints.backlog"] : undefined;
  if (backlog !== undefined) {
    figures.append("在办投诉 ", el("span", { class: "tile-figure", "data-key": "complaints.backlog", text: String(backlog) }), " 件");
  }
  node.replaceChildren(
    el("div", { class: "name", text: shortName(office.name), title: office.name }),
    el("div", { class: "rank", text: office.rank ? `第${office.rank}名` : "未排名" }),
    el("div", { class: "tile-index", text: fmt(office.index) }),
    mini, figures);
  if (flash) {
    node.classList.add("flash");
    setTimeout(() => node.classList.remove("flash"), 800);
  }
}

function orderTiles() {
  const holder = document.getElementById("tiles");
  const ordered = [...state.offices.values()].sort((a, b) => a.office_id.localeCompare(b.office_id));
  ordered.forEach((office) => {
    const node = holder.querySelector(`[data-office="${CSS.escape(office.office_id)}"]`);
    if (node) holder.append(node);
  });
}

// Merged into the chart in place (the same series by id): a new figure moves its bar from where it
// stood. Replacing the series would draw every bar again from zero at each event.
function renderRanking() {
  const ranked = [...state.offices.values()].filter((o) => o.rank > 0).sort((a, b) => b.rank - a.rank);
  const fontSize = rem(0.8);
  chart("ranking").setOption({
    ...UPDATE_ANIMATION,
    grid: { left: 4, right: fontSize * 3, top: 4, bottom: 4, containLabel: true },
    xAxis: { type: "value", min: 0, max: 100, show: false },
    yAxis: { type: "category", data: ranked.map((o) => `${o.rank}. ${shortName(o.name)}`),
      axisLabel: { color: "#e6f0ff", fontSize }, axisLine: { show: false }, axisTick: { show: false } },
    series: [{
      id: "ranking", type: "bar",
      data: ranked.map((o) => ({ value: Number(fmt(o.index)), itemStyle: { color: bandColor(o.index) } })),
      barWidth: "60%", label: { show: true, position: "right", color: "#e6f0ff", fontSize },
    }],
  });
}

function bandColor(index) {
  return { good: "#2ed47a", fair: "#38a0ff", warn: "#ffb020", bad: "#ff5a5a", none: "#8fb0d9" }[band(index)];
}

function renderAlerts() {
  const list = document.getElementById("alerts");
  const alerts = [...state.alerts.values()].sort((a, b) =>
    (a.severity === "critical" ? 0 : 1) - (b.severity === "critical" ? 0 : 1) || a.office_id.localeCompare(b.office_id));
  document.getElementById("alert-count").textContent = String(alerts.length);
  if (!alerts.length) {
    list.replaceChildren(el("li", { class: "empty", text: "暂无预警" }));
    return;
  }
  list.replaceChildren(...alerts.map((a) => el("li", { class: a.severity, "data-alert": a.id },
    el("span", { class: "kind", text: `[${a.kind_name}]` }),
    el("span", { class: "office", text: officeName(a.office_id) }),
    withoutOffice(a.title, a.office_id))));
}

// An alert's title may begin with its office's full name (an index drop): shown once, before it.
function withoutOffice(title, officeId) {
  const name = state.offices.get(officeId)?.name;
  return name && title.startsWith(name) ? title.slice(name.length).trim() : title;
}

function officeName(id) {
  const office = state.offices.get(id);
  return office ? shortName(office.name) : id;
}

function renderFeed() {
  const list = document.getElementById("feed");
  if (!state.feed.length) {
    list.replaceChildren(el("li", { class: "empty", text: "等待新动态…" }));
    return;
  }
  list.replaceChildren(...state.feed.slice(-FEED_LIMIT).reverse().map((item) => el("li", {},
    el("time", { text: timeOf(item.time) }),
    el("span", { class: "office", text: item.office_name ? shortName(item.office_name) : "" }),
    item.text)));
}

function renderTrend() {
  const fontSize = rem(0.75);
  chart("trend").setOption({
    animationDurationUpdate: 0, // a point a minute: the line extends, nothing to animate
    // containLabel measures a label one font size tall; the drawn line box is taller: a margin of one more.
    grid: { left: 4, right: fontSize, top: fontSize, bottom: fontSize, containLabel: true },
    tooltip: { trigger: "axis" },
    xAxis: { type: "time", axisLabel: { color: "#8fb0d9", fontSize, hideOverlap: true },
      axisLine: { lineStyle: { color: "#1f4f8f" } } },
    yAxis: { type: "value", min: (v) => Math.max(0, Math.floor((v.min - 5) / 5) * 5), max: 100,
      axisLabel: { color: "#8fb0d9", fontSize }, splitLine: { lineStyle: { color: "rgba(143,176,217,0.15)" } } },
    // A line needs two points: before the second minute, the first shows as a dot.
    series: [{ id: "district", type: "line", step: "end", showSymbol: state.trend.length < 2, name: "区级指数",
      data: state.trend, lineStyle: { color: "#38c6ff" }, areaStyle: { color: "rgba(56,198,255,0.15)" } }],
  });
}

// Every chart follows a new window size, its text too (the page's root size changed with it).
let resizeTimer = null;
function onResize() {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    Object.values(charts).forEach((c) => c.resize());
    renderDistrict();
    renderRanking();
    renderTrend();
  }, 100);
}

// ------------------------------------------------------------------ the live stream

function applySnapshot(body) {
  state.scheme = body.scheme;
  state.district = body.district;
  state.offices = new Map(body.offices.map((o) => [o.office_id, o]));
  state.alerts = new Map(body.alerts.map((a) => [a.id, a]));
  state.feed = body.feed.slice(-FEED_LIMIT);
  state.sources = new Map(body.sources.map((s) => [s.source, s]));
  document.getElementById("tiles").replaceChildren();
  renderScheme();
  renderDistrict();
  state.offices.forEach((o) => renderTile(o));
  orderTiles();
  renderRanking();
  renderAlerts();
  renderFeed();
  renderSources();
  if (body.district.index !== null) pushTrend(body.district.updated_at, body.district.index);
}

// One point a minute at most (a later figure of the same minute replaces it, as the history's minute
// resolution shows it), and one day of them: a busy district sends many district events a second.
function pushTrend(time, index) {
  if (index === null || index === undefined) return;
  const at = Date.parse(time);
  if (Number.isNaN(at)) return;
  const point = [time, Number(index.toFixed(2))];
  const last = state.trend[state.trend.length - 1];
  const lastAt = last ? Date.parse(last[0]) : NaN;
  if (last && at < lastAt) return; // late: the line only moves forward
  if (last && Math.floor(at / MINUTE_MILLISECONDS) === Math.floor(lastAt / MINUTE_MILLISECONDS)) {
    state.trend[state.trend.length - 1] = point;
  } else {
    state.trend.push(point);
  }
  boundTrend();
  renderTrend();
}

function boundTrend() {
  const newest = state.trend.length ? Date.parse(state.trend[state.trend.length - 1][0]) : 0;
  let first = Math.max(0, state.trend.length - TREND_LIMIT);
  while (first < state.trend.length && Date.parse(state.trend[first][0]) < newest - TREND_SPAN_MILLISECONDS) first += 1;
  if (first > 0) state.trend.splice(0, first);
}

// ------------------------------------------------------------------ what the stream says

function onOffice(office) {
  const known = state.offices.get(office.office_id) || {};
  const merged = { ...known, ...office };
  state.offices.set(office.office_id, merged);
  renderTile(merged, true);
  renderRanking();
  if (state.openOffice === office.office_id) refreshDrill();
}

function onRanks(body) {
  for (const [id, rank] of Object.entries(body.ranks)) {
    const office = state.offices.get(id);
    if (office) { office.rank = rank; renderTile(office); }
  }
  renderRanking();
}

function onDistrict(district) {
  state.district = district;
  renderDistrict();
  pushTrend(district.updated_at, district.index);
}

function onAlert(body) {
  if (body.action === "closed") state.alerts.delete(body.alert.id);
  else state.alerts.set(body.alert.id, body.alert);
  renderAlerts();
}

function onFeed(item) {
  state.feed.push(item);
  if (state.feed.length > FEED_LIMIT) state.feed.splice(0, state.feed.length - FEED_LIMIT);
  renderFeed();
}

// The stream ends when the token it was opened with expires (event token-expired), and a stream
// refused (401) is not retried by EventSource: either way the page opens a new one with the token it
// holds now, resuming after the last event it received, or asks to sign in again when that token
// has expired too.
function connect() {
  const token = readToken();
  if (tokenExpired(token)) {
    askToSignIn();
    return;
  }
  const params = new URLSearchParams();
  if (token) params.set("access_token", token);
  if (state.lastEventId) params.set("last_event_id", state.lastEventId);
  const query = params.toString() ? `?${params}` : "";
  const source = new EventSource(`/api/v1/stream${query}`);
  const link = document.getElementById("link");
  const on = (name, handler) => source.addEventListener(name, (event) => {
    if (event.lastEventId) state.lastEventId = event.lastEventId;
    handler(JSON.parse(event.data));
  });
  const reconnect = (delay) => {
    source.close();
    setTimeout(connect, delay);
  };
  source.onopen = () => { link.textContent = "实时"; link.className = "link live"; };
  source.onerror = () => {
    link.textContent = "重连中";
    link.className = "link offline";
    if (source.readyState === EventSource.CLOSED) reconnect(RECONNECT_MILLISECONDS);
  };
  source.addEventListener("token-expired", () => reconnect(0));
  on("snapshot", applySnapshot);
  on("office", onOffice);
  on("ranks", onRanks);
  on("district", onDistrict);
  on("alert", onAlert);
  on("feed", onFeed);
  on("scheme", (scheme) => { state.scheme = scheme; renderScheme(); });
  on("source", (status) => { state.sources.set(status.source, status); renderSources(); });
}

// ------------------------------------------------------------------ loading banner

// While the center loads its demo district (/readyz answers 503 {"status": "loading", ...}) a banner
// says how far it got; it goes when /readyz answers 200. Polled until then, never after.
async function watchReadiness() {
  let status = 0;
  let body = {};
  try {
    const response = await fetch("/readyz", { cache: "no-store" });
    status = response.status;
    body = await response.json().catch(() => ({}));
  } catch (error) {
    status = 0; // the gateway is not answering: keep asking
  }
  showLoading(status !== 200 && body.status === "loading" ? body : null);
  if (status !== 200) setTimeout(watchReadiness, READINESS_POLL_MILLISECONDS);
}

function showLoading(progress) {
  const banner = document.getElementById("loading");
  banner.hidden = !progress;
  if (!progress) return;
  const done = Number(progress.done) || 0;
  const total = Number(progress.total) || 0;
  const what = progress.message || (progress.step ? `正在加载 ${progress.step}` : "");
  document.getElementById("loading-text").textContent =
    `演示数据加载中${what ? `：${what}` : "…"}${total ? `（${done}/${total}）` : ""}，数据将陆续出现`;
  const bar = document.getElementById("loading-progress");
  bar.max = total || 1;
  bar.value = total ? Math.min(done, total) : 0;
}

// ------------------------------------------------------------------ exports

// The token is a header, never part of an address: the file comes through fetch() as a Blob and is
// saved under the name the server gives it (Content-Disposition).
async function downloadExport(kind, format) {
  const message = document.getElementById("export-message");
  message.textContent = "";
  const response = await fetch(`/api/v1/exports/${encodeURIComponent(kind)}?${new URLSearchParams({ format })}`,
    { headers: authHeaders() });
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    const reason = (body.error && body.error.message) || response.statusText;
    message.textContent = response.status === 401 ? "导出失败：请重新登录" :
      response.status === 403 ? "导出失败：无权导出" : `导出失败：${reason}`;
    return;
  }
  const blob = await response.blob();
  const name = fileNameOf(response.headers.get("Content-Disposition")) || `${kind}.${format}`;
  const address = URL.createObjectURL(blob);
  const link = el("a", { href: address, download: name, hidden: "" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(address), 60_000);
}

// attachment; filename="rankings.xlsx"; filename*=UTF-8''%E6%8E%92%E5%90%8D.xlsx: the UTF-8 form
// (RFC 6266) wins when present, it carries the Chinese name.
function fileNameOf(disposition) {
  if (!disposition) return "";
  const encoded = disposition.match(/filename\*\s*=\s*UTF-8''([^;]+)/i);
  if (encoded) {
    try {
      return decodeURIComponent(encoded[1].trim());
    } catch (error) {
      // malformed: fall back to the plain name
    }
  }
  const plain = disposition.match(/filename\s*=\s*"?([^";]+)"?/i);
  return plain ? plain[1].trim() : "";
}

function setUpExports() {
  document.querySelectorAll("#exports button[data-export]").forEach((button) => {
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        await downloadExport(button.dataset.export, document.getElementById("export-format").value);
      } catch (error) {
        document.getElementById("export-message").textContent = "导出失败：网络错误";
      } finally {
        button.disabled = false;
      }
    });
  });
}

// ------------------------------------------------------------------ start

async function start() {
  readToken();
  window.addEventListener("hashchange", readToken);
  clockTick();
  setInterval(clockTick, 1000);
  document.getElementById("drill-close").addEventListener("click", closeDrill);
  document.getElementById("drill").addEventListener("click", (event) => { if (event.target.id === "drill") closeDrill(); });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeDrill(); });
  window.addEventListener("resize", onResize);
  setUpExports();
  watchReadiness();
  try {
    state.session = await api("/api/v1/session");
    const who = state.session.auth_mode === "off" ? "开发模式" :
      `${state.session.subject}${state.session.office_id ? `（${state.session.office_id}）` : ""}`;
    document.getElementById("who").textContent = who;
  } catch (error) {
    if (error.status === 401 && tokenExpired(state.token)) {
      askToSignIn();
      return;
    }
    document.getElementById("who").textContent = error.status === 401 ? "未登录：请使用带令牌的地址打开" : "";
    if (error.status === 401) return;
  }
  try {
    const history = await api("/api/v1/indicators/index/history?resolution=minute");
    state.trend = history.points.filter((p) => p.value !== null).map((p) => [p.time, p.value]);
    boundTrend();
  } catch (error) {
    state.trend = [];
  }
  renderTrend();
  connect();
}

start();
