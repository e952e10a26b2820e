"""Checklist templates (综合检查表): one YAML file per key object type in checklists/, each with
dated versions. An inspection records its results against the version in force on the day it
started, so a new version never changes what a past inspection was checked on. A malformed file
stops the service at start (RuleDataError) naming the file and the entry."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from services.common.errors import FailedPrecondition, InvalidArgument, NotFound
from services.common.paging import ListResult, Page, next_token
from services.common.rulebook import RuleBook, RuleDataError, effective_date, read_document
from services.mobile_enforcement.domain.vocabulary import CHECKLIST_CATEGORIES, FAILURE_OUTCOMES

if TYPE_CHECKING:  # the Workspace holds the Catalog: imported for its type only, or the import would be circular
    from services.mobile_enforcement.domain.workspace import Workspace

CHECKLISTS_DIR = Path(__file__).resolve().parent.parent / "checklists"
_ITEM_CODE = re.compile(r"^[A-Z]{2,4}-\d{2}$")
_ITEM_KEYS = {"code", "section", "text", "legal_basis", "key", "failure_outcome"}


@dataclass(frozen=True)
class ChecklistItem:
    """One item of a checklist (检查事项): what is checked, on which legal basis, what a failure implies."""

    code: str
    section: str
    text: str
    legal_basis: str
    key: bool
    failure_outcome: str


@dataclass(frozen=True)
class Checklist:
    """One dated version of the checklist (综合检查表) of a key object type."""

    category: str
    title: str
    version: int
    effective_from: dt.date
    items: tuple[ChecklistItem, ...]

    def item(self, code: str) -> ChecklistItem | None:
        """The item with this code, or None when this version has none."""
        return next((i for i in self.items if i.code == code), None)


class Catalog:
    """Every version of every key object type's checklist, as loaded at start."""

    def __init__(self, checklists: list[Checklist]) -> None:
        by_category: dict[str, list[Checklist]] = {}
        for checklist in checklists:
            by_category.setdefault(checklist.category, []).append(checklist)
        missing = [c for c in CHECKLIST_CATEGORIES if c not in by_category]
        if missing:
            raise RuleDataError(f"no checklist for {', '.join(missing)}")
        # A type's versions are numbered in the order they take effect, so the book's order is theirs.
        self._by_category = {category: RuleBook(f"{category} checklists", versions,
                                                effective_from=lambda c: c.effective_from)
                             for category, versions in by_category.items()}

    @classmethod
    def load(cls, directory: Path = CHECKLISTS_DIR) -> Catalog:
        """The catalogue from the checklist files; RuleDataError names what is wrong in one."""
        checklists: list[Checklist] = []
        seen: dict[str, str] = {}
        for path in sorted(directory.glob("*.yaml")):
            found = _read(path)
            category = found[0].category
            if category in seen:
                raise RuleDataError(f"{path.name}: {category} is also defined in {seen[category]}")
            seen[category] = path.name
            checklists += found
        return cls(checklists)

    def in_force(self, category: str, day: dt.date) -> Checklist:
        """The version an inspection of this type starting on `day` is recorded against."""
        book = self._by_category[category]
        current = book.in_force(day)
        if current is None:
            raise FailedPrecondition(f"no {category} checklist is in force on {day} "
                                     f"(the first takes effect {book.first_effective})")
        return current

    def version(self, category: str, version: int) -> Checklist:
        """A version by its number, as a stored inspection names it."""
        for checklist in self._by_category[category].rule_sets:
            if checklist.version == version:
                return checklist
        raise NotFound(f"{category} checklist has no version {version}")

    def all(self) -> list[Checklist]:
        """Every version, by type in the order of the 12, then by version."""
        return [c for category in CHECKLIST_CATEGORIES for c in self._by_category[category].rule_sets]

    def page(self, page: Page, category: str | None) -> tuple[list[Checklist], str]:
        """Every version, by type (in the order of the 12) then version, and the next page's token."""
        keyed = [(f"{list(CHECKLIST_CATEGORIES).index(c.category):02d}/{c.version:04d}", c) for c in self.all()
                 if category in (None, c.category)]
        shown = [(key, c) for key, c in keyed if key > page.after][:page.size]
        return [c for _, c in shown], next_token(shown[-1][0] if shown else None, len(shown), page)


class Checklists:
    """Reading the checklists (综合检查表): public reference data, the same for every caller."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def get(self, category: str, version: int, on: dt.date | None) -> Checklist:
        """A version by number, or else the version in force on a day (today when none is given)."""
        if version < 0:
            raise InvalidArgument.of("version", "must not be negative")
        if version:
            return self.workspace.catalog.version(category, version)
        return self.workspace.catalog.in_force(category, on or self.workspace.today())

    def list(self, page: Page, category: str | None) -> ListResult[Checklist]:
        """Every version of every type's checklist (or of one type), a page at a time."""
        checklists, token = self.workspace.catalog.page(page, category)
        return ListResult(checklists, token)


def _read(path: Path) -> list[Checklist]:
    document = read_document(path)
    if set(document) != {"category", "label", "title", "versions"}:
        raise RuleDataError(f"{path.name}: needs exactly category, label, title and versions")
    category = document["category"]
    if category not in CHECKLIST_CATEGORIES:
        raise RuleDataError(f"{path.name}: unknown category {category!r}; one of {', '.join(CHECKLIST_CATEGORIES)}")
    if document["label"] != CHECKLIST_CATEGORIES[category]:
        raise RuleDataError(f"{path.name}: label of {category} is {CHECKLIST_CATEGORIES[category]}")
    versions = document["versions"]
    if not isinstance(versions, list) or not versions:
        raise RuleDataError(f"{path.name}: versions must be a non-empty list")
    result = [_version(path, category, str(document["title"]), number, raw)
              for number, raw in enumerate(versions, start=1)]
    dates = [c.effective_from for c in result]
    if dates != sorted(set(dates)):
        raise RuleDataError(f"{path.name}: versions must take effect on increasing dates")
    return result


def _version(path: Path, category: str, title: str, number: int, raw: object) -> Checklist:
    where = f"{path.name}: version {number}"
    if not isinstance(raw, dict) or set(raw) != {"version", "effective_from", "items"}:
        raise RuleDataError(f"{where}: needs exactly version, effective_from and items")
    if raw["version"] != number:
        raise RuleDataError(f"{where}: versions are numbered 1, 2, 3, ... in order")
    effective_from = effective_date(raw["effective_from"], where)
    if not isinstance(raw["items"], list) or not raw["items"]:
        raise RuleDataError(f"{where}: items must be a non-empty list")
    items = tuple(_item(f"{where}, item {index}", item) for index, item in enumerate(raw["items"], start=1))
    codes = [i.code for i in items]
    if len(set(codes)) != len(codes):
        raise RuleDataError(f"{where}: item codes must be unique")
    return Checklist(category, title, number, effective_from, items)


def _item(where: str, raw: object) -> ChecklistItem:
    if not isinstance(raw, dict) or set(raw) != _ITEM_KEYS:
        raise RuleDataError(f"{where}: needs exactly {', '.join(sorted(_ITEM_KEYS))}")
    if not isinstance(raw["code"], str) or not _ITEM_CODE.match(raw["code"]):
        raise RuleDataError(f"{where}: code must look like CAT-01")
    for key in ("section", "text", "legal_basis"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise RuleDataError(f"{where}: {key} must be non-empty text")
    if not isinstance(raw["key"], bool):
        raise RuleDataError(f"{where}: key must be true or false")
    if raw["failure_outcome"] not in FAILURE_OUTCOMES:
        raise RuleDataError(f"{where}: failure_outcome must be one of {', '.join(FAILURE_OUTCOMES)}")
    return ChecklistItem(raw["code"], raw["section"].strip(), raw["text"].strip(), raw["legal_basis"].strip(),
                         raw["key"], raw["failure_outcome"])
