"""Downloadable tables of assessment's results: the ranking of a closed period, its office scores and
the officers' grades, as CSV (UTF-8 with a BOM, so Excel reads the Chinese) or as an XLSX workbook.

The rows come from assessment's gRPC answers (services.gateway.upstream); this module only shapes
them, so the same figures reach the file as the API gives.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from google.protobuf.message import Message

from services.common.errors import FieldViolation, InvalidArgument, NotFound
from supervision.assessment.v1 import assessment_pb2 as assessment

RANKINGS, SCORES, OFFICER_GRADES = "rankings", "scores", "officer-grades"
KINDS = (RANKINGS, SCORES, OFFICER_GRADES)
KIND_TITLES = {RANKINGS: "考核排名", SCORES: "考核期得分", OFFICER_GRADES: "执法人员考核等次"}
XLSX, CSV = "xlsx", "csv"
MEDIA_TYPES = {XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               CSV: "text/csv; charset=utf-8"}
FORMATS = tuple(MEDIA_TYPES)
# The period keys assessment accepts (month, quarter, year); officers are graded by quarter. Checked
# here too so a wrong key is refused without a call.
PERIOD_PATTERN = r"^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$"
QUARTER_PATTERN = r"^[0-9]{4}-Q[1-4]$"
MAX_PERIOD_LENGTH = 7
# Chinese labels of assessment's Grade values (its proto names them so).
GRADE_LABELS = {"GRADE_GOOD": "好", "GRADE_FAIRLY_GOOD": "较好", "GRADE_AVERAGE": "一般", "GRADE_POOR": "较差"}
# A text cell starting with one of these is run as a formula by spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class AssessmentResults(Protocol):
    """assessment's results as one caller may read them (services.gateway.upstream asks its API)."""

    def latest_period(self) -> str:
        """The key of the newest closed period."""
        ...

    def rankings(self, period: str) -> Sequence[assessment.Ranking]:
        """Every ranking of a closed period the caller may see."""
        ...

    def period_score(self, period: str, office_id: str) -> assessment.OfficeScore:
        """An office's score in a closed period."""
        ...

    def officer_assessments(self, quarter: str) -> Iterable[assessment.OfficerAssessment]:
        """The officers' assessments of a quarter ("" = every quarter) the caller may see."""
        ...

    def grade_name(self, value: int) -> str:
        """A grade's enum name (GRADE_GOOD ...)."""
        ...


@dataclass(frozen=True)
class ExportRequest:
    """What a download asks for: which table, in which format, of which period ("" = the latest)."""

    kind: str
    format: str
    period: str


@dataclass(frozen=True)
class Table:
    """One sheet: a title, column headings and rows of plain values (str, int, float or None)."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def parse_export_request(kind: str, format_: str | None, period: str | None) -> ExportRequest:
    """The download's parameters checked; NotFound for a table that does not exist, InvalidArgument
    (with Chinese descriptions) for a bad format or period."""
    if kind not in KINDS:
        raise NotFound(f"没有这种导出：{kind[:40]!r}（可选 {'、'.join(KINDS)}） / no such export: {kind[:40]!r} "
                       f"(one of {', '.join(KINDS)})")
    chosen = XLSX if format_ is None or format_ == "" else format_
    violations = []
    if chosen not in FORMATS:
        violations.append(FieldViolation("format", f"须为 {' 或 '.join(FORMATS)} / must be one of "
                                                   f"{', '.join(FORMATS)}"))
    period = (period or "").strip()
    pattern = QUARTER_PATTERN if kind == OFFICER_GRADES else PERIOD_PATTERN
    if period and not re.fullmatch(pattern, period):
        example = "2026-Q3" if kind == OFFICER_GRADES else "2026-09、2026-Q3 或 2026"
        violations.append(FieldViolation("period", f"不是有效的考核期，例如 {example} / "
                                                   f"not a period key, e.g. {example}"))
    if violations:
        raise InvalidArgument("导出参数有误 / bad export parameters", violations)
    return ExportRequest(kind, chosen, period)


def file_name(request: ExportRequest, period: str) -> str:
    """The downloaded file's name (ASCII, so every browser keeps it), e.g. rankings-2026-Q3.xlsx."""
    return f"{request.kind}-{period or 'all'}.{request.format}"


def _rounded(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def _optional(message: Message, field: str) -> float | None:
    if not message.HasField(field):
        return None
    value: float = getattr(message, field)
    return value


def rankings_table(period: str, rankings: Iterable[assessment.Ranking]) -> Table:
    """assessment's Ranking messages of one period, in rank order."""
    rows = [(period, r.rank, r.office_id, r.office_name, _rounded(_optional(r, "index")),
             _rounded(r.coefficient, 4), _rounded(_optional(r, "adjusted_index"))) for r in rankings]
    return Table(f"{KIND_TITLES[RANKINGS]} {period}",
                 ("考核期", "排名", "所代码", "所名称", "标准化指数", "考核系数", "调整后指数"), rows)


def scores_table(period: str, scores: Sequence[tuple[str, assessment.OfficeScore]]) -> Table:
    """(office name, OfficeScore) of one period: the index, coefficient, ranks and each dimension's
    score (the period's scheme gives every office the same dimensions)."""
    dimensions: dict[str, str] = {}
    for _, score in scores:
        for dimension in score.dimensions:
            dimensions.setdefault(dimension.key, dimension.name)
    rows = []
    for name, score in scores:
        by_key = {d.key: _rounded(_optional(d, "score")) for d in score.dimensions}
        rows.append((period, score.office_id, name, _rounded(_optional(score, "index")),
                     _rounded(score.coefficient, 4), _rounded(_optional(score, "adjusted_index")), score.rank,
                     score.index_rank, *(by_key.get(key) for key in dimensions)))
    columns = ("考核期", "所代码", "所名称", "标准化指数", "考核系数", "调整后指数", "排名", "指数排名",
               *(f"{name}得分" for name in dimensions.values()))
    return Table(f"{KIND_TITLES[SCORES]} {period}", columns, rows)


def grades_table(quarter: str, assessments: Iterable[assessment.OfficerAssessment],
                 grade_name: Callable[[int], str]) -> Table:
    """assessment's OfficerAssessment messages; `grade_name` turns a Grade value into its enum name."""
    def label(value: int) -> str:
        return GRADE_LABELS.get(grade_name(value), "")

    rows = [(a.quarter, a.office_id, a.officer_id, a.officer_name, _rounded(a.points), a.evidence_count,
             a.late_count, label(a.proposed_grade), label(a.final_grade), a.final_reason, a.graded_by)
            for a in assessments]
    return Table(f"{KIND_TITLES[OFFICER_GRADES]} {quarter or '全部'}",
                 ("季度", "所代码", "执法人员编号", "姓名", "积分", "工作记录数", "逾期数", "建议等次", "最终等次",
                  "理由", "评定人"), rows)


def _safe_text(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, made plain text with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte order mark (Excel takes a CSV without one for the local code page)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(["" if v is None else _safe_text(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table) -> bytes:
    """One worksheet, headings in bold and frozen; text cells are always text, never formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", table.title)[:31]  # Excel's limits on sheet titles
    sheet.append(list(table.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for number, row in enumerate(table.rows, start=2):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
    sheet.freeze_panes = "A2"
    for column, heading in enumerate(table.columns, start=1):
        width = max([len(str(heading)) * 2, *(len(str(r[column - 1] or "")) for r in table.rows)], default=8)
        sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = min(60, width + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(table: Table, format_: str) -> bytes:
    """The table in the chosen format."""
    return to_xlsx(table) if format_ == XLSX else to_csv(table)


def export_table(request: ExportRequest, results: AssessmentResults) -> tuple[str, Table]:
    """(the period shown, the table) read through `results` (upstream.AssessmentResults: the
    caller's rights apply). Without a period: the newest closed one; officers' grades of every quarter."""
    if request.kind == OFFICER_GRADES:
        return request.period, grades_table(request.period, results.officer_assessments(request.period),
                                            results.grade_name)
    period = request.period or results.latest_period()
    rankings = results.rankings(period)
    if request.kind == RANKINGS:
        return period, rankings_table(period, rankings)
    return period, scores_table(period, [(r.office_name, results.period_score(period, r.office_id))
                                         for r in rankings])
