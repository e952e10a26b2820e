"""The duty list (事权清单): what the district's supervision must do, and who is responsible.

An import checks every row before writing any: a file with one bad row is refused whole, with
every problem named by its line, so the operator fixes the file in one pass.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.command_center.domain.groups import GROUPS
from services.command_center.domain.offices import get_office
from services.command_center.domain.workspace import Workspace
from services.command_center.models import DutyItem, OfficeResponsibility, RequestKey
from services.common.access import require_write
from services.common.context import BUREAU_LEADER, Caller
from services.common.errors import InvalidArgument, Violations
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token

COLUMNS = ("code", "title", "category", "legal_basis", "responsible_level", "group")
# Optional columns: a file written before items had scopes still imports (every office, real items).
OPTIONAL_COLUMNS = ("applies_to", "placeholder")
ALL_COLUMNS = COLUMNS + OPTIONAL_COLUMNS
BOOLEANS = {"": False, "false": False, "no": False, "0": False, "true": True, "yes": True, "1": True}
LEVELS = ("BUREAU", "OFFICE")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
MAX_ITEMS = 5000
MAX_BYTES = 2 * 1024 * 1024
LIMITS = {"title": 200, "category": 50, "legal_basis": 500}


@dataclass(frozen=True)
class DutyRow:
    """One checked row of an imported duty list, with the line of the file it came from."""

    line: int
    code: str
    title: str
    category: str
    legal_basis: str
    responsible_level: str
    group: str  # "" when no group is responsible yet
    applies_to: str = ""  # "" when every office is responsible
    placeholder: bool = False


def parse(content: bytes, file_format: str, scopes: Collection[str] = ()) -> list[DutyRow]:
    """The rows of a CSV or YAML duty list, or InvalidArgument naming every bad row by its line;
    `scopes`: the scopes an item may apply under."""
    if len(content) > MAX_BYTES:
        raise InvalidArgument.of("content", f"larger than {MAX_BYTES // 1024} KiB")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidArgument.of("content", "is not UTF-8 text") from None
    if file_format == "CSV":
        records = _csv_records(text)
    elif file_format == "YAML":
        records = _yaml_records(text)
    else:
        raise InvalidArgument.of("format", "must be CSV or YAML")
    if not records:
        raise InvalidArgument.of("content", "has no duty items")
    if len(records) > MAX_ITEMS:
        raise InvalidArgument.of("content", f"more than {MAX_ITEMS} duty items")
    violations = Violations()
    rows: list[DutyRow] = []
    seen: dict[str, int] = {}
    for line, record in records:
        row = _check_row(line, record, violations, scopes)
        if row is None:
            continue
        if row.code in seen:
            violations.add(f"rows[{line}].code", f"{row.code} repeats line {seen[row.code]}")
            continue
        seen[row.code] = line
        rows.append(row)
    violations.raise_if_any("the duty list has bad rows; nothing was imported")
    return rows


def _csv_records(text: str) -> list[tuple[int, Mapping[str, object]]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidArgument.of("content", f"CSV header lacks columns: {', '.join(missing)}")
    # DictReader's line_num is the physical line after reading the record: what an editor shows.
    return [(reader.line_num, {k: (v or "") for k, v in record.items() if k in ALL_COLUMNS}) for record in reader]


def _yaml_records(text: str) -> list[tuple[int, Mapping[str, object]]]:
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise InvalidArgument.of("content", f"is not valid YAML: {exc}") from None
    items = None
    if isinstance(document, yaml.MappingNode):
        items = next((value for key, value in document.value if key.value == "items"), None)
    if not isinstance(items, yaml.SequenceNode):
        raise InvalidArgument.of("content", "YAML must be a mapping with a list under 'items'")
    records: list[tuple[int, Mapping[str, object]]] = []
    for node in items.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            records.append((line, {"__error__": "each item must be a mapping"}))
            continue
        record: dict[str, object] = {}
        for key, value in node.value:
            record[key.value] = value.value if isinstance(value, yaml.ScalarNode) else None
        records.append((line, record))
    return records


def _check_row(line: int, record: Mapping[str, object], violations: Violations,
               scopes: Collection[str]) -> DutyRow | None:
    prefix = f"rows[{line}]"
    if "__error__" in record:
        violations.add(prefix, str(record["__error__"]))
        return None
    values: dict[str, str] = {}
    ok = True
    for column in ALL_COLUMNS:
        value = record.get(column)
        if value is not None and not isinstance(value, str):
            violations.add(f"{prefix}.{column}", "must be text")
            ok = False
            continue
        values[column] = (value or "").strip()
    unknown = set(record) - set(ALL_COLUMNS)
    if unknown:
        violations.add(prefix, f"unknown fields: {', '.join(sorted(unknown))}")
        ok = False
    if not CODE.match(values.get("code", "")):
        violations.add(f"{prefix}.code", "1-32 letters, digits, '.', '_' or '-'")
        ok = False
    for column, limit in LIMITS.items():
        if not values.get(column):
            violations.add(f"{prefix}.{column}", "must not be empty")
            ok = False
        elif len(values[column]) > limit:
            violations.add(f"{prefix}.{column}", f"at most {limit} characters")
            ok = False
    level = values.get("responsible_level", "").upper()
    if level not in LEVELS:
        violations.add(f"{prefix}.responsible_level", f"must be one of {', '.join(LEVELS)}")
        ok = False
    group = values.get("group", "").upper()
    if group and group not in GROUPS:
        violations.add(f"{prefix}.group", f"must be empty or one of {', '.join(GROUPS)}")
        ok = False
    applies_to = values.get("applies_to", "")
    if applies_to and applies_to not in scopes:
        violations.add(f"{prefix}.applies_to", f"unknown scope {applies_to}; known: {', '.join(sorted(scopes))}")
        ok = False
    placeholder = BOOLEANS.get(values.get("placeholder", "").lower())
    if placeholder is None:
        violations.add(f"{prefix}.placeholder", "must be true or false (or empty)")
        ok = False
    if not ok:
        return None
    return DutyRow(line=line, code=values["code"], title=values["title"], category=values["category"],
                   legal_basis=values["legal_basis"], responsible_level=level, group=group, applies_to=applies_to,
                   placeholder=bool(placeholder))


def store(session: Session, rows: list[DutyRow], *, replace: bool) -> int:
    """Writes the rows (merge by code, or replace the list); returns the list's size afterwards."""
    existing = {item.code: item for item in session.scalars(select(DutyItem))}
    if replace:
        keep = {row.code for row in rows}
        for code, stale in existing.items():
            if code not in keep:
                session.delete(stale)
    for row in rows:
        item = existing.get(row.code)
        if item is None:
            item = DutyItem(code=row.code)
            session.add(item)
        item.title, item.category, item.legal_basis = row.title, row.category, row.legal_basis
        item.responsible_level, item.group = row.responsible_level, row.group or None
        item.applies_to, item.placeholder = row.applies_to, row.placeholder
    session.flush()
    return len(rows) if replace else len(set(existing) | {row.code for row in rows})


class DutyList:
    """The district's duty list (事权清单): imported from a file by the bureau, read by everyone."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def import_duty_list(self, caller: Caller, request_id: str, content: bytes, file_format: str,
                         replace: bool) -> tuple[int, int]:
        """Imports a whole file (bureau leaders only); returns the rows imported and the list's size after."""
        require_write(caller, None, district_roles=(BUREAU_LEADER,))
        rows = parse(content, file_format, self.workspace.scopes)

        def write(session: Session) -> str:
            total = store(session, rows, replace=replace)
            self.workspace.touched(session, None)
            return f"{len(rows)}/{total}"

        def counts(_session: Session, result: str) -> str:
            return result

        result = run_once(self.workspace.store, RequestKey, request_id, "ImportDutyList", write, counts)
        imported, total = result.split("/")
        return int(imported), int(total)

    def list_duty_items(self, page: Page, category: str | None, level: str | None, group: str | None,
                        applies_to: str | None = None, office_id: str | None = None) -> ListResult[DutyItem]:
        """The duty items, by category, responsible level, group or scope; or those one office is
        responsible for (the office-level items applying to every office or under its scopes)."""
        query = select(DutyItem).where(DutyItem.code > page.after).order_by(DutyItem.code).limit(page.size)
        if applies_to is not None:
            query = query.where(DutyItem.applies_to == applies_to)
        if office_id is not None:
            declared = select(OfficeResponsibility.scope).where(OfficeResponsibility.office_id == office_id)
            query = query.where(DutyItem.responsible_level == "OFFICE",
                                (DutyItem.applies_to == "") | DutyItem.applies_to.in_(declared))
        if category:
            query = query.where(DutyItem.category == category)
        if level:
            query = query.where(DutyItem.responsible_level == level)
        if group:
            query = query.where(DutyItem.group == group)
        with self.workspace.store.read() as session:
            if office_id is not None:
                get_office(session, office_id)
            rows = list(session.scalars(query))
        return ListResult(rows, next_token(rows[-1].code if rows else None, len(rows), page))
