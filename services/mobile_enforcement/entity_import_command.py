"""`python -m services.mobile_enforcement import-entities FILE`: the registration authority's extract
imported into the directory from disk, streamed, with progress on stderr and the refused rows
written to a CSV report (line, field, description).

Runs against the service's own database (DATABASE_URL or the monolith's file) as the system: the
operator of the bureau's directory. Exit status 0 when the file was imported, 1 when rows were
refused and nothing imported (the report says which), 2 when the file cannot be read at all.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from services.common.clock import shanghai_today
from services.common.config import Settings, service_database_url
from services.common.context import SYSTEM_CALLER
from services.common.db import Store, utcnow
from services.common.errors import DomainError
from services.common.working_days import WorkingDayCalendar
from services.mobile_enforcement.domain.checklists import Catalog
from services.mobile_enforcement.domain.entity_import import EntityImport, RowError
from services.mobile_enforcement.domain.rules import RuleBook
from services.mobile_enforcement.domain.workspace import Workspace


def main(argv: list[str]) -> int:
    """Parses the command line, runs the import, returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m services.mobile_enforcement import-entities")
    parser.add_argument("file", type=Path, help="the CSV extract (UTF-8; columns as docs/domain.md lists them)")
    parser.add_argument("--import-valid-rows", action="store_true",
                        help="when some rows are refused, import the others anyway (default: import nothing)")
    parser.add_argument("--report", type=Path, default=None,
                        help="where the refused rows go (default: FILE with .errors.csv)")
    args = parser.parse_args(argv)
    store = Store(service_database_url("mobile_enforcement", Settings.from_env()))
    workspace = Workspace(store, RuleBook.load(), Catalog.load(), WorkingDayCalendar.load(), shanghai_today, utcnow)
    report_path = args.report or args.file.with_suffix(".errors.csv")
    try:
        return run(workspace, args.file, report_path, args.import_valid_rows)
    finally:
        store.dispose()


def run(workspace: Workspace, path: Path, report_path: Path, import_valid_rows: bool) -> int:
    """Imports `path`, writing refused rows to `report_path`; the exit status as main() says."""
    started = time.monotonic()

    def lines() -> Iterable[str]:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield from handle

    def progress(phase: str, rows: int) -> None:
        print(f"{phase}: {rows:,} rows, {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)

    refused = 0
    with report_path.open("w", encoding="utf-8", newline="") as report:
        writer = csv.writer(report)
        writer.writerow(["line", "field", "description"])

        def write(error: RowError) -> None:
            nonlocal refused
            refused += 1
            writer.writerow([error.line, error.field, error.description])

        try:
            result = EntityImport(workspace).import_file(SYSTEM_CALLER, lines, write, import_valid_rows, progress)
        except DomainError as exc:
            print(f"not imported: {exc}", file=sys.stderr)
            return 2
    print(f"{result.row_count:,} rows, {result.imported_count:,} imported, {refused:,} refused "
          f"({report_path}), {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 1 if refused and not result.imported_count else 0
