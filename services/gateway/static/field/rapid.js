// 快检: the rapid-test room's form. Sent through the queue like every action; a positive goes on
// to enforcement, and the screen says so.
import { read } from "./api.js";
import * as db from "./db.js";
import { announce, h, show, timeText } from "./dom.js";
import { actions, enqueue } from "./queue.js";

/** A text field with suggestions (facilities has no catalogue of items and methods: the office's
    earlier tests give them). */
function suggested(id, label, pairs) {
  return [h("label", { for: id }, label), h("input", { type: "text", id, name: id, list: `${id}-choices`, autocomplete: "off" }),
    h("datalist", { id: `${id}-choices` }, pairs.map(([value, text]) => h("option", { value }, text)))];
}

function input(id, label, attributes = {}) {
  return [h("label", { for: id }, label), h("input", { type: "text", id, name: id, ...attributes })];
}

function equipmentField(equipment) {
  if (!equipment.length) return input("equipment", "检测设备编号");
  return [h("label", { for: "equipment" }, "检测设备"), h("select", { id: "equipment", name: "equipment" },
    h("option", { value: "" }, "请选择"), equipment.map((device) => h("option", { value: device.id },
      [device.category_name, device.model, device.serial_no].filter(Boolean).join(" · ") || device.id)))];
}

function resultLine(test) {
  const positive = String(test.result || "").endsWith("POSITIVE");
  return h("li", { class: "card" },
    h("h3", {}, `${test.sample?.name || ""} · ${test.item_name || test.item || ""}`),
    h("p", { class: positive ? "error" : "ok" }, positive
      ? "阳性：结果将转执法处理（复检期内经营者可申请复检）" : "阴性"),
    h("p", { class: "meta" }, `读数 ${test.reading ?? ""} ${test.unit || ""} · ${timeText(test.tested_at)}`));
}

/** Shows the rapid-test form and the latest results. */
export async function rapidView() {
  let options = {};
  let problem = "";
  try { options = await read("rapid-tests/options"); } catch (error) { problem = error.message; }
  const results = (await db.get("kv", "rapid:results")) || [];
  const waiting = (await actions()).filter((a) => a.kind === "rapid");
  const message = h("p", { class: "error", role: "alert", id: "rapid-error" });
  const form = h("form", { id: "rapid-form", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    // By id, not form.elements[name]: "item" is a method of the elements collection.
    const field = (name) => form.querySelector(`#${name}`);
    const value = (name) => field(name).value.trim();
    const missing = ["sample-name", "item", "method", "equipment", "reading"].filter((name) => !value(name));
    if (missing.length) {
      message.textContent = "请填写样品名称、检测项目、方法、设备和读数";
      field(missing[0]).focus();
      return;
    }
    const reading = Number(value("reading"));
    if (!Number.isFinite(reading)) { message.textContent = "读数须为数字"; field("reading").focus(); return; }
    await enqueue({ kind: "rapid", label: value("sample-name"), body: {
      sample: { name: value("sample-name"), vendor_name: value("vendor"), market: value("market"), stall: value("stall") },
      item: value("item"), method: value("method"), equipment_id: value("equipment"), reading,
      tested_at: new Date().toISOString() } });
    announce("快检记录已保存，等待发送");
    rapidView();
  } },
  ...input("sample-name", "样品名称（如：青菜）"), ...input("vendor", "经营者名称"),
  ...input("market", "市场"), ...input("stall", "摊位号"),
  ...suggested("item", "检测项目（如 pesticide_residue）", (options.items || []).map((i) => [i.item, i.name || i.item])),
  ...suggested("method", "检测方法（如 enzyme_inhibition）", [...new Map((options.items || []).flatMap((i) => i.methods || [])
    .map((m) => [m.method, [m.method, m.unit ? `${m.method}（${m.unit}）` : m.method]])).values()]),
  ...equipmentField(options.equipment || []),
  ...input("reading", "读数", { inputmode: "decimal" }),
  message, h("button", { type: "submit", class: "primary", id: "rapid-submit" }, "保存快检结果"));
  show(h("h2", {}, "快检"), problem ? h("p", { class: "error" }, `无法载入快检选项：${problem}`) : null, form,
    h("h3", {}, "最近的快检"),
    waiting.length ? h("p", { class: "notice" }, `${waiting.length} 条快检记录等待发送`) : null,
    results.length ? h("ul", { class: "plain", id: "rapid-results" }, results.map(resultLine)) : h("p", { class: "hint" }, "还没有快检记录。"));
}
