"""Counts of the cases each class of the suite tried, printed at the end of the run (docs/reliability.md
quotes them)."""

from __future__ import annotations

from collections import Counter

_COUNTS: Counter[str] = Counter()
_NOTES: dict[str, list[str]] = {}


def count(kind: str, n: int = 1) -> None:
    _COUNTS[kind] += n


def note(kind: str, text: str) -> None:
    _NOTES.setdefault(kind, []).append(text)


def summary() -> list[str]:
    lines = [f"{n:>7}  {kind}" for kind, n in sorted(_COUNTS.items())]
    for kind, texts in sorted(_NOTES.items()):
        for text in texts[:20]:
            lines.append(f"         {kind}: {text}")
    return lines
