"""Rule sets by effective date: legal figures and bureau policy are data, and the set in force on
the day a clock started (or a check was made) is the one that applies, so a changed rule never
re-judges what was done under the old one. Each service parses its own files into its own rule-set
type; this is the shared part: ordering, lookup by date and by id, and the consistency checks."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class RuleDataError(ValueError):
    """Rule data that cannot be used; the message names the file or set and what is wrong."""


class RuleBook(Generic[T]):
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
        return self.rule_sets[0]

    @property
    def first_effective(self) -> dt.date:
        return self._dates[0]

    def in_force(self, day: dt.date) -> T | None:
        """The set whose effective date is the latest on or before `day`; None before the first."""
        position = bisect.bisect_right(self._dates, day)
        return self.rule_sets[position - 1] if position else None

    def get(self, rule_id: str) -> T | None:
        return self._by_id.get(rule_id)
