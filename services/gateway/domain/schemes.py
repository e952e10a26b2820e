"""The scheme the live index is scored with, and the names people read.

assessment owns the scheme (SchemeService, SchemeUpdated). Until it has told the gateway one, the
gateway scores with its starting file (rules/starting_scheme.yaml), so a dashboard shows an index
from the first second; a version assessment published always takes precedence over the file. A
version applies from its effective date (Asia/Shanghai), so a scheme published ahead of time waits.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.common import scoring
from services.common.errors import InvalidArgument, Violations
from services.common.rulebook import effective_date, read_document

STARTING_SCHEME_FILE = Path(__file__).resolve().parent.parent / "rules" / "starting_scheme.yaml"
FILE, ASSESSMENT = "file", "assessment"


@dataclass(frozen=True)
class SchemeInForce:
    """A version of the assessment scheme (考核方案) with where it came from and the indicators' names."""

    scheme: scoring.Scheme
    effective_from: dt.date
    # Where it came from: the starting file, or assessment.
    origin: str
    # Indicator key -> name (scored and unscored indicators alike).
    names: Mapping[str, str] = field(default_factory=dict)

    @property
    def version(self) -> int:
        """The scheme's version number, as assessment numbers them."""
        return self.scheme.version

    def name_of(self, key: str) -> str:
        """An indicator's name as people read it; its key when the scheme names none."""
        return self.names.get(key, key)

    def rule_of(self, key: str) -> scoring.IndicatorRule | None:
        """How the scheme scores an indicator; None for an indicator it does not score."""
        return next((rule for rule in self.scheme.indicators if rule.key == key), None)

    def series_keys(self) -> list[str]:
        """What history keeps per scope: the index, each dimension, each scored indicator."""
        return ["index", *(d.key for d in self.scheme.dimensions), *(r.key for r in self.scheme.indicators)]

    def to_body(self) -> dict[str, Any]:
        """The scheme as the gateway stores it (KnownScheme.body), read back by scheme_from_body."""
        return {**self.scheme.to_dict(), "effective_from": self.effective_from.isoformat(), "names": dict(self.names)}


def scheme_from_body(body: Mapping[str, Any], origin: str,
                     fallback_names: Mapping[str, str] | None = None) -> SchemeInForce:
    """A scheme in scoring.Scheme.from_dict form (names inline per indicator, or as "names");
    INVALID_ARGUMENT with every problem when it cannot be scored with."""
    violations = Violations()
    try:
        scheme = scoring.Scheme.from_dict(body)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidArgument.of("scheme", f"not a scheme: {exc!r}") from None
    for where, problem in scoring.validate(scheme):
        violations.add(where, problem)
    if any(dimension.key == "index" for dimension in scheme.dimensions):
        violations.add("scheme.dimensions", "'index' names the overall index, not a dimension")
    try:
        effective_from = dt.date.fromisoformat(str(body.get("effective_from", "")))
    except ValueError:
        violations.add("scheme.effective_from", f"{body.get('effective_from')!r} is not a date (YYYY-MM-DD)")
        effective_from = dt.date.min
    violations.raise_if_any("scheme cannot be used")
    names = dict(fallback_names or {})
    names.update({str(key): str(name) for key, name in (body.get("names") or {}).items()})
    names.update({str(i["key"]): str(i["name"]) for i in body.get("indicators", ()) if i.get("name")})
    names.update({str(key): str(name) for key, name in (body.get("unscored_names") or {}).items()})
    return SchemeInForce(scheme, effective_from, origin, names)


def load_starting_scheme(path: Path = STARTING_SCHEME_FILE) -> SchemeInForce:
    """The scheme of the starting file, scored with until assessment tells the gateway one; a file
    that cannot be read or has no effective date stops the gateway (RuleDataError naming the file)."""
    body = read_document(path)
    # A publication carries the day as text (YYYY-MM-DD), which is what scheme_from_body reads.
    body["effective_from"] = effective_date(body.get("effective_from"), path.name).isoformat()
    return scheme_from_body(body, FILE)


class SchemeBook:
    """Every scheme version known; which one is in force on a day."""

    def __init__(self, starting: SchemeInForce) -> None:
        self.starting = starting
        self._published: dict[int, SchemeInForce] = {}
        self._lock = threading.Lock()  # events and the feeder's answers arrive in different threads

    def add(self, scheme: SchemeInForce) -> bool:
        """Remembers a version assessment published; False when it was known already."""
        with self._lock:
            if scheme.version in self._published:
                return False
            # Names the publication lacks (an indicator it does not name) come from what we know.
            known = {**self.starting.names, **{k: v for s in self._published.values() for k, v in s.names.items()}}
            self._published[scheme.version] = SchemeInForce(scheme.scheme, scheme.effective_from, scheme.origin,
                                                            {**known, **scheme.names})
            return True

    def in_force(self, today: dt.date) -> SchemeInForce:
        """The scheme to score with today: the newest effective version assessment published, else the file's."""
        with self._lock:
            applicable = [s for s in self._published.values() if s.effective_from <= today]
        if not applicable:
            return self.starting
        return max(applicable, key=lambda s: (s.effective_from, s.version))
