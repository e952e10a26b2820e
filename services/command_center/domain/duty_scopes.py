"""The scopes a duty item may apply under (农贸市场, 工业园区, 港口…): an office is responsible for
an item with a scope only when it declares that scope, so offices whose work differs are
judged on different lists. The list is bureau data (rules/duty_scopes.yaml), checked at start."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from services.common.rulebook import RuleDataError, effective_date, read_document

SCOPES_FILE = Path(__file__).resolve().parent.parent / "rules" / "duty_scopes.yaml"
SCOPE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def load_scopes(path: Path = SCOPES_FILE) -> Mapping[str, str]:
    """The known scopes, key -> what an office declaring it has; RuleDataError naming what is wrong."""
    document = read_document(path)
    if set(document) != {"effective_from", "scopes"}:
        raise RuleDataError(f"{path.name}: expected exactly effective_from and scopes")
    effective_date(document["effective_from"], path.name)
    scopes = document["scopes"]
    if not isinstance(scopes, dict) or not scopes:
        raise RuleDataError(f"{path.name}: scopes must be a non-empty mapping of key to description")
    for key, description in scopes.items():
        if not isinstance(key, str) or not SCOPE_KEY.match(key):
            raise RuleDataError(f"{path.name}: scopes.{key}: a key of 1-32 lower-case letters, digits or '_'")
        if not isinstance(description, str) or not description.strip():
            raise RuleDataError(f"{path.name}: scopes.{key}: a description is required")
    return dict(scopes)
