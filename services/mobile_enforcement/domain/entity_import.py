"""Bulk registration of entities from a CSV file, with a report of every refused row.

A file that cannot be read at all (not UTF-8, wrong header, too many rows) is refused whole and
registers nothing; otherwise every valid row is registered and every other row is reported with
its line and field, so the sender fixes those and sends them again.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.context import Caller
from services.common.errors import InvalidArgument, NotFound, PermissionDenied, Violations
from services.common.idempotency import run_once
from services.mobile_enforcement.domain import published
from services.mobile_enforcement.domain.directory import office_for_street
from services.mobile_enforcement.domain.entities import Entities, EntityInput, new_entity, validate
from services.mobile_enforcement.domain.vocabulary import CATEGORIES, RISK_LABELS
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.models import Entity, ImportReport, RequestKey

COLUMNS = ("uscc", "name", "category", "address", "street", "risk_level", "key_supervision")
MAX_ROWS = 20_000
_CATEGORY_OF = {**{c: c for c in CATEGORIES}, **{label: c for c, label in CATEGORIES.items()}}
_RISK_OF = {**{r: r for r in RISK_LABELS}, **{label: r for r, label in RISK_LABELS.items()}}
_FLAG_OF = {"": False, "false": False, "true": True, "否": False, "是": True}


@dataclass(frozen=True)
class RowError:
    """A refused row of an import: its line, the field at fault and why."""

    line: int
    field: str
    description: str


@dataclass(frozen=True)
class ImportResult:
    """What an import did: how many entities it registered, and every row it refused."""

    imported_count: int
    rejected_rows: list[RowError]


def read_rows(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) for every data row; INVALID_ARGUMENT when the file itself is unreadable."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidArgument.of("content", "is not UTF-8 text") from None
    # strict: a quote left open is an error, not a row swallowing the rest of the file.
    reader = csv.DictReader(io.StringIO(text), strict=True)
    header = [name.strip() for name in reader.fieldnames or []]
    if sorted(header) != sorted(COLUMNS):
        raise InvalidArgument.of("content", f"the header must name the columns {','.join(COLUMNS)}")
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for row in reader:
            if reader.line_num - 1 > MAX_ROWS:
                raise InvalidArgument.of("content", f"at most {MAX_ROWS} rows per file")
            if None in row or any(value is None for value in row.values()):
                rows.append((reader.line_num, {}))  # a row with too many or too few cells
            else:
                rows.append((reader.line_num, {k: v.strip() for k, v in row.items()}))
    except csv.Error as exc:
        raise InvalidArgument.of("content", f"line {reader.line_num}: {exc}") from None
    return rows


def _entity_input(row: dict[str, str]) -> tuple[EntityInput | None, list[RowError]]:
    problems: list[tuple[str, str]] = []
    category = _CATEGORY_OF.get(row["category"])
    if category is None:
        problems.append(("category", f"{row['category']!r} is not one of the 12 key object types"))
    risk = _RISK_OF.get(row["risk_level"])
    if risk is None:
        problems.append(("risk_level", f"{row['risk_level']!r} is not one of {', '.join(RISK_LABELS)}"))
    key = _FLAG_OF.get(row["key_supervision"].lower())
    if key is None:
        problems.append(("key_supervision", "must be true or false"))
    violations = Violations()
    # Stand-ins for a category or tier already reported, so validate() reports only the other fields.
    data = validate(EntityInput(row["uscc"], row["name"], category or next(iter(CATEGORIES)), row["address"],
                                row["street"], risk or next(iter(RISK_LABELS)), bool(key)), violations, prefix="")
    problems += [(v.field, v.description) for v in violations.items]
    return (None if problems else data), [RowError(0, field, text) for field, text in problems]


class EntityImport:
    """Bulk registration of the directory (名录导入) from a CSV file."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.entities = Entities(workspace)

    def run(self, caller: Caller, request_id: str, content: bytes) -> ImportResult:
        """Registers every valid row the caller may write, reports the others (once per request id)."""
        if caller.read_only:
            raise PermissionDenied(f"{caller.subject} has read-only access")
        rows = read_rows(content)

        def write(session: Session) -> str:
            rejected, imported = self._register(session, caller, rows)
            report = ImportReport(id=str(uuid.uuid4()), imported_count=imported,
                                  rejected_rows=[vars(r) for r in rejected], created_at=self.workspace.now())
            session.add(report)
            return report.id

        def load(session: Session, report_id: str) -> ImportResult:
            report = session.get(ImportReport, report_id)
            if report is None:  # the request key names a report: only a damaged store lacks it
                raise NotFound(f"import report {report_id!r} not found")
            return ImportResult(report.imported_count, [RowError(**r) for r in report.rejected_rows])

        return run_once(self.workspace.store, RequestKey, request_id, "ImportEntities", write, load)

    def _register(self, session: Session, caller: Caller,
                  rows: list[tuple[int, dict[str, str]]]) -> tuple[list[RowError], int]:
        rejected: list[RowError] = []
        accepted: list[tuple[int, EntityInput, str]] = []
        first_line: dict[str, int] = {}
        for line, row in rows:
            if not row:
                rejected.append(RowError(line, "row", f"expected {len(COLUMNS)} cells"))
                continue
            data, problems = _entity_input(row)
            if data is None:
                rejected += [RowError(line, p.field, p.description) for p in problems]
                continue
            office_id = office_for_street(session, data.street)
            if office_id is None:
                rejected.append(RowError(line, "street", f"no office covers {data.street!r}"))
            elif not caller.may_write_office(office_id):
                rejected.append(RowError(line, "street", f"{data.street} is covered by office {office_id}, "
                                                         "outside your office"))
            elif data.uscc in first_line:
                rejected.append(RowError(line, "uscc", f"{data.uscc} is also on line {first_line[data.uscc]}"))
            else:
                first_line[data.uscc] = line
                accepted.append((line, data, office_id))
        existing: set[str] = set()
        codes = [data.uscc for _, data, _ in accepted]
        for start in range(0, len(codes), 500):
            existing |= set(session.scalars(select(Entity.uscc).where(Entity.uscc.in_(codes[start:start + 500]))))
        now = self.workspace.now()
        imported = 0
        grown: set[str] = set()
        for line, data, office_id in accepted:
            if data.uscc in existing:
                rejected.append(RowError(line, "uscc", f"{data.uscc} is already registered"))
                continue
            entity = new_entity(session, data, office_id, now)
            self.entities.published(session, entity, published.entity_registered(entity))
            grown.add(office_id)
            imported += 1
        if grown:  # their directories grew (entities_supervised)
            self.workspace.touched(session, sorted(grown))
        return sorted(rejected, key=lambda r: r.line), imported
