"""Checklist templates (综合检查表): one YAML file per key object type in checklists/, each with
dated versions. An inspection records its results against the version in force on the day it
started, so a new version never changes what a past inspection was checked on. A malformed file
stops the service at start (ChecklistDataError) naming the file and the entry."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from services.common.errors import FailedPrecondition, NotFound
from services.common.paging import Page, next_token
from services.mobile_enforcement.domain.vocabulary import CATEGORIES, FAILURE_OUTCOMES

CHECKLISTS_DIR = Path(__file__).resolve().parent.parent / "checklists"
_ITEM_CODE = re.compile(r"^[A-Z]{2,4}-\d{2}$")
_ITEM_KEYS = {"code", "section", "text", "legal_basis", "key", "failure_outcome"}


class ChecklistDataError(ValueError):
    pass


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    section: str
    text: str
    legal_basis: str
    key: bool
    failure_outcome: str


@dataclass(frozen=True)
class Checklist:
    category: str
    title: str
    version: int
    effective_from: dt.date
    items: tuple[ChecklistItem, ...]

    def item(self, code: str) -> ChecklistItem | None:
        return next((i for i in self.items if i.code == code), None)


class Catalog:
    def __init__(self, checklists: list[Checklist]):
        self._by_category: dict[str, list[Checklist]] = {}
        for checklist in sorted(checklists, key=lambda c: (c.category, c.version)):
            self._by_category.setdefault(checklist.category, []).append(checklist)
        missing = [c for c in CATEGORIES if c not in self._by_category]
        if missing:
            raise ChecklistDataError(f"no checklist for {', '.join(missing)}")

    @classmethod
    def load(cls, directory: Path = CHECKLISTS_DIR) -> Catalog:
        checklists: list[Checklist] = []
        seen: dict[str, str] = {}
        for path in sorted(directory.glob("*.yaml")):
            found = _read(path)
            category = found[0].category
            if category in seen:
                raise ChecklistDataError(f"{path.name}: {category} is also defined in {seen[category]}")
            seen[category] = path.name
            checklists += found
        return cls(checklists)

    def in_force(self, category: str, day: dt.date) -> Checklist:
        current = None
        for checklist in self._by_category[category]:
            if checklist.effective_from > day:
                break
            current = checklist
        if current is None:
            first = self._by_category[category][0].effective_from
            raise FailedPrecondition(f"no {category} checklist is in force on {day} (the first takes effect {first})")
        return current

    def version(self, category: str, version: int) -> Checklist:
        for checklist in self._by_category[category]:
            if checklist.version == version:
                return checklist
        raise NotFound(f"{category} checklist has no version {version}")

    def all(self) -> list[Checklist]:
        return [c for category in CATEGORIES for c in self._by_category[category]]

    def page(self, page: Page, category: str | None) -> tuple[list[Checklist], str]:
        """Every version, by type (in the order of the 12) then version, and the next page's token."""
        keyed = [(f"{list(CATEGORIES).index(c.category):02d}/{c.version:04d}", c) for c in self.all()
                 if category in (None, c.category)]
        shown = [(key, c) for key, c in keyed if key > page.after][:page.size]
        return [c for _, c in shown], next_token(shown[-1][0] if shown else None, len(shown), page)


def _read(path: Path) -> list[Checklist]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ChecklistDataError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(document, dict) or set(document) != {"category", "label", "title", "versions"}:
        raise ChecklistDataError(f"{path.name}: needs exactly category, label, title and versions")
    category = document["category"]
    if category not in CATEGORIES:
        raise ChecklistDataError(f"{path.name}: unknown category {category!r}; one of {', '.join(CATEGORIES)}")
    if document["label"] != CATEGORIES[category]:
        raise ChecklistDataError(f"{path.name}: label of {category} is {CATEGORIES[category]}")
    versions = document["versions"]
    if not isinstance(versions, list) or not versions:
        raise ChecklistDataError(f"{path.name}: versions must be a non-empty list")
    result = [_version(path, category, str(document["title"]), number, raw)
              for number, raw in enumerate(versions, start=1)]
    dates = [c.effective_from for c in result]
    if dates != sorted(set(dates)):
        raise ChecklistDataError(f"{path.name}: versions must take effect on increasing dates")
    return result


def _version(path: Path, category: str, title: str, number: int, raw: object) -> Checklist:
    where = f"{path.name}: version {number}"
    if not isinstance(raw, dict) or set(raw) != {"version", "effective_from", "items"}:
        raise ChecklistDataError(f"{where}: needs exactly version, effective_from and items")
    if raw["version"] != number:
        raise ChecklistDataError(f"{where}: versions are numbered 1, 2, 3, ... in order")
    if not isinstance(raw["effective_from"], dt.date):
        raise ChecklistDataError(f"{where}: effective_from must be a date YYYY-MM-DD")
    if not isinstance(raw["items"], list) or not raw["items"]:
        raise ChecklistDataError(f"{where}: items must be a non-empty list")
    items = tuple(_item(f"{where}, item {index}", item) for index, item in enumerate(raw["items"], start=1))
    codes = [i.code for i in items]
    if len(set(codes)) != len(codes):
        raise ChecklistDataError(f"{where}: item codes must be unique")
    return Checklist(category, title, number, raw["effective_from"], items)


def _item(where: str, raw: object) -> ChecklistItem:
    if not isinstance(raw, dict) or set(raw) != _ITEM_KEYS:
        raise ChecklistDataError(f"{where}: needs exactly {', '.join(sorted(_ITEM_KEYS))}")
    if not isinstance(raw["code"], str) or not _ITEM_CODE.match(raw["code"]):
        raise ChecklistDataError(f"{where}: code must look like CAT-01")
    for key in ("section", "text", "legal_basis"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise ChecklistDataError(f"{where}: {key} must be non-empty text")
    if not isinstance(raw["key"], bool):
        raise ChecklistDataError(f"{where}: key must be true or false")
    if raw["failure_outcome"] not in FAILURE_OUTCOMES:
        raise ChecklistDataError(f"{where}: failure_outcome must be one of {', '.join(FAILURE_OUTCOMES)}")
    return ChecklistItem(raw["code"], raw["section"].strip(), raw["text"].strip(), raw["legal_basis"].strip(),
                         raw["key"], raw["failure_outcome"])
