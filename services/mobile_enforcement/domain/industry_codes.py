"""The national industry classification (国民经济行业分类) an entity's industry code is checked
against: its sections and divisions as data (rules/industry_classification/*.yaml), by date."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, fields
from pathlib import Path

from services.common.rulebook import RuleBook, RuleDataError, load_rule_sets, read_rule_set

CLASSIFICATION_DIR = Path(__file__).resolve().parent.parent / "rules" / "industry_classification"
_FORM = re.compile(r"([A-Z]?)(\d{2,4})")


@dataclass(frozen=True)
class Classification:
    """One edition of the classification: the section letter of every division code."""

    id: str
    title: str
    effective_from: dt.date
    confirmed: bool
    section_of: dict[int, str]
    section_labels: dict[str, str]

    def check(self, code: str) -> tuple[str, str]:
        """(the code as stored: its digits, "" when fine) or ("", why it is not a code of this edition)."""
        match = _FORM.fullmatch(code.strip().upper())
        if match is None:
            return "", "a 国民经济行业分类 code: 2, 3 or 4 digits, optionally after the section letter (F5265)"
        letter, digits = match.groups()
        section = self.section_of.get(int(digits[:2]))
        if section is None:
            return "", f"division {digits[:2]} does not exist in {self.title}"
        if letter and letter != section:
            return "", f"division {digits[:2]} is in section {section} ({self.section_labels[section]}), not {letter}"
        return digits, ""


def _read(path: Path) -> Classification:
    document = read_rule_set(path, {"id", "title", "effective_from", "confirmed", "sections"})
    section_of: dict[int, str] = {}
    labels: dict[str, str] = {}
    sections = document["sections"]
    if not isinstance(sections, dict) or not sections:
        raise RuleDataError(f"{path.name}: sections must map section letters to a label and divisions")
    for letter, section in sections.items():
        if not (isinstance(letter, str) and len(letter) == 1 and letter.isupper() and isinstance(section, dict)
                and isinstance(section.get("label"), str) and isinstance(section.get("divisions"), list)
                and len(section["divisions"]) == 2 and all(isinstance(d, int) for d in section["divisions"])):
            raise RuleDataError(f"{path.name}: section {letter!r} needs a label and divisions [first, last]")
        first, last = section["divisions"]
        for division in range(first, last + 1):
            if division in section_of or not 1 <= division <= 99:
                raise RuleDataError(f"{path.name}: division {division} is outside 1-99 or in two sections")
            section_of[division] = letter
        labels[letter] = section["label"]
    names = {f.name for f in fields(Classification)} - {"section_of", "section_labels"}
    return Classification(**{k: document[k] for k in names} | {"id": str(document["id"]),
                                                               "title": str(document["title"])},
                          section_of=section_of, section_labels=labels)


@functools.cache
def classifications(directory: Path = CLASSIFICATION_DIR) -> RuleBook[Classification]:
    """Every edition of the classification (read once per process)."""
    return load_rule_sets("industry classification", directory, _read)


def check_industry_code(code: str, day: dt.date) -> tuple[str, str]:
    """(digits, "") for a valid code of the edition in force on `day`, else ("", why not)."""
    # Before the first edition held here, the oldest one judges (the data starts with it).
    return classifications().applicable(day).check(code)
