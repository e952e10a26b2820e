// The queue of the officer's actions: each is stored on the phone (IndexedDB) with its request_id,
// chosen when the officer acts, and sent in order when the network allows; the service carries out
// a repeat only once. Versions chain: an inspection's first queued action carries the version the
// app last saw, each following one the version the previous one returned, so the officer's own
// actions never conflict with each other while anyone else's change in between is caught (409).
// A phone may be shared: each action keeps the officer who took it and is only ever sent while that
// officer is signed in; anyone else's wait for them.
import { ApiError, actingOfficer, identity, request as sendRequest } from "./api.js";
import * as db from "./db.js";

const listeners = new Set();
let running = null;
let retryTimer = 0;
let backoff = 0;
export const health = { signedOut: false, lastError: "" };

/** Calls `listener` whenever the queue or an inspection changes. */
export function onChange(listener) { listeners.add(listener); }
function changed(detail = {}) { for (const listener of listeners) listener(detail); }

/** The inspection as the app last saw it from the service. */
export async function seen(inspectionId) {
  return (await db.get("kv", `inspection:${inspectionId}`)) || null;
}

/** Keeps the service's answer as the inspection last seen (never older than what is kept). */
export async function remember(inspection) {
  if (!inspection || !inspection.id) return;
  const kept = await seen(inspection.id);
  if (kept && Number(kept.version || 0) > Number(inspection.version || 0)) return;
  await db.put("kv", inspection, `inspection:${inspection.id}`);
}

/** Every queued action of every officer, oldest first. */
async function everyAction() {
  return (await db.all("queue")).sort((a, b) => a.seq - b.seq);
}

/** The signed-in officer's queued actions, oldest first (none when nobody is signed in). */
export async function actions() {
  const officer = actingOfficer();
  return officer ? (await everyAction()).filter((action) => action.owner === officer) : [];
}

/** Queued actions of officers other than the signed-in one: [{owner, name, count}]. */
export async function othersWaiting() {
  const officer = actingOfficer();
  const byOwner = new Map();
  for (const action of await everyAction()) {
    if (action.owner === officer && officer) continue;
    const group = byOwner.get(action.owner) || { owner: action.owner || "", name: action.owner_name || "", count: 0 };
    group.count += 1;
    byOwner.set(action.owner, group);
  }
  return [...byOwner.values()];
}

/** Forgets what the last officer saw (kept answers, inspections, records) before someone else works
    on this phone; the unsent queue, its photos and its conflicts stay for their owner. */
export async function forgetSeen() {
  const shared = new Set(["get:config", "get:development-officers"]);
  for (const key of await db.keys("kv")) {
    if (!shared.has(key) && !String(key).startsWith("conflict:")) await db.remove("kv", key);
  }
  if ("caches" in self) await caches.delete("field-data-v1");
  changed();
}

/** Queues an action; `blob` (a photo, a signature) is kept on the phone until it is sent. */
export async function enqueue(action, blob) {
  const owner = actingOfficer();
  if (!owner) throw new Error("未登录，无法记录操作");
  const entry = { request_id: crypto.randomUUID(), state: "queued", error: "", details: [], created: Date.now(), ...action,
    owner, owner_name: identity.name || "" };
  if (entry.inspection_id && entry.kind !== "evidence" && entry.kind !== "sign") {
    const live = (await actions()).some((a) => a.inspection_id === entry.inspection_id && a.state !== "failed");
    entry.expected_version = live ? null : Number((await seen(entry.inspection_id))?.version || 0) || null;
  }
  for (const earlier of await actions()) {
    if (earlier.state === "failed" && replaces(entry, earlier)) await dismiss(earlier.seq);
  }
  if (blob) {
    entry.blob_key = `blob:${entry.request_id}`;
    await db.put("blobs", blob, entry.blob_key);
  }
  entry.seq = await db.put("queue", entry);
  changed({ inspection_id: entry.inspection_id });
  kick();
  return entry;
}

/** True when `action` is the officer's correction of the refused `earlier` one (acting again). */
function replaces(action, earlier) {
  if (earlier.kind !== action.kind || earlier.inspection_id !== action.inspection_id) return false;
  if (action.kind === "findings") {
    const codes = new Set(action.body.findings.map((f) => f.item_code));
    return earlier.body.findings.every((f) => codes.has(f.item_code));
  }
  return action.kind === "start" || action.kind === "complete" || action.kind === "sign";
}

/** Sends the queue now if it can (online, nothing already sending). */
export function kick() {
  if (!navigator.onLine || !actingOfficer()) return Promise.resolve();
  if (!running) running = replay().finally(() => { running = null; });
  return running;
}

function later() {
  clearTimeout(retryTimer);
  backoff = Math.min(backoff ? backoff * 2 : 2_000, 60_000);
  retryTimer = setTimeout(kick, backoff);
}

async function replay() {
  for (;;) {
    const queue = await actions();  // the signed-in officer's only: nobody's action goes out as someone else's
    const blocked = new Set(queue.filter((a) => a.state === "conflict").map((a) => a.inspection_id));
    const next = queue.find((a) => a.state === "queued" && !(a.inspection_id && blocked.has(a.inspection_id)));
    if (!next) { backoff = 0; return; }
    try {
      const answer = await send(next);
      health.signedOut = false;
      health.lastError = "";
      await succeeded(next, answer);
    } catch (error) {
      if (error instanceof OwnerGone) return;
      if (!(error instanceof ApiError)) { await failed(next, { message: String(error.message || error), details: [] }); continue; }
      if (error.status === 401) { health.signedOut = true; changed(); return; }
      if (error.retryable) { health.lastError = error.message; changed(); later(); return; }
      if (error.status === 409 && error.code === "ABORTED" && next.inspection_id) { await conflicted(next, error); continue; }
      await failed(next, error);
    }
  }
}

/** Thrown when the officer changed while an action was being prepared: it waits for its owner. */
class OwnerGone extends Error {}

async function send(action) {
  const id = encodeURIComponent(action.inspection_id || "");
  // The identity headers are taken when the request leaves: checked right before, after any wait.
  const request = (...args) => {
    if (action.owner !== actingOfficer()) throw new OwnerGone("操作人已退出登录");
    return sendRequest(...args);
  };
  const versioned = (body) => ({ ...body, request_id: action.request_id,
    ...(action.expected_version ? { expected_version: action.expected_version } : {}) });
  switch (action.kind) {
    case "start": return request("POST", `inspections/${id}/start`, { json: versioned(action.body) });
    case "findings": return request("POST", `inspections/${id}/findings`, { json: versioned(action.body) });
    case "complete": return request("POST", `inspections/${id}/complete`, { json: versioned(action.body) });
    case "evidence": {
      const blob = await db.get("blobs", action.blob_key);
      if (!blob) throw new Error("照片已不在本机，无法发送");
      const query = { request_id: action.request_id, ...action.query };
      return request("POST", `inspections/${id}/evidence`, { body: blob, contentType: blob.type, query });
    }
    case "sign": {
      const blob = await db.get("blobs", action.blob_key);
      if (!blob) throw new Error("签名已不在本机，无法发送");
      return request("POST", `inspections/${id}/record/sign`, { json: { ...action.body, request_id: action.request_id,
        signature_png_base64: await base64(blob) } });
    }
    case "rapid": return request("POST", "rapid-tests", { json: { ...action.body, request_id: action.request_id } });
    default: throw new Error(`未知操作 ${action.kind}`);
  }
}

function base64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",")[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

/** The next queued action of the same inspection takes `version` as its expected version. */
async function chain(action, version) {
  if (!action.inspection_id || !version) return;
  const next = (await everyAction()).find((a) => a.seq > action.seq && a.owner === action.owner && a.inspection_id === action.inspection_id
    && a.state === "queued" && a.kind !== "evidence" && a.kind !== "sign");
  if (next) { next.expected_version = Number(version); await db.put("queue", next); }
}

async function succeeded(action, answer) {
  const inspection = answer && (answer.inspection || (answer.id && answer.state ? answer : null));
  if (inspection) await remember(inspection);
  if (action.kind === "rapid") {
    const results = (await db.get("kv", "rapid:results")) || [];
    await db.put("kv", [answer, ...results].slice(0, 20), "rapid:results");
  }
  if (action.kind === "sign" && answer && answer.document) {
    await db.put("kv", answer.document, `signed:${action.inspection_id}`);
  }
  await chain(action, inspection ? inspection.version : action.expected_version);
  await db.remove("queue", action.seq);
  if (action.blob_key) await db.remove("blobs", action.blob_key);
  changed({ inspection_id: action.inspection_id, sent: action });
}

async function failed(action, error) {
  action.state = "failed";
  action.error = error.message;
  action.details = error.details || [];
  await db.put("queue", action);
  await chain(action, action.expected_version);
  changed({ inspection_id: action.inspection_id, failed: action });
}

async function conflicted(action, error) {
  // Nothing of this inspection goes further until the officer decides: the other person's change stays.
  for (const other of await everyAction()) {
    if (other.owner === action.owner && other.inspection_id === action.inspection_id && other.state === "queued") {
      other.state = "conflict";
      await db.put("queue", other);
    }
  }
  await db.put("kv", { theirs: action.expected_version, current: error.current, message: error.message, at: Date.now() },
    conflictKey(action.inspection_id, action.owner));
  changed({ inspection_id: action.inspection_id, conflict: true });
}

const conflictKey = (inspectionId, owner = actingOfficer()) => `conflict:${owner}:${inspectionId}`;

/** The signed-in officer's conflict recorded for an inspection, or null. */
export async function conflictOf(inspectionId) {
  return (await db.get("kv", conflictKey(inspectionId))) || null;
}

/** Drops the officer's stopped actions of an inspection; the service's version becomes the one seen. */
export async function discard(inspectionId) {
  const conflict = await conflictOf(inspectionId);
  for (const action of await actions()) {
    if (action.inspection_id === inspectionId && action.state === "conflict") {
      await db.remove("queue", action.seq);
      if (action.blob_key) await db.remove("blobs", action.blob_key);
    }
  }
  if (conflict && conflict.current) await db.put("kv", conflict.current, `inspection:${inspectionId}`);
  await db.remove("kv", conflictKey(inspectionId));
  changed({ inspection_id: inspectionId });
}

/** Sends the officer's stopped actions again on top of the service's version, as new requests. */
export async function reapply(inspectionId) {
  const conflict = await conflictOf(inspectionId);
  const current = conflict && conflict.current;
  if (current) await db.put("kv", current, `inspection:${inspectionId}`);
  let first = true;
  for (const action of await actions()) {
    if (action.inspection_id !== inspectionId || action.state !== "conflict") continue;
    action.request_id = crypto.randomUUID();
    action.state = "queued";
    if (action.kind !== "evidence" && action.kind !== "sign") {
      action.expected_version = first && current ? Number(current.version) : null;
      first = false;
    }
    await db.put("queue", action);
  }
  await db.remove("kv", conflictKey(inspectionId));
  changed({ inspection_id: inspectionId });
  return kick();
}

/** Removes a failed action (the officer corrects it by acting again). */
export async function dismiss(seq) {
  const action = await db.get("queue", seq);
  if (!action || action.owner !== actingOfficer()) return;  // only the officer's own
  await db.remove("queue", seq);
  if (action.blob_key) await db.remove("blobs", action.blob_key);
  changed({ inspection_id: action.inspection_id });
}

/** The counts the header shows: the signed-in officer's, and the groups of others' waiting for them. */
export async function summary() {
  const queue = await actions();
  return { waiting: queue.filter((a) => a.state === "queued").length,
    conflicts: queue.filter((a) => a.state === "conflict").length,
    failed: queue.filter((a) => a.state === "failed").length,
    others: await othersWaiting() };
}

/** "2 项属于其他人员（王伟/MH01-01），需其本人登录后发送", or "" when none. */
export function othersText(others) {
  const count = others.reduce((sum, group) => sum + group.count, 0);
  if (!count) return "";
  const who = others.map((group) => (group.name ? `${group.name}/${group.owner || "未知"}` : group.owner || "未知人员"));
  return `${count} 项属于其他人员（${who.join("、")}），需其本人登录后发送`;
}

/** Starts sending: now, whenever the network comes back, and every minute as a safety net. */
export function startSending() {
  addEventListener("online", () => { backoff = 0; kick(); });
  setInterval(() => { if (!retryTimer || !backoff) kick(); }, 60_000);
  kick();
}
