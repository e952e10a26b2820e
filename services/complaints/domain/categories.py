"""The 12315 classification of complaints and reports: goods or services, class, subclass.

The tree is data (categories/*.yaml, one dated version per file); an item is classified with the
version in force on the day it was received. A caller gives a class or subclass code, which must be
in that version (an unknown code is refused); an older caller that only sends a free-text subject
("食品安全") is classified when the subject is a node's name or alias, and left unclassified ("")
otherwise, counted as such in the statistics.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.common.rulebook import RuleBook, RuleDataError, load_rule_sets, read_rule_set, required

CATEGORIES_DIR = Path(__file__).resolve().parent.parent / "categories"
GOODS, SERVICES = "G", "S"
_FILE_KEYS = {"id", "title", "effective_from", "tree"}
MAX_CODE = 16


@dataclass(frozen=True)
class Category:
    """One node of the tree: a class (two levels) or a subclass (three), with its parents' codes."""

    code: str
    name: str
    # The top level: "G" goods (商品) or "S" services (服务).
    domain: str
    # The class (大类) the node is or belongs to.
    class_code: str
    # The full path of names, e.g. "商品 / 食品 / 预包装食品".
    path: str


@dataclass(frozen=True)
class CategoryTree:
    """One dated version of the classification."""

    id: str
    title: str
    effective_from: dt.date
    nodes: dict[str, Category]
    # Free-text subjects (names and aliases) -> the node's code.
    names: dict[str, str]

    def find(self, code: str) -> Category | None:
        """The class or subclass with this code, None when this version has none."""
        return self.nodes.get(code)

    def classify(self, subject: str) -> str:
        """The code a free-text subject names (a code itself, a node's name or alias), else ""."""
        subject = subject.strip()
        if subject in self.nodes:
            return subject
        return self.names.get(subject, "")


class CategoryBook:
    """Every version of the tree, by effective date."""

    def __init__(self, book: RuleBook[CategoryTree]) -> None:
        self._book = book

    @classmethod
    def load(cls, directory: Path = CATEGORIES_DIR) -> CategoryBook:
        """Every version file of `directory`; RuleDataError naming the file and node when one is wrong."""
        return cls(load_rule_sets("complaint categories", directory, _read))

    def on(self, day: dt.date) -> CategoryTree:
        """The version in force on `day` (the oldest for days before it)."""
        return self._book.applicable(day)

    def get(self, tree_id: str) -> CategoryTree | None:
        """The version with this id, None when unknown."""
        return self._book.get(tree_id)

    @property
    def versions(self) -> list[CategoryTree]:
        """Every version, oldest first."""
        return list(self._book.rule_sets)


def _read(path: Path) -> CategoryTree:
    document = read_rule_set(path, _FILE_KEYS)
    tops = document["tree"]
    if not isinstance(tops, list) or {top.get("code") for top in tops if isinstance(top, dict)} != {GOODS, SERVICES}:
        raise RuleDataError(f"{path.name}: tree must hold exactly the two top levels {GOODS} and {SERVICES}")
    nodes: dict[str, Category] = {}
    names: dict[str, str] = {}

    def add(entry: Any, where: str, domain: str, class_code: str, parent_path: str) -> Category:
        if not isinstance(entry, dict):
            raise RuleDataError(f"{where}: must be a mapping with code and name")
        code, name = required(entry, "code", str, where), required(entry, "name", str, where)
        if not code.startswith(class_code or domain) or len(code) > MAX_CODE or code in nodes:
            raise RuleDataError(f"{where}: code {code!r} must be new, at most {MAX_CODE} characters and "
                                f"start with its parent's code")
        node = Category(code, name, domain, class_code or code, f"{parent_path} / {name}")
        nodes[code] = node
        for alias in [name, *entry.get("aliases", [])]:
            if not isinstance(alias, str) or names.get(alias, code) != code:
                raise RuleDataError(f"{where}: name or alias {alias!r} already names another node")
            names[alias] = code
        return node

    for top in tops:
        domain = top["code"]
        top_name = required(top, "name", str, f"{path.name}: tree.{domain}")
        classes = top.get("classes")
        if not isinstance(classes, list) or not classes:
            raise RuleDataError(f"{path.name}: tree.{domain}.classes must list the classes")
        for index, entry in enumerate(classes):
            where = f"{path.name}: tree.{domain}.classes[{index}]"
            node = add(entry, where, domain, "", top_name)
            for sub_index, sub in enumerate(entry.get("subclasses") or []):
                add(sub, f"{where}.subclasses[{sub_index}]", domain, node.code, node.path)
    return CategoryTree(id=str(document["id"]), title=str(document["title"]),
                        effective_from=document["effective_from"], nodes=nodes, names=names)
