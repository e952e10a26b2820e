"""What a command prints: a table a person reads (CJK characters counted two columns wide), or
with --json one JSON document for scripts (a list of records, or one record)."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from google.protobuf import json_format
from google.protobuf.message import Message

# A column: its heading and how to read its cell from a record (a dict from to_dict).
Column = tuple[str, Callable[[dict], Any]]


def to_dict(message: Message) -> dict:
    """The message in protobuf's JSON mapping with the proto field names (those the filters use),
    every field present so scripts need not know the defaults."""
    return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def pad(text: str, width: int) -> str:
    """`text` padded with spaces to `width` terminal columns."""
    return text + " " * (width - display_width(text))


def cell(value: Any) -> str:
    """A value as one table cell: lists joined, booleans 是/否, dates YYYY-MM-DD, no line breaks."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, dict) and {"year", "month", "day"} <= set(value):
        return f"{value['year']:04d}-{value['month']:02d}-{value['day']:02d}" if value["year"] else ""
    if isinstance(value, list | tuple):
        return "、".join(cell(v) for v in value)
    return " ".join(str(value).split())


def enum_label(value: str, prefix: str) -> str:
    """GROUP_KIND_CASE_HANDLING -> case-handling: the enum without its prefix, as the flags take it."""
    if not value or value.endswith("UNSPECIFIED"):
        return ""
    return value.removeprefix(prefix).lower().replace("_", "-")


@dataclass
class Output:
    """Prints records as a table, or as JSON with --json."""

    json: bool = False
    out: TextIO = sys.stdout

    def records(self, rows: Sequence[dict], columns: Sequence[Column]) -> None:
        """A list: a table with one line per record, or a JSON array of the whole records."""
        if self.json:
            self._dump(list(rows))
            return
        if not rows:
            print("（无记录 no records）", file=self.out)
            return
        table = [[heading for heading, _ in columns]]
        table += [[cell(read(row)) for _, read in columns] for row in rows]
        widths = [max(display_width(line[i]) for line in table) for i in range(len(columns))]
        for line in table:
            print("  ".join(pad(text, width) for text, width in zip(line, widths, strict=True)).rstrip(),
                  file=self.out)
        print(f"共 {len(rows)} 条 · {len(rows)} record(s)", file=self.out)

    def record(self, row: dict, fields: Sequence[Column]) -> None:
        """One record: "heading: value" lines, or a JSON object."""
        if self.json:
            self._dump(row)
            return
        width = max(display_width(heading) for heading, _ in fields)
        for heading, read in fields:
            print(f"{pad(heading, width)}  {cell(read(row))}", file=self.out)

    def _dump(self, document: Any) -> None:
        json.dump(document, self.out, ensure_ascii=False, indent=2)
        print(file=self.out)
