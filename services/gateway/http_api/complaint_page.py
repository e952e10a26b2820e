"""The citizen's page at /complaint (投诉举报): the form, and the answer to a plain HTML form post.

The page works without JavaScript: the browser posts the form (application/x-www-form-urlencoded)
to /api/v1/complaints, and the gateway answers with this page again, carrying the complaint number
or the form as it was sent with each error next to its field. static/complaint.js, when it runs,
sends the same form as JSON and shows the same answers in place. Every value written into the page
is HTML-escaped: it is whatever a stranger typed."""

from __future__ import annotations

import functools
import html
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path
from string import Template

from aiohttp import web

from services.common.errors import FieldViolation, InvalidArgument
from services.gateway.domain.complaint_form import (
    INVALID_FORM,
    KIND_NAMES,
    KINDS,
    LABELS,
    LIMITS,
    FormTokens,
    body_from_fields,
)

FORM_URLENCODED = "application/x-www-form-urlencoded"
JSON = "application/json"
TEMPLATE = Path(__file__).resolve().parent.parent / "static" / "complaint.html"
# The text fields of the page, in the order a citizen fills them in.
TEXT_FIELDS = ("complainant.name", "complainant.phone", "complainant.id_number", "respondent.name",
               "respondent.uscc", "respondent.address", "respondent.street", "category", "description",
               "amount_yuan")
# Where a violation of a field that has no input of its own is shown: the field it belongs with.
_INPUT_OF = {"kind": "kind-complaint", "complainant.anonymous": "complainant-anonymous"}
_MAX_FIELDS = len(TEXT_FIELDS) + 3  # the text fields, kind, anonymous, request_id
# The page renews its own form token, so a citizen reads what to do, not how the API works.
PAGE_RENEWED = "页面已过期，已为您更新，请再次提交"
TOKEN_SPENT = "这份表单此前已以不同内容提交过；页面已更新，再次提交将作为新的一件登记"
# An outage explained in an operator's English (e.g. complaints not configured) is not the citizen's.
NOT_NOW = "投诉受理服务暂时不可用，请稍后再试"
_CJK = re.compile(r"[\u4e00-\u9fff]")


def wants_page(request: web.Request) -> bool:
    """A plain form post from a browser (answered with the page), unless it asks for JSON only."""
    if request.content_type != FORM_URLENCODED:
        return False
    accept = request.headers.get("Accept", "")
    return not (JSON in accept and "text/html" not in accept)


def read_body(raw: bytes, content_type: str) -> dict:
    """The posted bytes -> the JSON body parse_form reads; INVALID_ARGUMENT on "body" if unreadable."""
    if content_type == FORM_URLENCODED:
        try:
            pairs = urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True,
                                           max_num_fields=_MAX_FIELDS, errors="strict")
        except (UnicodeDecodeError, ValueError):  # bad UTF-8 or percent-escapes, or too many fields
            raise InvalidArgument("表单编码有误", [FieldViolation("body", "须为 UTF-8 编码的表单字段")]) from None
        return body_from_fields(pairs)
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # bad UTF-8 or JSON, a number past int's limit, nesting too deep
        raise InvalidArgument("表单不是有效的 JSON",
                              [FieldViolation("body", "须为 UTF-8 编码的 JSON 对象")]) from None


def token_for_the_next_post(tokens: FormTokens, submitted: object, status: int) -> str:
    """The form token the page sent back carries: the citizen's own while it is good (a corrected
    form is still the same submission), a new one when it is not or was spent on another form."""
    if isinstance(submitted, str) and submitted and status != 409:
        try:
            tokens.check(submitted)
            return submitted
        except InvalidArgument:
            pass
    return tokens.issue()["token"]


def respond(status: int, page: str, headers: Mapping[str, str] | None = None) -> web.Response:
    """The page as an HTTP answer; never cached, since it carries a form token of one citizen."""
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store", **(headers or {})})


@functools.cache
def _template() -> Template:
    return Template(TEMPLATE.read_text(encoding="utf-8"))


def _key(path: str) -> str:
    return path.replace(".", "_")


def _id(path: str) -> str:
    return path.replace(".", "-").replace("_", "-")


def render(token: str, *, body: Mapping | None = None, message: str = "",
           violations: Iterable[FieldViolation] = (), receipt: Mapping | None = None) -> str:
    """The page: an empty form; the form as sent with `message` and each violation next to its
    field; or, with `receipt`, the complaint number in place of the form."""
    values = _flatten(body or {})
    found: dict[str, list[str]] = {}
    for violation in violations:
        found.setdefault(violation.field, []).append(
            PAGE_RENEWED if violation.field == "request_id" else violation.description)
    e = html.escape
    fill: dict[str, str] = {"request_id_value": e(token)}
    for path in (*TEXT_FIELDS, "kind", "complainant.anonymous"):
        key, problems = _key(path), found.get(path, [])
        fill[f"{key}_value"] = e(values.get(path, ""))
        fill[f"{key}_error"] = e("；".join(problems))
        fill[f"{key}_error_hidden"] = "" if problems else "hidden"
        fill[f"{key}_invalid"] = 'aria-invalid="true"' if problems else ""
        if path in LIMITS:
            fill[f"{key}_max"] = str(LIMITS[path])
    for kind in KINDS:
        fill[f"kind_{kind}_checked"] = "checked" if values.get("kind") == kind else ""
    fill["complainant_anonymous_checked"] = "checked" if values.get("complainant.anonymous") else ""
    items = []
    for field, problems in found.items():
        text = e(f"{LABELS.get(field, field)}：{'；'.join(problems)}")
        target = _INPUT_OF.get(field) or (_id(field) if field in TEXT_FIELDS else "")
        items.append(f'<li><a href="#f-{target}">{text}</a></li>' if target else f"<li>{text}</li>")
    shown = bool(message or items)
    title = INVALID_FORM if found else TOKEN_SPENT if "表单令牌" in message else message
    if title and not _CJK.search(title):
        title = NOT_NOW
    fill.update(summary_hidden="" if shown else "hidden", summary_autofocus="autofocus" if shown else "",
                summary_title=e(title), summary_items="".join(items))
    fill.update(_receipt(receipt))
    return _template().substitute(fill)


def _receipt(receipt: Mapping | None) -> dict[str, str]:
    if receipt is None:
        return {"receipt_hidden": "hidden", "receipt_autofocus": "", "receipt_title": "", "receipt_number": "",
                "receipt_due": "", "receipt_due_hidden": "hidden", "form_hidden": ""}
    kind = KIND_NAMES.get(str(receipt.get("kind", "")), "投诉举报")
    due = [f"应在 {receipt['acceptance_due']} 前决定是否受理"] if receipt.get("acceptance_due") else []
    due += [f"应在 {receipt['filing_decision_due']} 前决定是否立案"] if receipt.get("filing_decision_due") else []
    return {"receipt_hidden": "", "receipt_autofocus": "autofocus", "receipt_title": html.escape(f"已收到您的{kind}"),
            "receipt_number": html.escape(str(receipt.get("id", ""))), "receipt_due": html.escape("；".join(due)),
            "receipt_due_hidden": "" if due else "hidden", "form_hidden": "hidden"}


def _flatten(body: Mapping) -> dict[str, str]:
    """The JSON body as the page's field names and texts, to show a refused form as it was sent."""
    values: dict[str, str] = {}
    for name, value in body.items():
        if isinstance(value, Mapping) and name in ("complainant", "respondent"):
            for field, inner in value.items():
                values[f"{name}.{field}"] = inner if isinstance(inner, str | bool) else ""
        elif isinstance(value, str):
            values[str(name)] = value
    anonymous = values.get("complainant.anonymous")
    values["complainant.anonymous"] = "on" if anonymous is True or anonymous == "on" else ""
    return {name: value for name, value in values.items() if isinstance(value, str)}
