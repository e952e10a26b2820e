"""Bureau rules as versioned data: each file holds versions with an effective date, and the version
in force on a given day applies, so a changed rule never re-judges what was done under the old one.
A file that cannot be read stops the service at start with the file and the entry named."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml

T = TypeVar("T")


class RuleError(ValueError):
    pass


class RuleBook(Generic[T]):
    def __init__(self, name: str, versions: list[tuple[dt.date, T]]):
        if not versions:
            raise RuleError(f"{name}: no versions")
        self.name = name
        self.versions = sorted(versions, key=lambda pair: pair[0])

    @classmethod
    def load(cls, path: Path, parse: Callable[[dict[str, Any], str], T]) -> RuleBook[T]:
        document = read_yaml(path)
        if not isinstance(document.get("versions"), list):
            raise RuleError(f"{path.name}: expected a list of versions")
        versions: list[tuple[dt.date, T]] = []
        for index, entry in enumerate(document["versions"]):
            where = f"{path.name}: versions[{index}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("effective_from"), dt.date):
                raise RuleError(f"{where}: effective_from must be a date (YYYY-MM-DD)")
            if any(day == entry["effective_from"] for day, _ in versions):
                raise RuleError(f"{where}: a second version effective from {entry['effective_from']}")
            versions.append((entry["effective_from"], parse(entry, where)))
        return cls(path.name, versions)

    def in_force(self, day: dt.date) -> tuple[dt.date, T]:
        """The version in force on `day` with its effective date; before the first version the
        earliest applies (records older than the data are judged by the oldest rules written)."""
        current = self.versions[0]
        for version in self.versions:
            if version[0] > day:
                break
            current = version
        return current


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RuleError(f"{path.name}: cannot read: {exc}") from None
    if not isinstance(document, dict):
        raise RuleError(f"{path.name}: expected a mapping")
    return document


def number(entry: dict[str, Any], key: str, where: str, *, low: float = 0.0, high: float = float("inf")) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise RuleError(f"{where}.{key}: a number in [{low:g}, {high:g}] is required")
    return float(value)
