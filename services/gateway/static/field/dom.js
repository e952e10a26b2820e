// Small DOM helpers: elements are built, never parsed from strings, so no text from the server
// can become markup.

/** An element with attributes (on* keys become listeners) and children (strings become text). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Says `text` to screen readers at once. */
export function announce(text) {
  const region = document.getElementById("announce");
  region.textContent = "";
  // A fresh text node after a clear makes screen readers speak it even when it repeats.
  setTimeout(() => { region.textContent = text; }, 30);
}

let leaving = [];

/** Runs `cleanup` when the view is next replaced (object URLs revoked, observers stopped). */
export function onLeave(cleanup) { leaving.push(cleanup); }

/** A blob: URL for `blob` that lives as long as the current view. */
export function viewUrl(blob) {
  const url = URL.createObjectURL(blob);
  onLeave(() => URL.revokeObjectURL(url));
  return url;
}

/** Replaces the main view's content. */
export function show(...children) {
  const done = leaving;
  leaving = [];
  for (const cleanup of done) cleanup();
  const view = document.getElementById("view");
  view.replaceChildren(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
  view.setAttribute("aria-busy", "false");
}

/** "2026-12-07" from a google.type.Date as JSON, or "" */
export function dayText(date) {
  if (!date || !date.year) return "";
  return `${date.year}-${String(date.month).padStart(2, "0")}-${String(date.day).padStart(2, "0")}`;
}

/** A timestamp in Shanghai time, "2026-12-07 09:30". */
export function timeText(iso) {
  if (!iso) return "";
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return "";
  return moment.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false, year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).replaceAll("/", "-");
}

/** Today's date in Shanghai as YYYY-MM-DD. */
export function todayText() {
  return new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
}
