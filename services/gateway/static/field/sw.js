// The field app's service worker (scope /field/): the app shell from a versioned cache, so the app
// opens without a network; the field API's answers network-first with the last answer as fallback.
// Writes are never handled here: the app queues them itself (IndexedDB) and replays them.
const VERSION = "field-shell-v2";
const DATA = "field-data-v1";
const SHELL = ["/field/", "/field/field.css", "/field/app.js", "/field/api.js", "/field/auth.js", "/field/db.js",
  "/field/dom.js", "/field/evidence.js", "/field/inspection.js", "/field/labels.js", "/field/queue.js",
  "/field/rapid.js", "/field/work.js", "/field/manifest.webmanifest", "/field/icon.svg", "/field/icon-192.png"];
// The GET answers the app needs offline; attachments and documents are never kept.
const CACHED_API = /^\/api\/v1\/field\/(config|me|work|checklists|entities|officers|development-officers|inspections\/[^/]+|rapid-tests\/options)$/;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name.startsWith("field-") && name !== VERSION && name !== DATA)
      .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

async function networkFirst(request, cacheName) {
  const cache = await caches.open(cacheName);
  try {
    const answer = await fetch(request);
    if (answer.ok) await cache.put(request, answer.clone());
    return answer;
  } catch (error) {
    const kept = await cache.match(request, { ignoreVary: true });
    if (kept) return kept;
    throw error;
  }
}

async function shell(request) {
  // The page itself is always asked for first, so a new version of the app is picked up at once.
  if (request.mode === "navigate") {
    try {
      return await networkFirst(new Request("/field/"), VERSION);
    } catch {
      return new Response("离线，且本机没有保存应用。请联网后打开。", { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
    }
  }
  const cache = await caches.open(VERSION);
  const kept = await cache.match(request, { ignoreSearch: true });
  const fresh = fetch(request).then((answer) => {
    if (answer.ok) cache.put(request, answer.clone());
    return answer;
  });
  if (kept) {
    fresh.catch(() => {});  // refreshed in the background for the next start
    return kept;
  }
  return fresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (CACHED_API.test(url.pathname)) {
    event.respondWith(networkFirst(request, DATA));
  } else if (url.pathname === "/field/" || url.pathname.startsWith("/field/")) {
    event.respondWith(shell(request));
  }
});
