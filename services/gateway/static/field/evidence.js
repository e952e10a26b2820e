// Evidence taken on the phone: photos made smaller before they are kept (longest side 1600 px,
// JPEG 0.8) and hashed (SHA-256, the attachment store's key); the party's signature drawn with
// a finger on a canvas and kept as PNG.
import { h } from "./dom.js";

const LONGEST_SIDE = 1600;
let lastPosition = null;

/** The phone's position now (or the last one known), never waiting long; null when refused. */
export function position({ timeout = 8000 } = {}) {
  return new Promise((resolve) => {
    if (!("geolocation" in navigator)) { resolve({ error: "这部手机无法定位" }); return; }
    navigator.geolocation.getCurrentPosition(
      (found) => {
        lastPosition = { latitude: found.coords.latitude, longitude: found.coords.longitude, accuracy: found.coords.accuracy };
        resolve(lastPosition);
      },
      (error) => resolve(lastPosition || { error: error.code === 1
        ? "定位权限被拒绝：检查须记录现场位置，请在浏览器的网站设置中允许本应用使用位置，再点“重新定位”"
        : "暂时无法获取位置：请到开阔处点“重新定位”重试" }),
      { enableHighAccuracy: true, timeout, maximumAge: 30_000 });
  });
}

/** Hex SHA-256 of a Blob. */
export async function sha256(blob) {
  const digest = await crypto.subtle.digest("SHA-256", await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The photo as a JPEG at most 1600 px on its longest side. */
export async function shrink(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, LONGEST_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((resolve, reject) => canvas.toBlob(
    (blob) => (blob ? resolve(blob) : reject(new Error("照片无法处理"))), "image/jpeg", 0.8));
}

/** A photo ready to queue: the smaller JPEG, its hash, and when and where it was taken. */
export async function capture(file) {
  const capturedAt = new Date().toISOString();
  const [blob, where] = await Promise.all([shrink(file), position({ timeout: 4000 })]);
  return { blob, sha256: await sha256(blob), capture_time: capturedAt, position: where && !where.error ? where : null };
}

/** A signature pad: a canvas drawn on with a finger, a pen or a mouse (pointer events). */
export function signaturePad() {
  const canvas = h("canvas", { class: "pad", role: "img", "aria-label": "当事人签名区：请用手指在此签名" });
  let drawing = false;
  let strokes = 0;
  const context = () => canvas.getContext("2d");
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * (canvas.width / box.width), (event.clientY - box.top) * (canvas.height / box.height)];
  };
  const fit = () => {
    const box = canvas.getBoundingClientRect();
    if (!box.width || canvas.width === Math.round(box.width * 2)) return;
    canvas.width = Math.round(box.width * 2);
    canvas.height = Math.round(box.height * 2);
    const c = context();
    c.fillStyle = "#fff";
    c.fillRect(0, 0, canvas.width, canvas.height);
  };
  canvas.addEventListener("pointerdown", (event) => {
    fit();
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const c = context();
    c.lineWidth = 5; c.lineCap = "round"; c.lineJoin = "round"; c.strokeStyle = "#111";
    c.beginPath();
    c.moveTo(...point(event));
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const c = context();
    c.lineTo(...point(event));
    c.stroke();
    strokes += 1;
    event.preventDefault();
  });
  const stop = () => { drawing = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  return {
    canvas,
    fit,
    /** True once something was drawn. */
    get signed() { return strokes > 2; },
    clear() { strokes = 0; canvas.width = 0; fit(); },
    /** The drawing as a PNG Blob. */
    png() { return new Promise((resolve) => canvas.toBlob(resolve, "image/png")); },
  };
}
