// The inspection on site: the team and position to start it, the checklist item by item (result,
// note, photos), the outcome to complete it, then the 现场检查笔录 signed by the party. Every
// action goes through the queue; the screen shows the inspection as the service last answered it
// with the officer's queued actions applied on top.
import { actingOfficer, read, request, authHeaders, identity } from "./api.js";
import * as db from "./db.js";
import { announce, dayText, h, onLeave, show, todayText, viewUrl } from "./dom.js";
import { capture, position, signaturePad } from "./evidence.js";
import { OUTCOMES, RESULTS, bare, categoryLabel, impliedOutcome, outcomeLabel, resultLabel, stateLabel } from "./labels.js";
import { actions, conflictOf, discard, enqueue, reapply, remember, seen } from "./queue.js";
import { assignmentOf } from "./work.js";

const KIND_LABELS = { start: "开始检查", findings: "检查结果", complete: "完成检查", evidence: "照片", sign: "笔录签名", rapid: "快检记录" };
export const kindText = (kind) => KIND_LABELS[kind] || kind;
const safe = (code) => String(code).replace(/[^A-Za-z0-9_-]/g, "_");
let team = { position: null, message: "" };
let renders = 0;  // renders overlap (the queue answers while the officer acts): only the latest is shown
let thumbLoads = [];  // the photos of the view being built: loaded once on screen
// Uploaded photos fetched this session, by officer and file: re-renders (every tap) do not fetch
// them again. In memory only, never kept on the phone; a few at most.
const fetchedPhotos = new Map();

async function uploadedPhoto(officeId, sha256) {
  const key = `${actingOfficer()}|${officeId}/${sha256}`;
  if (fetchedPhotos.has(key)) return fetchedPhotos.get(key);
  const reply = await fetch(`/api/v1/field/attachments/${encodeURIComponent(officeId)}/${encodeURIComponent(sha256)}`,
    { headers: authHeaders(), credentials: "omit" });
  if (!reply.ok) throw new Error(`照片无法载入（${reply.status}）`);
  const blob = await reply.blob();
  fetchedPhotos.set(key, blob);
  if (fetchedPhotos.size > 24) fetchedPhotos.delete(fetchedPhotos.keys().next().value);
  return blob;
}

/** Loads each thumbnail of the view shown when it comes near the screen. */
function watchThumbs(loads) {
  const start = (slot) => loads.find((load) => load.slot === slot)?.run();
  if (!("IntersectionObserver" in self)) { for (const load of loads) load.run(); return; }
  const watcher = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      watcher.unobserve(entry.target);
      start(entry.target);
    }
  }, { rootMargin: "300px" });
  for (const load of loads) watcher.observe(load.slot);
  onLeave(() => watcher.disconnect());
}

/** A thumbnail slot: the photo comes from `blobOf` once it is near the screen. */
function thumb(alt, sha256, blobOf) {
  const slot = h("span", { class: "thumb", dataset: { sha256 } });
  thumbLoads.push({ slot, run: async () => {
    try {
      const blob = await blobOf();
      if (blob && slot.isConnected) slot.replaceWith(h("img", { src: viewUrl(blob), alt, dataset: { sha256 } }));
    } catch (error) {
      slot.title = error.message;
    }
  } });
  return slot;
}

/** The inspection as the service last answered it, with the officer's queued actions applied. */
export async function localView(id) {
  const base = await seen(id);
  const queue = (await actions()).filter((action) => action.inspection_id === id);
  const view = base ? structuredClone(base) : { id, findings: [], evidence: [], state: "INSPECTION_STATE_PLANNED" };
  view.findings = view.findings || [];
  view.evidence = view.evidence || [];
  view.pendingPhotos = [];
  view.pendingComplete = false;
  for (const action of queue) {
    if (action.state === "failed") continue;
    if (action.kind === "start") {
      view.state = "INSPECTION_STATE_IN_PROGRESS";
      view.inspector_ids = action.body.officer_ids;
    } else if (action.kind === "findings") {
      for (const finding of action.body.findings) {
        view.findings = view.findings.filter((old) => old.item_code !== finding.item_code);
        view.findings.push({ ...finding, pending: true });
      }
    } else if (action.kind === "evidence") {
      view.pendingPhotos.push({ item_code: action.query.item_code, sha256: action.query.sha256, blob_key: action.blob_key });
    } else if (action.kind === "complete") {
      view.state = "INSPECTION_STATE_COMPLETED";
      view.outcome = action.body.outcome;
      view.pendingComplete = true;
    }
  }
  view.failures = queue.filter((action) => action.state === "failed");
  view.waiting = queue.filter((action) => action.state === "queued").length;
  return view;
}

function refsOf(view, code) {
  const shas = [...view.evidence.filter((e) => e.item_code === code).map((e) => e.sha256),
    ...view.pendingPhotos.filter((p) => p.item_code === code).map((p) => p.sha256)];
  return [...new Set(shas)].map((sha) => `evidence:${sha}`);
}

/** The inspected entity: from the work list, else as kept when last seen (a completed inspection
    leaves the work list), else from the office's directory kept on the phone. */
async function entityOf(view, assignment) {
  if (assignment?.entity) {
    await db.put("kv", assignment.entity, `entity:${view.id}`);
    return assignment.entity;
  }
  const kept = await db.get("kv", `entity:${view.id}`);
  if (kept) return kept;
  try {
    const { entities = [] } = await read("entities", { query: { search: view.entity_id } });
    if (entities[0]) return entities[0];
  } catch { /* offline and never seen: the credit code stands in for the name */ }
  return { name: view.entity_id || "", address: "" };
}

async function checklistOf(view, entity) {
  // Until the service has started it (and fixed its checklist), the entity's category decides.
  const fixed = bare(view.checklist_category, "ENTITY_CATEGORY_");
  const category = fixed !== "UNSPECIFIED" ? fixed : bare(entity?.category, "ENTITY_CATEGORY_");
  const wanted = category === "UNSPECIFIED" ? "GENERAL" : category;
  const { checklists = [] } = await read("checklists");
  const matching = checklists.filter((c) => bare(c.category, "ENTITY_CATEGORY_") === wanted);
  return matching.find((c) => view.checklist_version && c.version === view.checklist_version)
    || matching.sort((a, b) => b.version - a.version)[0] || null;
}

/** Shows the inspection `id`, fetching it fresh when the network allows. */
export async function inspectionView(id, { fresh = true } = {}) {
  const ticket = ++renders;
  if (fresh) {
    try { await remember(await request("GET", `inspections/${encodeURIComponent(id)}`)); } catch { /* offline: as last seen */ }
  }
  const [view, assignment, conflict] = await Promise.all([localView(id), assignmentOf(id), conflictOf(id)]);
  const entity = await entityOf(view, assignment);
  let checklist = null;
  try { checklist = await checklistOf(view, entity); } catch { checklist = null; }
  const state = bare(view.state, "INSPECTION_STATE_");
  const sections = [state === "PLANNED" ? await startSection(id, view, entity) : null,
    state === "COMPLETED" ? await completedSection(id, view) : null];
  if (ticket !== renders || !location.hash.startsWith("#/inspection/")) return;
  const focused = document.activeElement?.id;
  thumbLoads = [];
  show(
    h("p", {}, h("a", { href: "#/work", class: "button" }, "← 返回今日任务")),
    h("h2", { id: "inspection-title" }, entity.name || "检查"),
    h("p", { class: "meta" }, entity.address || ""),
    h("p", { class: "meta" }, `${categoryLabel(entity.category)} · 状态：${stateLabel(view.state)}`
      + (view.waiting ? ` · ${view.waiting} 项操作等待发送` : "")),
    conflict ? conflictPanel(id, view, conflict, checklist) : null,
    sections[0],
    state === "IN_PROGRESS" || state === "COMPLETED" ? checklistSection(id, view, checklist, state) : null,
    state === "IN_PROGRESS" ? completeSection(id, view, checklist) : null,
    sections[1]);
  watchThumbs(thumbLoads);
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus({ preventScroll: true });
}

function conflictPanel(id, view, conflict, checklist) {
  const current = conflict.current || {};
  const textOf = (code) => (checklist?.items || []).find((item) => item.code === code)?.text || code;
  const mine = view.findings.filter((f) => f.pending);
  return h("section", { class: "conflict", role: "alert", "aria-labelledby": "conflict-title", id: "conflict" },
    h("h3", { id: "conflict-title" }, "记录冲突：其他人已修改这次检查"),
    h("p", {}, `您的操作基于版本 ${conflict.theirs ?? "?"}，服务器当前为版本 ${current.version ?? "?"}。您的操作已暂停，服务器上的记录未被覆盖。`),
    h("h3", {}, "服务器当前的检查结果"),
    h("ul", { id: "conflict-current" }, (current.findings || []).map((f) =>
      h("li", {}, `${f.item_code} ${textOf(f.item_code)}：${resultLabel(f.result)}${f.note ? `（${f.note}）` : ""}${f.recorded_by ? ` — ${f.recorded_by}` : ""}`))),
    h("h3", {}, "您等待发送的结果"),
    h("ul", { id: "conflict-mine" }, mine.map((f) =>
      h("li", {}, `${f.item_code} ${textOf(f.item_code)}：${resultLabel(f.result)}${f.note ? `（${f.note}）` : ""}`))),
    h("div", { class: "row" },
      h("button", { type: "button", id: "conflict-discard", class: "danger", onclick: async () => {
        await discard(id); announce("已放弃您的操作，显示服务器上的记录"); inspectionView(id);
      } }, "放弃我的操作"),
      h("button", { type: "button", id: "conflict-reapply", onclick: async () => {
        await reapply(id); announce("已在新版本上重新提交您的操作"); inspectionView(id, { fresh: false });
      } }, "在新版本上重新提交")));
}

async function startSection(id, view, entity) {
  let officers = [];
  let problem = "";
  try { officers = (await read("officers")).officers || []; } catch (error) { problem = error.message; }
  const acting = identity.officerId || (await db.get("kv", "me"))?.officer?.id || "";
  const assigned = view.assigned_officer_ids || [];
  const chosen = new Set(assigned.length ? assigned : [acting]);
  chosen.add(acting);
  const address = h("input", { type: "text", id: "start-address", value: entity.address || "", autocomplete: "off" });
  const where = h("p", { id: "start-position", class: "hint", "aria-live": "polite" }, team.message || "正在获取手机位置…");
  const refused = view.failures.filter((a) => a.kind === "start").map((a) => `开始检查被退回：${chinese(a.error)}${
    [...new Set((a.details || []).map((d) => chinese(d.description)))].map((d) => `（${d}）`).join("")}`);
  const message = h("p", { id: "start-error", class: "error", role: "alert" }, refused.join("；"));
  const locate = async () => {
    where.textContent = "正在获取手机位置…";
    const found = await position();
    team = found.error ? { position: null, message: found.error } : { position: found,
      message: `已定位：${found.latitude.toFixed(5)}, ${found.longitude.toFixed(5)}（精度约 ${Math.round(found.accuracy)} 米）` };
    where.textContent = team.message;
    where.className = found.error ? "error" : "ok";
  };
  locate();
  return h("section", { "aria-labelledby": "start-title" },
    h("h3", { id: "start-title" }, "开始检查"),
    h("fieldset", {}, h("legend", {}, "检查人员（至少两名持有效执法证的人员）"),
      problem ? h("p", { class: "error" }, problem) : null,
      officers.map((officer) => h("label", { class: "check" },
        h("input", { type: "checkbox", name: "officer", value: officer.id, checked: chosen.has(officer.id),
          disabled: !officer.certified, id: `officer-${safe(officer.id)}` }),
        `${officer.name}（${officer.id}）${officer.certified ? "" : " — 执法证无效"}`))),
    h("label", { for: "start-address" }, "检查地点"), address, where,
    h("button", { type: "button", onclick: locate }, "重新定位"),
    message,
    h("button", { type: "button", class: "primary", id: "start", onclick: async () => {
      const ids = [...document.querySelectorAll("input[name=officer]:checked")].map((input) => input.value);
      if (ids.length < 2) { message.textContent = "请至少选择两名持有效执法证的检查人员"; return; }
      if (!team.position) { message.textContent = `需要手机定位才能开始检查。${team.message}`; return; }
      const location = { address: address.value.trim(), latitude: team.position.latitude,
        longitude: team.position.longitude };
      await enqueue({ kind: "start", inspection_id: id, label: view.entity_id, body: { officer_ids: ids, location } });
      announce("检查已开始");
      inspectionView(id, { fresh: false });
    } }, "开始检查"));
}

/** The Chinese part of the gateway's "中文 / English" messages: the officer reads Chinese. */
export const chinese = (text) => String(text || "").split(" / ")[0];

/** The item a refusal's field violation is about: findings[i]… names the action's i-th finding,
    checklist.<code> an item by its code. */
function itemOfViolation(action, field) {
  const indexed = /^findings\[(\d+)\]/.exec(field || "");
  if (indexed && action.kind === "findings") return action.body.findings[Number(indexed[1])]?.item_code || "";
  const named = /^checklist\.(.+)$/.exec(field || "");
  return named ? named[1] : "";
}

function itemErrors(view, code) {
  const found = [];
  for (const action of view.failures) {
    const details = (action.details || []).filter((d) => itemOfViolation(action, d.field) === code);
    const whole = action.kind === "evidence" ? action.query.item_code === code
      : action.kind === "findings" && !(action.details || []).length && action.body.findings.some((f) => f.item_code === code);
    if (!details.length && !whole) continue;
    const said = [...new Set(details.map((d) => chinese(d.description)))];
    found.push(`${kindText(action.kind)}被退回：${chinese(action.error)}${said.length ? `（${said.join("；")}）` : ""}`);
  }
  return found;
}

function checklistSection(id, view, checklist, state) {
  if (!checklist) return h("p", { class: "error", role: "alert" }, "没有找到这类对象的检查表（联网后重试）");
  const answered = new Set(view.findings.map((f) => f.item_code));
  const done = state === "COMPLETED";
  return h("section", { "aria-labelledby": "checklist-title", id: "checklist" },
    h("h3", { id: "checklist-title" }, `${checklist.title || "检查表"}（第 ${checklist.version} 版）`),
    h("p", { class: "hint", id: "progress" }, `已检查 ${checklist.items.filter((i) => answered.has(i.code)).length} / ${checklist.items.length} 项`),
    checklist.items.map((item) => itemBlock(id, view, item, done)));
}

function itemBlock(id, view, item, done) {
  const code = safe(item.code);
  const finding = view.findings.find((f) => f.item_code === item.code);
  const result = finding ? bare(finding.result, "ITEM_RESULT_") : "";
  const errors = itemErrors(view, item.code);
  const note = h("textarea", { id: `note-${code}`, disabled: done, "aria-describedby": errors.length ? `error-${code}` : null },
    finding?.note || "");
  const record = async (chosen) => {
    const fresh = await localView(id);
    await enqueue({ kind: "findings", inspection_id: id, label: item.code, body: { findings: [{ item_code: item.code,
      result: chosen, note: note.value.trim(), evidence_refs: refsOf(fresh, item.code) }] } });
    announce(`${item.code} 已记录为${RESULTS[chosen]}`);
    inspectionView(id, { fresh: false });
  };
  note.addEventListener("change", () => { if (result) record(result); });
  const photos = [...view.evidence.filter((e) => e.item_code === item.code).map(() => null),
    ...view.pendingPhotos.filter((p) => p.item_code === item.code)];
  // Waiting photos from the phone itself; uploaded ones from the attachment store (with the headers).
  const waitingShas = new Set(view.pendingPhotos.map((p) => p.sha256));
  const thumbs = h("div", { class: "thumbs", id: `thumbs-${code}` },
    view.pendingPhotos.filter((p) => p.item_code === item.code).map((photo) =>
      thumb(`${item.code} 的照片（等待发送）`, photo.sha256, () => db.get("blobs", photo.blob_key))),
    view.evidence.filter((e) => e.item_code === item.code && !waitingShas.has(e.sha256) && view.office_id).map((evidence) =>
      thumb(`${item.code} 的照片（已上传）`, evidence.sha256, () => uploadedPhoto(view.office_id, evidence.sha256))));
  const uploaded = view.evidence.filter((e) => e.item_code === item.code).length;
  const status = h("p", { class: "hint", id: `photo-status-${code}`, "aria-live": "polite" },
    photos.length ? `照片 ${photos.length} 张（已上传 ${uploaded} 张）` : "暂无照片");
  const input = h("input", { type: "file", accept: "image/*", capture: "environment", id: `photo-${code}`, disabled: done,
    onchange: async () => {
      const file = input.files[0];
      if (!file) return;
      status.textContent = "正在处理照片…";
      try {
        const taken = await capture(file);
        const query = { kind: "PHOTO", item_code: item.code, capture_time: taken.capture_time, sha256: taken.sha256 };
        if (taken.position) Object.assign(query, { latitude: taken.position.latitude, longitude: taken.position.longitude,
          accuracy: taken.position.accuracy });
        await enqueue({ kind: "evidence", inspection_id: id, label: item.code, query }, taken.blob);
        if (result) {
          const fresh = await localView(id);
          await enqueue({ kind: "findings", inspection_id: id, label: item.code, body: { findings: [{ item_code: item.code,
            result, note: note.value.trim(), evidence_refs: refsOf(fresh, item.code) }] } });
        }
        announce(`${item.code} 的照片已保存在本机，等待发送`);
        inspectionView(id, { fresh: false });
      } catch (error) {
        status.textContent = `照片无法保存：${error.message}`;
      }
    } });
  return h("article", { class: item.key ? "item key" : "item", id: `item-${code}`, "aria-labelledby": `title-${code}` },
    h("h3", { id: `title-${code}` }, `${item.code} ${item.text}`),
    h("p", { class: "hint" }, [item.section, item.legal_basis].filter(Boolean).join(" · ")),
    h("div", { class: "choices", role: "group", "aria-label": `${item.code} 的检查结果` },
      Object.entries(RESULTS).map(([value, label]) => h("button", { type: "button", id: `result-${code}-${value}`,
        class: value === "FAIL" ? "fail" : "", "aria-pressed": String(result === value), disabled: done,
        onclick: () => record(value) }, label))),
    h("label", { for: `note-${code}` }, "说明"), note,
    done ? null : h("label", { class: "photo-label", for: `photo-${code}` }, "＋ 拍照取证", input),
    thumbs, status,
    errors.length ? h("p", { class: "error", id: `error-${code}`, role: "alert" }, errors.join("；")) : null,
    finding?.pending ? h("p", { class: "hint" }, "等待发送") : null);
}

function completeSection(id, view, checklist) {
  const unanswered = (checklist?.items || []).filter((item) => !view.findings.some((f) => f.item_code === item.code));
  if (!checklist || unanswered.length) {
    return h("p", { class: "notice", id: "complete-hint" }, `还有 ${unanswered.length} 项未检查，全部检查后可完成检查。`);
  }
  const implied = impliedOutcome(checklist, view.findings);
  const due = h("input", { type: "date", id: "rectification-due", min: todayText() });
  const dueLabel = h("label", { for: "rectification-due", hidden: implied !== "RECTIFICATION_ORDERED" }, "整改期限");
  due.hidden = implied !== "RECTIFICATION_ORDERED";
  const summary = h("textarea", { id: "summary" });
  const message = h("p", { class: "error", id: "complete-error", role: "alert" });
  const failures = view.failures.filter((a) => a.kind === "complete")
    .map((a) => `完成检查被退回：${chinese(a.error)}${[...new Set((a.details || []).map((d) => chinese(d.description)))]
      .map((d) => `（${d}）`).join("")}`);
  return h("section", { "aria-labelledby": "complete-title" },
    h("h3", { id: "complete-title" }, "完成检查"),
    h("fieldset", {}, h("legend", {}, `检查结论（根据不合格项建议：${OUTCOMES[implied]}）`),
      Object.entries(OUTCOMES).map(([value, label]) => h("label", { class: "check" },
        h("input", { type: "radio", name: "outcome", value, id: `outcome-${value}`, checked: value === implied,
          onchange: () => { const needed = value === "RECTIFICATION_ORDERED"; due.hidden = !needed; dueLabel.hidden = !needed; } }),
        label))),
    dueLabel, due,
    h("label", { for: "summary" }, "检查情况摘要"), summary,
    h("p", { class: "error", role: "alert", id: "complete-refused" }, failures.join("；")), message,
    h("button", { type: "button", class: "primary", id: "complete", onclick: async () => {
      const outcome = document.querySelector("input[name=outcome]:checked")?.value || implied;
      if (outcome === "RECTIFICATION_ORDERED" && !due.value) { message.textContent = "责令整改须填写整改期限"; due.focus(); return; }
      const body = { outcome, summary: summary.value.trim() };
      if (outcome === "RECTIFICATION_ORDERED") body.rectification_due = due.value;
      await enqueue({ kind: "complete", inspection_id: id, label: view.entity_id, body });
      announce("检查已完成");
      inspectionView(id, { fresh: false });
    } }, "完成检查"));
}

async function completedSection(id, view) {
  const parts = [h("h3", {}, "检查结论"), h("p", { id: "outcome" }, outcomeLabel(view.outcome) || "")];
  if (view.pendingComplete) {
    parts.push(h("p", { class: "notice" }, "完成检查的操作等待发送：联网后显示结论和案件线索。"));
    return h("section", { id: "completed" }, parts);
  }
  if (view.lead_case_id) {
    parts.push(h("p", { class: "notice", id: "lead", role: "alert" }, `已生成案件线索：${view.lead_case_id}，转执法办案处理。`));
  }
  if (view.rectification_due?.year) parts.push(h("p", {}, `整改期限：${dayText(view.rectification_due)}`));
  parts.push(await recordSection(id));
  return h("section", { id: "completed" }, parts);
}

async function openPdf(download, link, message) {
  try {
    const reply = await fetch(download, { headers: authHeaders(), credentials: "omit" });
    if (!reply.ok) throw new Error(`无法打开笔录（${reply.status}）`);
    const url = URL.createObjectURL(await reply.blob());
    link.href = url;
    link.hidden = false;
    link.focus();
  } catch (error) {
    message.textContent = error.message;
  }
}

async function recordSection(id) {
  const signed = await db.get("kv", `signed:${id}`);
  if (signed) return h("p", { class: "ok", id: "signed" }, `笔录已由当事人签名（文书 ${signed.id}）`);
  const waiting = (await actions()).some((a) => a.kind === "sign" && a.inspection_id === id && a.state !== "failed");
  if (waiting) return h("p", { class: "notice", id: "signed" }, "签名已保存在本机，等待发送");
  const record = await db.get("kv", `record:${id}`);
  const message = h("p", { class: "error", role: "alert", id: "record-error" });
  if (!record) {
    return h("section", { "aria-labelledby": "record-title" }, h("h3", { id: "record-title" }, "现场检查笔录"), message,
      h("button", { type: "button", class: "primary", id: "issue-record", onclick: async () => {
        if (!navigator.onLine) { message.textContent = "出具笔录需要联网"; return; }
        try {
          const answer = await request("POST", `inspections/${encodeURIComponent(id)}/record`, { json: {} });
          await db.put("kv", { ...answer.document, download: answer.download }, `record:${id}`);
          announce("笔录已出具");
          inspectionView(id, { fresh: false });
        } catch (error) { message.textContent = error.message; }
      } }, "出具现场检查笔录"));
  }
  const link = h("a", { class: "button", id: "record-link", target: "_blank", rel: "noopener", download: "现场检查笔录.pdf", hidden: true }, "打开笔录 PDF");
  const pad = signaturePad();
  const signer = h("input", { type: "text", id: "signer-name", autocomplete: "name" });
  const section = h("section", { "aria-labelledby": "record-title" },
    h("h3", { id: "record-title" }, "现场检查笔录"),
    h("p", {}, `笔录已出具（文书 ${record.id}），请当事人阅读后签名。`),
    h("button", { type: "button", id: "open-record", onclick: () => openPdf(record.download || `/api/v1/documents/${record.id}`, link, message) }, "查看笔录"),
    link,
    h("label", { for: "signer-name" }, "当事人姓名"), signer,
    h("p", { class: "hint", id: "pad-hint" }, "请当事人在下方框内签名"),
    pad.canvas,
    message,
    h("div", { class: "row" },
      h("button", { type: "button", id: "clear-signature", onclick: () => pad.clear() }, "清除重签"),
      h("button", { type: "button", class: "primary", id: "sign", onclick: async () => {
        message.textContent = "";
        if (!signer.value.trim()) { message.textContent = "请填写当事人姓名"; signer.focus(); return; }
        if (!pad.signed) { message.textContent = "请当事人先在框内签名"; return; }
        await enqueue({ kind: "sign", inspection_id: id, label: record.id, body: { document_id: record.id,
          signer_name: signer.value.trim(), sign_time: new Date().toISOString() } }, await pad.png());
        announce("签名已保存，等待发送");
        inspectionView(id, { fresh: false });
      } }, "确认签名")));
  requestAnimationFrame(() => pad.fit());
  return section;
}
