// Signing in. AUTH_MODE=off: a development login, a demo officer chosen from a list and named in
// X-Development-Officer. AUTH_MODE=jwt: the bureau's identity provider by OIDC authorization code
// with PKCE (S256), the access token then sent as Bearer and refreshed before it expires.
import { identity } from "./api.js";

const TOKENS = "field.tokens";
const PENDING = "field.oidc";  // state and verifier, in sessionStorage for the round trip only
let refreshTimer = 0;

function base64url(bytes) {
  let text = "";
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function randomText(size = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

function redirectUri() {
  return `${location.origin}/field/`;
}

/** The provider's endpoints: as configured, else from its discovery document. */
async function endpoints(oidc) {
  if (oidc.authorization_endpoint && oidc.token_endpoint) return oidc;
  const issuer = oidc.issuer.replace(/\/$/, "");
  const reply = await fetch(`${issuer}/.well-known/openid-configuration`, { credentials: "omit" });
  if (!reply.ok) throw new Error(`无法读取身份认证服务的配置（${reply.status}）`);
  const found = await reply.json();
  return { ...oidc, authorization_endpoint: oidc.authorization_endpoint || found.authorization_endpoint,
    token_endpoint: oidc.token_endpoint || found.token_endpoint };
}

/** Sets up the identity from what the phone keeps; finishes an OIDC redirect when there is one. */
export async function restore(config) {
  identity.mode = config.auth_mode === "jwt" ? "jwt" : "off";
  if (identity.mode === "off") {
    identity.officerId = localStorage.getItem("field.officer") || "";
    return Boolean(identity.officerId);
  }
  const params = new URLSearchParams(location.search);
  if (params.has("code") || params.has("error")) {
    await finishRedirect(config.oidc, params);
  }
  const tokens = JSON.parse(localStorage.getItem(TOKENS) || "null");
  if (!tokens) return false;
  identity.token = tokens.access_token;
  scheduleRefresh(config.oidc, tokens);
  if (tokens.expires_at && tokens.expires_at < Date.now() && navigator.onLine) {
    return refresh(config.oidc);
  }
  return true;
}

/** Goes to the identity provider's sign-in page. */
export async function startSignIn(oidc) {
  const found = await endpoints(oidc);
  const verifier = randomText(48);
  const state = randomText(16);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ state, verifier, token_endpoint: found.token_endpoint }));
  const query = new URLSearchParams({ response_type: "code", client_id: oidc.client_id, redirect_uri: redirectUri(),
    scope: oidc.scopes || "openid profile", state, code_challenge: challenge, code_challenge_method: "S256" });
  location.assign(`${found.authorization_endpoint}?${query}`);
}

async function finishRedirect(oidc, params) {
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, "", "/field/");
  if (params.has("error")) throw new Error(`登录被拒绝：${params.get("error_description") || params.get("error")}`);
  if (!pending || pending.state !== params.get("state")) throw new Error("登录回调无效（state 不符），请重新登录");
  const tokens = await tokenRequest(pending.token_endpoint, { grant_type: "authorization_code", code: params.get("code"),
    redirect_uri: redirectUri(), client_id: oidc.client_id, code_verifier: pending.verifier });
  keep(tokens, oidc);
}

async function tokenRequest(url, fields) {
  const reply = await fetch(url, { method: "POST", credentials: "omit",
    headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields) });
  const body = await reply.json().catch(() => ({}));
  if (!reply.ok || !body.access_token) throw new Error(`登录失败：${body.error_description || body.error || reply.status}`);
  return body;
}

function keep(answer, oidc) {
  const old = JSON.parse(localStorage.getItem(TOKENS) || "null") || {};
  const tokens = { access_token: answer.access_token, refresh_token: answer.refresh_token || old.refresh_token || "",
    expires_at: answer.expires_in ? Date.now() + answer.expires_in * 1000 : 0 };
  localStorage.setItem(TOKENS, JSON.stringify(tokens));
  identity.token = tokens.access_token;
  scheduleRefresh(oidc, tokens);
}

function scheduleRefresh(oidc, tokens) {
  clearTimeout(refreshTimer);
  if (!tokens.refresh_token || !tokens.expires_at) return;
  const wait = Math.max(5_000, tokens.expires_at - Date.now() - 60_000);
  refreshTimer = setTimeout(() => { if (navigator.onLine) refresh(oidc).catch(() => {}); else scheduleRefresh(oidc, { ...tokens, expires_at: Date.now() + 90_000 }); }, wait);
}

/** A new access token from the refresh token; false when there is none or it was refused. */
export async function refresh(oidc) {
  const tokens = JSON.parse(localStorage.getItem(TOKENS) || "null");
  if (!tokens || !tokens.refresh_token) return false;
  try {
    const found = await endpoints(oidc);
    keep(await tokenRequest(found.token_endpoint, { grant_type: "refresh_token", refresh_token: tokens.refresh_token,
      client_id: oidc.client_id }), oidc);
    return true;
  } catch {
    return false;
  }
}

/** Chooses a demo officer (development login). */
export function chooseOfficer(officerId) {
  localStorage.setItem("field.officer", officerId);
  identity.officerId = officerId;
}

/** Forgets who is signed in on this phone (the queue stays for the next sign-in). */
export function signOut() {
  clearTimeout(refreshTimer);
  localStorage.removeItem("field.officer");
  localStorage.removeItem(TOKENS);
  identity.officerId = "";
  identity.token = "";
  identity.name = "";
}
