"""The enforcement documents' kinds and titles, and the bureau's document settings (documents.yaml):
the number format of each kind, the issuing authority, and the figures of the party's rights the
documents state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from services.common.rulebook import RuleDataError

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "documents" / "documents.yaml"
PDF = "application/pdf"

INSPECTION_RECORD, RECTIFICATION_ORDER = "INSPECTION_RECORD", "RECTIFICATION_ORDER"
FILING_APPROVAL, PENALTY_NOTICE, HEARING_NOTICE = "FILING_APPROVAL", "PENALTY_NOTICE", "HEARING_NOTICE"
PENALTY_DECISION, DELIVERY_RECEIPT = "PENALTY_DECISION", "DELIVERY_RECEIPT"
KINDS = (INSPECTION_RECORD, RECTIFICATION_ORDER, FILING_APPROVAL, PENALTY_NOTICE, HEARING_NOTICE, PENALTY_DECISION,
         DELIVERY_RECEIPT)
TITLES: dict[str, str] = {
    INSPECTION_RECORD: "现场检查笔录", RECTIFICATION_ORDER: "责令改正通知书", FILING_APPROVAL: "立案审批表",
    PENALTY_NOTICE: "行政处罚告知书", HEARING_NOTICE: "听证通知书", PENALTY_DECISION: "行政处罚决定书",
    DELIVERY_RECEIPT: "送达回证",
}
# A decision to impose no penalty is issued on the same step under its own title.
NO_PENALTY_TITLE = "不予行政处罚决定书"
# The advance notice of a penalty open to a hearing tells the party of that right too, under the
# title the bureaus use for it.
HEARING_RIGHT_NOTICE_TITLE = "行政处罚听证告知书"
INSPECTION, CASE = "inspection", "case"
SUBJECT_KINDS: dict[str, tuple[str, ...]] = {
    INSPECTION: (INSPECTION_RECORD, RECTIFICATION_ORDER),
    CASE: (FILING_APPROVAL, PENALTY_NOTICE, HEARING_NOTICE, PENALTY_DECISION, DELIVERY_RECEIPT),
}
MAX_SUBJECT = 64

# ---------------------------------------------------------------- the bureau's configuration


@dataclass(frozen=True)
class DocumentSettings:
    """The bureau's document settings (documents.yaml): the issuing authority, the number format of
    each kind, and the figures of the party's rights the documents state."""

    authority: str
    authority_address: str
    formats: Mapping[str, str]
    # Administrative reconsideration (行政复议): within these days, to this body.
    review_days: int
    review_body: str
    # Administrative litigation (行政诉讼): within these months, before this court.
    litigation_months: int
    court: str
    # Where and how a fine is paid.
    payment_instructions: str

    def number(self, kind: str, year: int, sequence: int) -> str:
        """The document's number in the bureau's format for its kind, e.g. 闵市监案处字〔2026〕第12号."""
        return self.formats[kind].format(year=year, n=sequence)


def read_settings(path: Path = SETTINGS_FILE) -> DocumentSettings:
    """The settings file; RuleDataError naming the file and key when one is missing or wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RuleDataError(f"{path.name}: cannot read: {error}") from None
    if not isinstance(raw, dict):
        raise RuleDataError(f"{path.name}: not a mapping of settings")
    texts = ("authority", "authority_address", "review_body", "court", "payment_instructions")
    for key in texts:
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise RuleDataError(f"{path.name}: {key} must be a non-empty text")
    for key in ("review_days", "litigation_months"):
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 1000:
            raise RuleDataError(f"{path.name}: {key} must be a whole number, 1-1000")
    formats = raw.get("formats")
    if not isinstance(formats, dict):
        raise RuleDataError(f"{path.name}: formats must map each document kind to its number format")
    for kind in KINDS:
        check_format(path.name, kind, formats.get(kind))
    unknown = set(formats) - set(KINDS)
    if unknown:
        raise RuleDataError(f"{path.name}: formats: unknown kinds {', '.join(sorted(map(str, unknown)))}")
    return DocumentSettings(authority=raw["authority"].strip(), authority_address=raw["authority_address"].strip(),
                            formats={k: str(formats[k]) for k in KINDS}, review_days=raw["review_days"],
                            review_body=raw["review_body"].strip(), litigation_months=raw["litigation_months"],
                            court=raw["court"].strip(), payment_instructions=raw["payment_instructions"].strip())


def check_format(file_name: str, kind: str, value: object) -> None:
    """Refuses a number format without both {year} and {n}, or with any other placeholder."""
    if not isinstance(value, str):
        raise RuleDataError(f"{file_name}: formats.{kind} must be a text with {{year}} and {{n}}")
    if "{year}" not in value or "{n}" not in value:
        raise RuleDataError(f"{file_name}: formats.{kind} must contain {{year}} and {{n}}")
    try:
        value.format(year=2026, n=1)
    except (KeyError, IndexError, ValueError):
        raise RuleDataError(f"{file_name}: formats.{kind} may use only {{year}} and {{n}}") from None
