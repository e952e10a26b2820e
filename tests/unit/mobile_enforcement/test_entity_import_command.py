"""The import of a large extract from disk (`import-entities`): streamed in two passes, all or
nothing unless asked, every refused row in the report, progress as it goes."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.common.context import Caller
from services.common.credit_code import check_character
from services.common.db import Store, utcnow
from services.common.errors import PermissionDenied
from services.common.working_days import WorkingDayCalendar
from services.mobile_enforcement.domain import entity_import
from services.mobile_enforcement.domain.checklists import Catalog
from services.mobile_enforcement.domain.entity_import import EntityImport
from services.mobile_enforcement.domain.rules import RuleBook
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.entity_import_command import run
from services.mobile_enforcement.models import Base, Entity, Office, OfficeStreet, Outbox

HEADER = "industry_code,uscc,name,category,address,street,risk_level,key_supervision\n"


def code(number: int) -> str:
    first_17 = f"91310112MA1{number:06d}"
    return first_17 + check_character(first_17)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    store = Store(f"sqlite:///{tmp_path / 'mobile_enforcement.db'}")
    Base.metadata.create_all(store.engine)
    with store.transaction() as session:
        session.add_all([Office(id="MH01", name="莘庄所", district="闵行区"),
                         Office(id="MH02", name="七宝所", district="闵行区")])
        session.flush()
        session.add_all([OfficeStreet(office_id="MH01", street="莘庄镇"),
                         OfficeStreet(office_id="MH02", street="七宝镇")])
    return Workspace(store, RuleBook.load(), Catalog.load(), WorkingDayCalendar.load(), lambda: dt.date(2026, 12, 7),
                     utcnow)


def extract(path: Path, rows: int, bad_lines: tuple[int, ...] = ()) -> Path:
    lines = [HEADER]
    for n in range(rows):
        line = n + 2
        industry = "9999" if line in bad_lines else ("5265" if n % 3 == 0 else "")
        category = "" if n % 3 == 0 else "CATERING"
        lines.append(f"{industry},{code(n)},店{n},{category},x,{'七宝镇' if n % 2 else '莘庄镇'},LOW,false\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


def counts(workspace: Workspace) -> tuple[int, int]:
    with workspace.store.read() as session:
        return (session.scalar(select(func.count()).select_from(Entity)) or 0,
                session.scalar(select(func.count()).select_from(Outbox)) or 0)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    """Batches of 500 rows: a file of 1,200 rows crosses two batch boundaries in each pass."""
    monkeypatch.setattr(entity_import, "BATCH_ROWS", 500)


def test_a_file_with_a_refused_row_imports_nothing_and_reports_it(workspace, tmp_path):
    path = extract(tmp_path / "extract.csv", 1_200, bad_lines=(5, 1_100))
    report = tmp_path / "errors.csv"
    assert run(workspace, path, report, import_valid_rows=False) == 1
    assert counts(workspace) == (0, 0)
    with report.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["line"], r["field"]) for r in rows] == [("5", "industry_code"), ("1100", "industry_code")]


def test_asked_it_imports_the_valid_rows_in_batches_with_their_events(workspace, tmp_path, capsys):
    path = extract(tmp_path / "extract.csv", 1_200, bad_lines=(5,))
    assert run(workspace, path, tmp_path / "errors.csv", import_valid_rows=True) == 0
    assert counts(workspace) == (1_199, 1_199)
    progress = [line for line in capsys.readouterr().err.splitlines() if line.startswith(("check:", "write:"))]
    assert len(progress) == 6  # three batches in each pass
    with workspace.store.read() as session:
        petrol = session.get(Entity, code(9))
        assert (petrol.category, petrol.industry_code, petrol.office_id) == ("", "5265", "MH02")
        assert session.get(Entity, code(3)) is None  # line 5, refused
    # The same file again: every row is registered already; nothing imported, each reported.
    assert run(workspace, path, tmp_path / "again.csv", import_valid_rows=False) == 1
    assert counts(workspace) == (1_199, 1_199)


def test_an_unreadable_file_or_an_office_user_is_refused_whole(workspace, tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_bytes(HEADER.encode() + b"\xff\xfe,x\n")
    assert run(workspace, broken, tmp_path / "errors.csv", import_valid_rows=True) == 2
    wrong_header = tmp_path / "header.csv"
    wrong_header.write_text("uscc,name\n1,2\n", encoding="utf-8")
    assert run(workspace, wrong_header, tmp_path / "errors.csv", import_valid_rows=True) == 2
    assert counts(workspace) == (0, 0)
    path = extract(tmp_path / "extract.csv", 4)
    officer = Caller(subject="mh01-officer", roles=frozenset({"officer"}), office_id="MH01")
    refused: list = []
    result = EntityImport(workspace).import_file(officer, lambda: path.open(encoding="utf-8"), refused.append)
    # The other office's rows are refused, so (not asked for the valid rows) nothing is imported.
    assert (result.imported_count, [e.line for e in refused]) == (0, [3, 5])
    auditor = Caller(subject="auditor", roles=frozenset({"auditor"}))
    with pytest.raises(PermissionDenied):
        EntityImport(workspace).import_file(auditor, lambda: path.open(encoding="utf-8"), refused.append)
