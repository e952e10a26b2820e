// The gateway's field API: who is acting (a development officer's id, or an OIDC access token),
// JSON requests, and errors as the gateway shapes them.
import * as db from "./db.js";

const BASE = "/api/v1/field";
export const identity = { mode: "off", officerId: localStorage.getItem("field.officer") || "", token: "", name: "" };

/** A refusal of the gateway (status > 0) or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, body, fallback) {
    const error = (body && body.error) || {};
    super(error.message || fallback || (status ? `请求失败（${status}）` : "网络不可用"));
    this.status = status;
    this.code = error.status || "";
    this.details = error.details || [];
    this.current = error.current || (body && body.current) || null;
  }

  /** True when nothing reached the gateway or it could not answer: the action stays queued. */
  get retryable() { return this.status === 0 || this.status >= 500 || this.status === 429 || this.status === 408; }
}

/** The headers that say who acts. */
export function authHeaders() {
  if (identity.mode === "jwt" && identity.token) return { Authorization: `Bearer ${identity.token}` };
  if (identity.mode === "off" && identity.officerId) return { "X-Development-Officer": identity.officerId };
  return {};
}

/** The officer acting now: the development officer chosen, or the access token's subject; "" when
    nobody is signed in. Queued actions are tied to it so they are only ever sent as their own officer's. */
export function actingOfficer() {
  if (identity.mode === "off") return identity.officerId || "";
  try {
    const payload = identity.token.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    return String(JSON.parse(atob(payload)).sub || "");
  } catch {
    return "";
  }
}

/** Sends a request to `path` (under /api/v1/field unless absolute); answers the parsed JSON. */
export async function request(method, path, { json, body, contentType, query } = {}) {
  let url = path.startsWith("/") ? path : `${BASE}/${path}`;
  if (query) url += `?${new URLSearchParams(query)}`;
  const headers = { Accept: "application/json", ...authHeaders() };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (contentType) headers["Content-Type"] = contentType;
  let reply;
  try {
    reply = await fetch(url, { method, headers, body, credentials: "omit", cache: "no-store" });
  } catch {
    throw new ApiError(0, null, "网络不可用");
  }
  const text = await reply.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  if (!reply.ok) throw new ApiError(reply.status, parsed);
  return parsed;
}

/** A GET the app also needs offline: the last answer kept on the phone when the network fails. */
export async function read(path, { query } = {}) {
  const key = `get:${path}${query ? `?${new URLSearchParams(query)}` : ""}`;
  try {
    const answer = await request("GET", path, { query });
    await db.put("kv", { answer, at: Date.now() }, key);
    return answer;
  } catch (error) {
    if (!error.retryable) throw error;
    const kept = await db.get("kv", key);
    if (kept) return kept.answer;
    throw error;
  }
}
