// 大屏 panel: complaints and reports per 12315 class (goods / services -> class), from complaints'
// statistics through /api/v1/complaint-categories, within the signed-in user's office scope. Uses
// app.js's helpers (api, el); refreshed every minute, since the counts move with every new item.
"use strict";

(() => {
  const list = document.getElementById("complaint-categories");
  const total = document.getElementById("complaint-categories-total");
  if (!list) return;
  const SHOWN = 8;
  const DOMAIN_NAMES = { G: "商品", S: "服务" };

  // Subclasses are counted under their class: the panel shows the classes.
  function byClass(rows) {
    const classes = new Map();
    for (const row of rows) {
      const key = row.class_code || "";
      const name = key ? row.path.split(" / ").slice(0, 2).join(" / ") : "未分类";
      const entry = classes.get(key) || { key, name, domain: row.domain, count: 0 };
      entry.count += row.count;
      classes.set(key, entry);
    }
    return [...classes.values()].sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  }

  function render(answer) {
    const classes = byClass(answer.district);
    const sum = classes.reduce((acc, entry) => acc + entry.count, 0);
    const domains = { G: 0, S: 0 };
    for (const entry of classes) if (entry.domain in domains) domains[entry.domain] += entry.count;
    total.textContent = sum ? `共 ${sum} 件 · ${DOMAIN_NAMES.G} ${domains.G} · ${DOMAIN_NAMES.S} ${domains.S}` : "";
    if (!sum) {
      list.replaceChildren(el("li", { class: "empty", text: "暂无投诉举报" }));
      return;
    }
    const top = classes[0].count;
    list.replaceChildren(...classes.slice(0, SHOWN).map((entry) => {
      const bar = el("span", { class: "bar" });
      bar.style.width = `${Math.max(4, Math.round((entry.count / top) * 100))}%`;
      return el("li", { "data-class": entry.key || "unclassified" },
        el("span", { class: "name", text: entry.name }), bar, el("span", { class: "count", text: String(entry.count) }));
    }));
  }

  async function refresh() {
    try {
      render(await api("/api/v1/complaint-categories"));
    } catch (error) {
      const text = error.status === 401 ? "登录后可见" : `分类统计暂不可用：${error.message}`;
      list.replaceChildren(el("li", { class: "empty", text }));
      total.textContent = "";
    }
  }

  refresh();
  setInterval(refresh, 60_000);
})();
