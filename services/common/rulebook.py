"""Rule sets by effective date: legal figures and bureau policy are data, and the set in force on
the day a clock started (or a check was made) is the one that applies, so a changed rule never
re-judges what was done under the old one.

This is the one loader of every service's rule files. Two layouts exist:

- a directory of files, one rule set per file, each naming its `id` and `effective_from`
  (`load_rule_sets`, with `read_rule_set` checking the keys every such file shares);
- one file whose `versions:` list holds dated versions of one standard (`VersionedRules.load`).

Each service parses the entries into its own frozen dataclasses; this module reads the YAML, orders
the sets, finds the one in force on a day, and refuses data that cannot be used with a
`RuleDataError` naming the file and the field, so a typo stops the service at start instead of
misjudging a case later.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

import yaml

T = TypeVar("T")
V = TypeVar("V")

# libyaml's loader when PyYAML was built with it: every process start and test host reads the rules.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class RuleDataError(ValueError):
    """Rule data that cannot be used; the message names the file or set and what is wrong."""


class RuleBook(Generic[T]):
    """Rule sets ordered by effective date, found by the day they apply to or by their id."""

    def __init__(self, name: str, rule_sets: Iterable[T], *, effective_from: Callable[[T], dt.date],
                 rule_id: Callable[[T], str] | None = None):
        self.name = name
        self.rule_sets = sorted(rule_sets, key=effective_from)
        if not self.rule_sets:
            raise RuleDataError(f"{name}: no rule sets")
        self._dates = [effective_from(r) for r in self.rule_sets]
        if len(set(self._dates)) != len(self._dates):
            raise RuleDataError(f"{name}: two rule sets take effect on the same day")
        self._by_id: dict[str, T] = {}
        if rule_id is not None:
            self._by_id = {rule_id(r): r for r in self.rule_sets}
            if len(self._by_id) != len(self.rule_sets):
                raise RuleDataError(f"{name}: two rule sets share an id")

    @property
    def earliest(self) -> T:
        """The oldest rule set written down."""
        return self.rule_sets[0]

    @property
    def first_effective(self) -> dt.date:
        """The day the oldest rule set took effect; before it no rule set is in force."""
        return self._dates[0]

    def in_force(self, day: dt.date) -> T | None:
        """The set whose effective date is the latest on or before `day`; None before the first."""
        position = bisect.bisect_right(self._dates, day)
        return self.rule_sets[position - 1] if position else None

    def applicable(self, day: dt.date) -> T:
        """The set in force on `day`, or before the first the earliest: records older than the data
        are judged by the oldest rules the bureau wrote down."""
        found = self.in_force(day)
        return self.earliest if found is None else found

    def get(self, rule_id: str) -> T | None:
        """The set with this id (as a stored clock names it), None when the book has none."""
        return self._by_id.get(rule_id)


# ---------------------------------------------------------------- reading files


def read_document(path: Path) -> dict[str, Any]:
    """A rule file's top-level mapping; RuleDataError naming the file when it is unreadable or not one."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except OSError as exc:
        raise RuleDataError(f"{path.name}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise RuleDataError(f"{path.name}: cannot read, not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise RuleDataError(f"{path.name}: must be a mapping")
    return document


def effective_date(value: object, where: str) -> dt.date:
    """An `effective_from` value as a calendar day; RuleDataError naming `where` otherwise."""
    # A YAML timestamp is a datetime, a subclass of date that cannot be compared with one.
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise RuleDataError(f"{where}: effective_from must be a date (YYYY-MM-DD)")
    return value


def required(entry: Mapping[str, Any], key: str, kind: type[V], where: str) -> V:
    """The value of `key` when it has the type `kind` (true/false is no number); else RuleDataError."""
    value = entry.get(key)
    if (isinstance(value, bool) and kind is not bool) or not isinstance(value, kind):
        raise RuleDataError(f"{where}.{key}: missing or of the wrong type")
    return value


def number(entry: Mapping[str, Any], key: str, where: str, *, low: float = 0.0, high: float = math.inf) -> float:
    """A finite number in [low, high] under `key`; RuleDataError naming `where`.`key` otherwise."""
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not low <= value <= high:
        wanted = f"a finite number >= {low:g}" if math.isinf(high) else f"a number in [{low:g}, {high:g}]"
        raise RuleDataError(f"{where}.{key}: {wanted} is required")
    return float(value)


# ---------------------------------------------------------------- one rule set per file


class DatedRuleSet(Protocol):
    """A rule set kept in a file of its own: it names itself and the day it takes effect."""

    @property
    def id(self) -> str:
        """The rule set's name, as stored clocks refer to it (e.g. samr-order-20)."""

    @property
    def effective_from(self) -> dt.date:
        """The first day the rule set applies."""


R = TypeVar("R", bound=DatedRuleSet)


def read_rule_set(path: Path, keys: Collection[str]) -> dict[str, Any]:
    """A one-rule-set file: exactly `keys`, `effective_from` a date and `confirmed` (when a key)
    true or false, else RuleDataError naming the file; the service checks its own figures."""
    document = read_document(path)
    unknown = sorted(map(str, set(document) - set(keys)))
    missing = sorted(set(keys) - set(document))
    if unknown or missing:
        raise RuleDataError(f"{path.name}: unknown keys {unknown}, missing keys {missing}")
    effective_date(document["effective_from"], path.name)
    if "confirmed" in keys and not isinstance(document["confirmed"], bool):
        # False while the figures are placeholders nobody checked against the text.
        raise RuleDataError(f"{path.name}: confirmed must be true or false")
    return document


def load_rule_sets(name: str, directory: Path, read: Callable[[Path], R]) -> RuleBook[R]:
    """Every *.yaml of `directory`, one rule set each, read by `read` and checked as one book."""
    return RuleBook(name, [read(path) for path in sorted(directory.glob("*.yaml"))],
                    effective_from=lambda rule_set: rule_set.effective_from, rule_id=lambda rule_set: rule_set.id)


# ---------------------------------------------------------------- dated versions in one file


class Version(NamedTuple, Generic[T]):
    """One version of a standard or policy and the day it took effect."""

    effective_from: dt.date
    rules: T


class VersionedRules(Generic[T]):
    """The versions of one rule file (`versions:`, each with its `effective_from`) by date."""

    def __init__(self, name: str, versions: Iterable[Version[T]]):
        self.name = name
        self._book = RuleBook(name, versions, effective_from=lambda version: version.effective_from)

    @classmethod
    def load(cls, path: Path, parse: Callable[[dict[str, Any], str], T]) -> VersionedRules[T]:
        """Reads `path`; `parse` turns each entry into the rules, given the entry's place for errors."""
        document = read_document(path)
        if not isinstance(document.get("versions"), list):
            raise RuleDataError(f"{path.name}: expected a list of versions")
        versions: list[Version[T]] = []
        for index, entry in enumerate(document["versions"]):
            where = f"{path.name}: versions[{index}]"
            if not isinstance(entry, dict):
                raise RuleDataError(f"{where}: effective_from must be a date (YYYY-MM-DD)")
            day = effective_date(entry.get("effective_from"), where)
            if any(version.effective_from == day for version in versions):
                raise RuleDataError(f"{where}: a second version effective from {day}")
            versions.append(Version(day, parse(entry, where)))
        return cls(path.name, versions)

    @property
    def versions(self) -> Sequence[Version[T]]:
        """Every version, oldest first."""
        return self._book.rule_sets

    def version(self, day: dt.date) -> Version[T]:
        """The version that applies on `day` with its effective date; before the first, the earliest."""
        return self._book.applicable(day)

    def in_force(self, day: dt.date) -> T:
        """The rules that apply on `day` (before the first version: the earliest)."""
        return self.version(day).rules

    def effective_from(self, day: dt.date) -> dt.date:
        """When the version that applies on `day` took effect."""
        return self.version(day).effective_from
