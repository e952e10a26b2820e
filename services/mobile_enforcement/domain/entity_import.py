"""Bulk registration of the directory from the registration authority's extract (CSV), streamed.

The file's columns are COLUMNS, in any order, optionally followed by OPTIONAL_COLUMNS (docs/domain.md
describes them). An import reads the file twice, a batch of rows at a time, never holding it whole:

1. the check, in a read transaction: every row validated, the credit codes looked up a batch at a
   time, every refused row reported with its line and field;
2. the write, in one write transaction: the rows checked again (the directory may have changed in
   between) and inserted a batch at a time with Core inserts, one EntityRegistered per entity
   written to the outbox in the same batches.

A file with a refused row imports nothing unless the operator asked to import the valid rows; a
file that cannot be read at all (not UTF-8 text, wrong header, a broken quote) is refused whole.
The gRPC call takes a file in its request (at most MAX_RPC_ROWS rows); the command line
(`python -m services.mobile_enforcement import-entities`) streams a file of any size from disk.
"""

from __future__ import annotations

import codecs
import csv
import io
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from services.common import contracts
from services.common.context import Caller, traceparent_var
from services.common.errors import Aborted, InvalidArgument, NotFound, PermissionDenied, Violations
from services.common.events import Envelope
from services.common.idempotency import earlier_result, run_once
from services.mobile_enforcement.domain import published
from services.mobile_enforcement.domain.entities import EntityInput, validate
from services.mobile_enforcement.domain.vocabulary import CATEGORIES, RISK_LABELS
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.models import Entity, ImportReport, OfficeStreet, Outbox, RequestKey

COLUMNS = ("uscc", "name", "category", "address", "street", "risk_level", "key_supervision")
OPTIONAL_COLUMNS = ("industry_code",)
# One gRPC request carries the whole file: a bound on it and on the report it answers with.
MAX_RPC_ROWS = 20_000
# Rows per database round trip: large enough that the per-statement cost vanishes (bench/).
BATCH_ROWS = 5_000
_CATEGORY_OF = {"": "", **{c: c for c in CATEGORIES}, **{label: c for c, label in CATEGORIES.items()}}
_RISK_OF = {**{r: r for r in RISK_LABELS}, **{label: r for r, label in RISK_LABELS.items()}}
_FLAG_OF = {"": False, "false": False, "true": True, "否": False, "是": True}

# Reports what has been done so far: (phase "check" or "write", data rows handled).
Progress = Callable[[str, int], None]
# Opens the file again from its start, as text lines (the import reads it twice).
LineSource = Callable[[], Iterable[str]]


@dataclass(frozen=True)
class RowError:
    """A refused row of an import: its line, the field at fault and why."""

    line: int
    field: str
    description: str


@dataclass(frozen=True)
class ImportResult:
    """What an import did: the rows the file held, how many entities it registered, every refused row."""

    imported_count: int
    rejected_rows: list[RowError]
    row_count: int = 0


def decoded_lines(content: bytes) -> Iterator[str]:
    """The lines of an uploaded file as text; INVALID_ARGUMENT when it is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        text = decoder.decode(content, final=True)
    except UnicodeDecodeError:
        raise InvalidArgument.of("content", "is not UTF-8 text") from None
    # Lines end at \n only (newline=""), as the csv module expects: a \u2028 in a name stays in it.
    return iter(io.StringIO(text, newline=""))


def read_rows(lines: Iterable[str], max_rows: int | None = None) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for every data row, streamed; {} for a row of the wrong number of cells.
    INVALID_ARGUMENT when the file itself is unreadable (header, quoting, encoding, size)."""
    # strict: a quote left open is an error, not a row swallowing the rest of the file.
    reader = csv.reader(_checked_text(lines), strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
    except csv.Error as exc:
        raise InvalidArgument.of("content", f"line 1: {exc}") from None
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0].removeprefix("\ufeff")
    required, optional = sorted(COLUMNS), set(OPTIONAL_COLUMNS)
    if sorted(name for name in header if name not in optional) != required or len(set(header)) != len(header):
        raise InvalidArgument.of("content", f"the header must name the columns {','.join(COLUMNS)} "
                                            f"(and may add {','.join(OPTIONAL_COLUMNS)})")
    count = 0
    try:
        for cells in reader:
            if not cells:
                continue  # a blank line
            count += 1
            if max_rows is not None and count > max_rows:
                raise InvalidArgument.of("content", f"at most {max_rows} rows per request; import a larger "
                                                    "file with the import-entities command")
            if len(cells) != len(header):
                yield reader.line_num, {}
            else:
                yield reader.line_num, {name: value.strip() for name, value in zip(header, cells, strict=True)}
    except csv.Error as exc:
        raise InvalidArgument.of("content", f"line {reader.line_num}: {exc}") from None


def _checked_text(lines: Iterable[str]) -> Iterator[str]:
    try:
        yield from lines
    except UnicodeDecodeError as exc:
        raise InvalidArgument.of("content", f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def entity_input(row: dict[str, str]) -> tuple[EntityInput | None, list[tuple[str, str]]]:
    """The row as an entity to register, or every (field, problem) with it."""
    problems: list[tuple[str, str]] = []
    category = _CATEGORY_OF.get(row["category"])
    if category is None:
        problems.append(("category", f"{row['category']!r} is not one of the 12 key object types (empty: none)"))
    risk = _RISK_OF.get(row["risk_level"])
    if risk is None:
        problems.append(("risk_level", f"{row['risk_level']!r} is not one of {', '.join(RISK_LABELS)}"))
    key = _FLAG_OF.get(row["key_supervision"].lower())
    if key is None:
        problems.append(("key_supervision", "must be true or false"))
    violations = Violations()
    # Stand-ins for a category or tier already reported, so validate() reports only the other fields.
    data = validate(EntityInput(row["uscc"], row["name"], category if category is not None else next(iter(CATEGORIES)),
                                row["address"], row["street"], risk or next(iter(RISK_LABELS)), bool(key),
                                row.get("industry_code", "")), violations, prefix="")
    problems += [(v.field, v.description) for v in violations.items]
    return (None if problems else data), problems


class _Checker:
    """Checks the rows of one pass: each on its own, then against the file's earlier rows, the
    caller's offices and (a batch at a time) the directory."""

    def __init__(self, session: Session, caller: Caller) -> None:
        self.session = session
        self.caller = caller
        self.office_of = {street: office_id for street, office_id
                          in session.execute(select(OfficeStreet.street, OfficeStreet.office_id))}
        self.first_line: dict[str, int] = {}

    def batches(self, rows: Iterable[tuple[int, dict[str, str]]],
                refused: Callable[[RowError], None]) -> Iterator[list[tuple[int, EntityInput, str]]]:
        """The rows fit to register, a batch at a time; every other row handed to `refused`."""
        batch: list[tuple[int, EntityInput, str]] = []
        for line, row in rows:
            accepted = self._one(line, row, refused)
            if accepted is not None:
                batch.append(accepted)
            if len(batch) >= BATCH_ROWS:
                yield self._new_only(batch, refused)
                batch = []
        if batch:
            yield self._new_only(batch, refused)

    def _one(self, line: int, row: dict[str, str],
             refused: Callable[[RowError], None]) -> tuple[int, EntityInput, str] | None:
        if not row:
            refused(RowError(line, "row", "wrong number of cells for the header"))
            return None
        data, problems = entity_input(row)
        if data is None:
            for field, text in problems:
                refused(RowError(line, field, text))
            return None
        office_id = self.office_of.get(data.street)
        if office_id is None:
            refused(RowError(line, "street", f"no office covers {data.street!r}"))
        elif not self.caller.may_write_office(office_id):
            refused(RowError(line, "street", f"{data.street} is covered by office {office_id}, outside your office"))
        elif data.uscc in self.first_line:
            refused(RowError(line, "uscc", f"{data.uscc} is also on line {self.first_line[data.uscc]}"))
        else:
            self.first_line[data.uscc] = line
            return line, data, office_id
        return None

    def _new_only(self, batch: list[tuple[int, EntityInput, str]],
                  refused: Callable[[RowError], None]) -> list[tuple[int, EntityInput, str]]:
        codes = [data.uscc for _, data, _ in batch]
        existing: set[str] = set()
        for start in range(0, len(codes), 1000):  # below every driver's bound on parameters
            existing |= set(self.session.scalars(select(Entity.uscc).where(Entity.uscc.in_(codes[start:start + 1000]))))
        fresh = []
        for line, data, office_id in batch:
            if data.uscc in existing:
                refused(RowError(line, "uscc", f"{data.uscc} is already registered"))
            else:
                fresh.append((line, data, office_id))
        return fresh


class EntityImport:
    """Bulk registration of the directory (名录导入) from the registration authority's CSV extract."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def run(self, caller: Caller, request_id: str, content: bytes, import_valid_rows: bool = False) -> ImportResult:
        """Imports a file sent in one request (once per request id): all its rows, or none while any
        is refused unless `import_valid_rows`; every refused row reported."""
        if caller.read_only:
            raise PermissionDenied(f"{caller.subject} has read-only access")
        with self.workspace.store.read() as session:
            first = earlier_result(session, RequestKey, request_id, "ImportEntities")
            if first is not None:
                return _load_report(session, first)
        decoded_lines(content)  # an undecodable file is refused before anything else

        def lines() -> Iterable[str]:
            return decoded_lines(content)

        rejected: list[RowError] = []
        rows, valid = self._check(caller, lines, rejected.append, MAX_RPC_ROWS, None)
        do_write = valid > 0 and (not rejected or import_valid_rows)
        refused_lines = {error.line for error in rejected}

        def write(session: Session) -> str:
            imported = self._write(session, caller, lines, refused_lines) if do_write else 0
            report = ImportReport(id=str(uuid.uuid4()), imported_count=imported, row_count=rows,
                                  rejected_rows=[vars(r) for r in sorted(rejected, key=lambda r: r.line)],
                                  created_at=self.workspace.now())
            session.add(report)
            return report.id

        return run_once(self.workspace.store, RequestKey, request_id, "ImportEntities", write, _load_report)

    def import_file(self, caller: Caller, lines: LineSource, refused: Callable[[RowError], None],
                    import_valid_rows: bool = False, progress: Progress | None = None) -> ImportResult:
        """Imports a file of any size, read twice through `lines`; every refused row handed to
        `refused` as found. The result lists no rows (they went to `refused`)."""
        if caller.read_only:
            raise PermissionDenied(f"{caller.subject} has read-only access")
        refused_lines: set[int] = set()

        def noted(error: RowError) -> None:
            refused_lines.add(error.line)
            refused(error)

        rows, valid = self._check(caller, lines, noted, None, progress)
        if valid == 0 or (refused_lines and not import_valid_rows):
            return ImportResult(0, [], rows)
        with self.workspace.store.transaction() as session:
            imported = self._write(session, caller, lines, refused_lines, progress)
        return ImportResult(imported, [], rows)

    def _check(self, caller: Caller, lines: LineSource, refused: Callable[[RowError], None],
               max_rows: int | None, progress: Progress | None) -> tuple[int, int]:
        """(data rows, rows fit to register), every refused row handed to `refused`."""
        rows = valid = 0
        with self.workspace.store.read() as session:
            checker = _Checker(session, caller)

            def counted() -> Iterator[tuple[int, dict[str, str]]]:
                nonlocal rows
                for row in read_rows(lines(), max_rows):
                    rows += 1
                    yield row

            for batch in checker.batches(counted(), refused):
                valid += len(batch)
                if progress:
                    progress("check", rows)
        return rows, valid

    def _write(self, session: Session, caller: Caller, lines: LineSource, refused_lines: set[int],
               progress: Progress | None = None) -> int:
        """Registers every row fit to register, in batches. The rows the check refused are refused
        again and skipped; a row refused now that the check let pass (the directory or the offices
        changed in between) aborts the import, which then registers nothing."""

        def changed(error: RowError) -> None:
            if error.line not in refused_lines:
                raise Aborted(f"line {error.line}: {error.description} (the directory changed during the "
                              "import; nothing was imported, run it again)")

        checker = _Checker(session, caller)
        now = self.workspace.now()
        imported = 0
        offices: set[str] = set()
        rows = 0

        def counted() -> Iterator[tuple[int, dict[str, str]]]:
            nonlocal rows
            for row in read_rows(lines()):
                rows += 1
                yield row

        for batch in checker.batches(counted(), changed):
            entities = [_entity_row(data, office_id, now) for _, data, office_id in batch]
            # Core inserts on the connection: the ORM's bulk path costs as much again (bench/).
            connection = session.connection()
            connection.execute(insert(cast(Table, Entity.__table__)), entities)
            connection.execute(insert(cast(Table, Outbox.__table__)), [self._event_row(row) for row in entities])
            session.info["events_written"] = True
            offices.update(office_id for _, _, office_id in batch)
            imported += len(batch)
            if progress:
                progress("write", rows)
        if offices:  # their directories grew (entities_supervised)
            self.workspace.touched(session, sorted(offices))
        return imported

    def _event_row(self, row: dict[str, Any]) -> dict[str, Any]:
        """The outbox row of EntityRegistered for an inserted entity, as EventWriter.record writes it."""
        # The event reads the entity's attributes only: a plain record of the row does, without the
        # cost of an ORM instance per row (a third of the write pass).
        entity = cast(Entity, SimpleNamespace(**row))
        message = published.entity_registered(entity)
        writer = self.workspace.events
        event_type = contracts.type_name(message)
        envelope = Envelope(id=str(uuid.uuid4()), source=writer.source, type=event_type,
                            subject=f"entity/{entity.uscc}", time=row["created_at"], office_id=entity.office_id,
                            aggregate_id=entity.uscc, aggregate_version=1, traceparent=traceparent_var.get(),
                            data=contracts.encode(message))
        return {"event_id": envelope.id, "event_type": event_type, "envelope": envelope.to_wire(),
                "created_at": envelope.time, "attempts": 0}


def _entity_row(data: EntityInput, office_id: str, now: Any) -> dict[str, Any]:
    return {"uscc": data.uscc, "name": data.name, "category": data.category, "industry_code": data.industry_code,
            "address": data.address, "street": data.street, "office_id": office_id, "risk_level": data.risk_level,
            "key_supervision": data.key_supervision, "created_at": now, "updated_at": now, "version": 1}


def _load_report(session: Session, report_id: str) -> ImportResult:
    report = session.get(ImportReport, report_id)
    if report is None:  # the request key names a report: only a damaged store lacks it
        raise NotFound(f"import report {report_id!r} not found")
    return ImportResult(report.imported_count, [RowError(**r) for r in report.rejected_rows], report.row_count)
