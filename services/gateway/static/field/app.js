// 移动执法: the inspector's offline-first app. Boots the identity, the queue and the screens; the
// route is the URL's hash (#/work, #/inspection/<id>, #/rapid, #/queue, #/me).
import { actingOfficer, identity, read } from "./api.js";
import { chooseOfficer, restore, signOut, startSignIn } from "./auth.js";
import * as db from "./db.js";
import { announce, h, show } from "./dom.js";
import { chinese, inspectionView, kindText } from "./inspection.js";
import { actions, dismiss, forgetSeen, health, kick, onChange, othersText, startSending, summary } from "./queue.js";
import { rapidView } from "./rapid.js";
import { workView } from "./work.js";

let config = null;
let signedIn = false;  // the screens are shown only then; before, the sign-in screen whatever the hash

async function updateHeader() {
  const counts = await summary();
  const line = document.getElementById("sync");
  const parts = [];
  if (counts.waiting) parts.push(`${counts.waiting} 项操作等待发送`);
  if (counts.conflicts) parts.push(`${counts.conflicts} 项操作因冲突暂停`);
  if (counts.failed) parts.push(`${counts.failed} 项操作被退回`);
  if (health.signedOut) parts.push("登录已失效，请重新登录后发送");
  let text = parts.length ? parts.join("，") : "已全部发送";
  if (!signedIn) text = "未登录";
  const others = othersText(counts.others);
  if (others) text += `；另有 ${others}`;
  if (line.textContent !== text) line.textContent = text;
  line.className = counts.conflicts || counts.failed || health.signedOut ? "sync trouble" : counts.waiting ? "sync waiting" : "sync";
  document.getElementById("network").hidden = navigator.onLine;
}

async function signInView(problem = "") {
  signedIn = false;
  document.getElementById("tabs").hidden = true;
  document.getElementById("who").textContent = "";
  updateHeader();
  const parts = [h("h2", {}, "登录"), problem ? h("p", { class: "error", role: "alert" }, problem) : null];
  if (config.auth_mode === "jwt" && config.oidc) {
    parts.push(h("p", {}, "使用局统一身份认证登录。"),
      h("button", { type: "button", class: "primary", id: "oidc-sign-in", onclick: () =>
        startSignIn(config.oidc).catch((error) => signInView(error.message)) }, "统一身份认证登录"));
  } else if (config.auth_mode === "jwt") {
    parts.push(h("p", { class: "error" }, "未配置统一身份认证（OIDC），请联系管理员。"));
  } else {
    parts.push(h("p", { class: "notice", id: "development-login" },
      "开发登录：本环境未启用身份认证，仅用于开发和演示。请选择以哪位执法人员的身份操作。"));
    try {
      const { officers = [] } = await read("development-officers");
      parts.push(h("ul", { class: "plain", id: "development-officers" }, officers.map((officer) => h("li", {},
        h("button", { type: "button", class: "primary", dataset: { officer: officer.id }, onclick: () => {
          chooseOfficer(officer.id);
          start();
        } }, `${officer.name}（${officer.id}）· ${officer.office_name || officer.office_id}${officer.certified ? "" : " · 执法证无效"}`)))));
    } catch (error) {
      parts.push(h("p", { class: "error" }, `无法载入执法人员：${error.message}`));
    }
  }
  show(...parts);
}

async function meView() {
  const me = (await db.get("kv", "me")) || {};
  const officer = me.officer || {};
  show(h("h2", {}, "我的"),
    h("p", {}, `${officer.name || me.subject || ""}（${officer.id || me.subject || ""}）`),
    h("p", { class: "meta" }, officer.office_name || me.office_id || ""),
    identity.mode === "off" ? h("p", { class: "notice" }, "开发登录：未验证身份，仅用于开发和演示。") : null,
    h("button", { type: "button", class: "primary", id: "sign-out", onclick: async () => {
      signedIn = false;
      signOut();
      // Another officer may sign in on this phone next: what this one saw goes; their unsent actions
      // stay, to be sent when they sign in again.
      await forgetSeen();
      announce("已退出登录");
      location.hash = "";
      start();
    } }, "退出登录"));
}

async function queueView() {
  const queue = await actions();
  const others = othersText((await summary()).others);
  const labels = { queued: "等待发送", conflict: "冲突暂停", failed: "被退回" };
  show(h("h2", {}, "待发送"),
    others ? h("p", { class: "notice", id: "queue-others" }, others) : null,
    h("button", { type: "button", class: "primary", id: "send-now", onclick: () => kick().then(route) }, "立即发送"),
    queue.length ? h("ul", { class: "plain", id: "queue-list" }, queue.map((action) => h("li", { class: "card" },
      h("h3", {}, `${kindText(action.kind)} · ${action.label || ""}`),
      h("p", { class: action.state === "queued" ? "meta" : "error" }, labels[action.state] || action.state),
      action.error ? h("p", { class: "error" }, chinese(action.error)) : null,
      action.inspection_id ? h("a", { class: "button", href: `#/inspection/${encodeURIComponent(action.inspection_id)}` }, "查看检查") : null,
      action.state === "failed" ? h("button", { type: "button", class: "danger", onclick: async () => {
        await dismiss(action.seq); route();
      } }, "移除") : null))) : h("p", { class: "ok" }, "没有等待发送的操作。"));
}

async function route() {
  const hash = location.hash || "#/work";
  const [, name, id] = hash.split("/");
  for (const tab of document.querySelectorAll(".tabs a")) {
    if (tab.dataset.tab === (name === "inspection" ? "work" : name)) tab.setAttribute("aria-current", "page");
    else tab.removeAttribute("aria-current");
  }
  if (name === "inspection" && id) return inspectionView(decodeURIComponent(id));
  if (name === "rapid") return rapidView();
  if (name === "queue") return queueView();
  if (name === "me") return meView();
  return workView();
}

let sending = false;

async function start() {
  let restored = false;
  try {
    restored = await restore(config);
  } catch (error) {
    return signInView(error.message);
  }
  if (!restored) return signInView();
  health.signedOut = false;
  // Someone else than the last officer (whose session ended without signing out, say an expired
  // token): what the last one saw is not shown to this one.
  const last = await db.get("kv", "seen-by");
  if (last !== undefined && last !== actingOfficer()) await forgetSeen();
  await db.put("kv", actingOfficer(), "seen-by");
  try {
    const me = await read("me");
    await db.put("kv", me, "me");
  } catch (error) {
    if (error.status === 401 || error.status === 403) { signOut(); return signInView(`请重新登录：${error.message}`); }
  }
  const me = (await db.get("kv", "me")) || {};
  identity.name = me.officer?.name || "";
  document.getElementById("who").textContent = me.officer
    ? `${me.officer.name} · ${me.officer.office_name || me.officer.office_id}` : (me.subject || "");
  document.getElementById("tabs").hidden = false;
  signedIn = true;
  if (!sending) {
    sending = true;
    onChange((detail) => {
      updateHeader();
      if (!signedIn) return;
      const [, name, id] = (location.hash || "").split("/");
      if (detail.sent || detail.conflict || detail.failed) {
        if (name === "inspection" && decodeURIComponent(id || "") === detail.inspection_id) inspectionView(detail.inspection_id, { fresh: false });
        else if (name === "queue" || (name === "rapid" && detail.sent?.kind === "rapid")) route();
        if (detail.conflict) announce("记录冲突：其他人已修改这次检查，请决定如何处理");
      }
    });
    startSending();
  } else kick();
  await route();
  updateHeader();
}

async function boot() {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/field/sw.js", { scope: "/field/" }).catch(() => {});
  }
  addEventListener("online", updateHeader);
  addEventListener("offline", updateHeader);
  addEventListener("hashchange", () => { if (config && signedIn) route(); });
  try {
    config = await read("config");
  } catch (error) {
    show(h("p", { class: "error", role: "alert" }, `无法连接服务：${error.message}`));
    return;
  }
  await start();
}

boot();

