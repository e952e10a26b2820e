// The citizen's page, enhanced: the form is sent as JSON and the answer shown in place (the number,
// or each error next to its field and in a summary that takes the focus, so a screen reader reads
// it). Without this script the same form posts itself and the gateway answers with the page.
"use strict";

(() => {
  const form = document.getElementById("complaint-form");
  if (!form) return;
  const summary = document.getElementById("error-summary");
  const summaryTitle = document.getElementById("error-summary-title");
  const summaryList = document.getElementById("error-summary-list");
  const receipt = document.getElementById("receipt");
  const submit = document.getElementById("submit");
  const anonymous = document.getElementById("f-complainant-anonymous");
  const personal = document.getElementById("personal");
  const token = form.querySelector('input[name="request_id"]');
  const INVALID_FORM = "表单有误，请按提示修改";
  const PAGE_RENEWED = "页面已过期，已为您更新，请再次提交";
  const TOKEN_SPENT = "这份表单此前已以不同内容提交过；页面已更新，再次提交将作为新的一件登记";
  const LABELS = {
    kind: "类型", "complainant.name": "姓名", "complainant.phone": "联系电话", "complainant.id_number": "身份证号",
    "complainant.anonymous": "匿名", "respondent.name": "经营者名称", "respondent.uscc": "统一社会信用代码",
    "respondent.address": "经营地址", "respondent.street": "所在街镇", category: "问题类别",
    description: "情况描述", amount_yuan: "涉及金额（元）", request_id: "表单令牌",
  };
  const KIND_NAMES = { complaint: "投诉", report: "举报", inquiry: "咨询" };
  const domId = (field) => field.replace(/[._]/g, "-");
  let busy = false;

  const kind = () => form.querySelector('input[name="kind"]:checked')?.value || "";

  function inputsOf(field) {
    if (field === "kind") return [...form.querySelectorAll('input[name="kind"]')];
    const input = document.getElementById(`f-${domId(field)}`);
    return input ? [input] : [];
  }

  // What is required follows the kind and anonymity, as complaints' intake rules say.
  function syncChoices() {
    const chosen = kind();
    anonymous.disabled = chosen === "complaint";  // a complaint's outcome is owed to someone
    if (anonymous.disabled) anonymous.checked = false;
    personal.hidden = anonymous.checked;
    for (const input of personal.querySelectorAll("input")) input.disabled = anonymous.checked;
    for (const field of ["complainant.name", "complainant.phone"]) inputsOf(field)[0].required = !anonymous.checked;
    const namesBusiness = chosen !== "inquiry";
    for (const mark of form.querySelectorAll(".business-need")) mark.hidden = !namesBusiness;
    for (const field of ["respondent.name", "respondent.address"]) inputsOf(field)[0].required = namesBusiness;
  }

  function collect() {
    const body = {};
    for (const element of form.elements) {
      if (!element.name || element.disabled || (element.type === "radio" && !element.checked)) continue;
      const value = element.type === "checkbox" ? element.checked : element.value;
      const [group, field] = element.name.split(".");
      if (field) (body[group] ||= {})[field] = value;
      else body[group] = value;
    }
    return body;
  }

  function clearErrors() {
    for (const error of form.querySelectorAll(".field-error")) { error.textContent = ""; error.hidden = true; }
    for (const input of form.querySelectorAll('[aria-invalid="true"]')) input.removeAttribute("aria-invalid");
    summaryList.replaceChildren();
    summary.hidden = true;
  }

  function showErrors(title, details) {
    const items = details.map(({ field, description }) => {
      const text = field === "request_id" ? PAGE_RENEWED : description;
      const error = document.getElementById(`e-${domId(field)}`);
      if (error && field !== "request_id") {
        error.textContent = error.textContent ? `${error.textContent}；${text}` : text;
        error.hidden = false;
      }
      const inputs = inputsOf(field);
      for (const input of inputs) input.setAttribute("aria-invalid", "true");
      const item = document.createElement("li");
      const line = `${LABELS[field] || field}：${text}`;
      if (inputs.length) {
        const link = document.createElement("a");
        link.href = `#${inputs[0].id}`;
        link.textContent = line;
        item.append(link);
      } else {
        item.textContent = line;
      }
      return item;
    });
    summaryTitle.textContent = title;
    summaryList.replaceChildren(...items);
    summary.hidden = false;
    summary.focus();
  }

  function showReceipt(answer) {
    document.getElementById("receipt-title").textContent = `已收到您的${KIND_NAMES[answer.kind] || "投诉举报"}`;
    document.getElementById("receipt-number").textContent = answer.id;
    const due = [];
    if (answer.acceptance_due) due.push(`应在 ${answer.acceptance_due} 前决定是否受理`);
    if (answer.filing_decision_due) due.push(`应在 ${answer.filing_decision_due} 前决定是否立案`);
    const dueLine = document.getElementById("receipt-due");
    dueLine.textContent = due.join("；");
    dueLine.hidden = due.length === 0;
    summary.hidden = true;
    form.hidden = true;
    receipt.hidden = false;
    receipt.focus();
  }

  async function renewToken() {
    try {
      const reply = await fetch("/api/v1/complaints/form-token", { headers: { Accept: "application/json" } });
      if (reply.ok) token.value = (await reply.json()).token;
    } catch {
      token.value = "";  // without a token the gateway still takes the form, as a new one
    }
  }

  function titleOf(status, error, details) {
    if (status === 409 && (error.message || "").includes("表单令牌")) return TOKEN_SPENT;
    if (details.length) return INVALID_FORM;
    // An outage explained in an operator's English is not the citizen's.
    if (/[\u4e00-\u9fff]/.test(error.message || "")) return error.message;
    return status >= 500 ? "投诉受理服务暂时不可用，请稍后再试" : `提交未成功（${status}），请稍后再试`;
  }

  async function post() {
    const reply = await fetch(form.action, {
      method: "POST", body: JSON.stringify(collect()),
      headers: { "Content-Type": "application/json", Accept: "application/json" },
    });
    return { reply, answer: await reply.json().catch(() => ({})) };
  }

  async function send(event) {
    event.preventDefault();
    if (busy) return;
    busy = true;
    submit.disabled = true;
    submit.textContent = "正在提交…";
    form.setAttribute("aria-busy", "true");
    clearErrors();
    try {
      let { reply, answer } = await post();
      const onlyTheToken = (answer.error?.details || []).length > 0
        && answer.error.details.every((detail) => detail.field === "request_id");
      if (reply.status === 400 && onlyTheToken) {
        // A page left open past its token's lifetime: the form itself is fine, so send it again
        // with a new token rather than asking the citizen to.
        await renewToken();
        ({ reply, answer } = await post());
      }
      if (reply.status === 201) {
        showReceipt(answer);
        return;
      }
      const error = answer.error || {};
      const details = error.details || [];
      if (reply.status === 409 || details.some((detail) => detail.field === "request_id")) await renewToken();
      showErrors(titleOf(reply.status, error, details), details);
    } catch {
      showErrors("网络连接失败，请检查网络后再次提交", []);
    } finally {
      busy = false;
      submit.disabled = false;
      submit.textContent = "提交";
      form.removeAttribute("aria-busy");
    }
  }

  // A summary link takes the focus to its field, not only the view (a fragment link does not).
  summaryList.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    const target = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!target) return;
    event.preventDefault();
    target.focus();
    target.scrollIntoView({ block: "center" });
  });
  form.addEventListener("change", (event) => {
    if (event.target.name === "kind" || event.target === anonymous) syncChoices();
  });
  form.addEventListener("submit", send);
  syncChoices();
})();

// The status lookup (办理进度查询): the number and the phone's last four digits, answered with the
// state and the dates only. Every miss reads the same, as the gateway answers it.
(() => {
  const form = document.getElementById("status-form");
  const answer = document.getElementById("status-answer");
  if (!form || !answer) return;
  const number = document.getElementById("s-number");
  const last4 = document.getElementById("s-last4");
  const receiptNumber = document.getElementById("receipt-number");
  const show = (nodes) => {
    answer.replaceChildren(...nodes);
    answer.hidden = false;
    answer.focus();
  };
  const line = (text, className) => {
    const p = document.createElement("p");
    p.textContent = text;
    if (className) p.className = className;
    return p;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const wanted = number.value.trim() || (receiptNumber ? receiptNumber.textContent.trim() : "");
    const digits = last4.value.trim();
    if (!wanted || !/^[0-9]{4}$/.test(digits)) {
      show([line("请填写投诉编号和登记手机号码的后四位数字", "field-error")]);
      return;
    }
    let reply;
    try {
      reply = await fetch(`/api/v1/public/complaints/${encodeURIComponent(wanted)}/status?phone_last4=${digits}`,
        { headers: { Accept: "application/json" } });
    } catch (error) {
      show([line("网络异常，请稍后再试", "field-error")]);
      return;
    }
    const body = await reply.json().catch(() => ({}));
    if (!reply.ok) {
      show([line(body?.error?.message || "查询失败，请稍后再试", "field-error")]);
      return;
    }
    const nodes = [line(`状态：${body.state_name}`, "status-state"), line(`登记日期：${body.received_on}`)];
    const list = document.createElement("ul");
    for (const clock of body.deadlines || []) {
      const flags = [];
      if (clock.provisional) flags.push("节假日安排未公布，日期暂定");
      if (clock.provisional_rule) flags.push("依据的办理时限规定尚待确认，日期暂定");
      const done = clock.met_on ? `，${clock.met_on} 完成` : "";
      const item = document.createElement("li");
      item.textContent = `${clock.name}：${clock.due_date} 前（${clock.status_name}${done}）` +
        (flags.length ? `；${flags.join("；")}` : "");
      list.append(item);
    }
    nodes.push(list);
    show(nodes);
  });
})();
