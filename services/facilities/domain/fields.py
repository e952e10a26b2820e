"""Checks shared by the use cases' inputs; each adds a field violation instead of raising."""

from __future__ import annotations

import datetime as dt

from services.common.errors import Violations

MAX_PHOTOS = 20
MAX_PHOTO_REF = 500
MAX_TEXT = 4000
MAX_NAME = 50


def check_text(violations: Violations, field: str, value: str, limit: int, *, required: bool) -> None:
    """A free text within its length, and not blank when required."""
    if required and not value.strip():
        violations.add(field, "must not be empty")
    elif len(value) > limit:
        violations.add(field, f"at most {limit} characters")


def check_photo_refs(violations: Violations, field: str, refs: list[str]) -> None:
    """The photos a check refers to: not too many, each reference neither blank nor too long."""
    if len(refs) > MAX_PHOTOS:
        violations.add(field, f"at most {MAX_PHOTOS} photos")
    for index, ref in enumerate(refs):
        if not ref.strip() or len(ref) > MAX_PHOTO_REF:
            violations.add(f"{field}[{index}]", f"a reference of 1-{MAX_PHOTO_REF} characters")


def check_day_not_ahead(violations: Violations, field: str, day: dt.date, today: dt.date) -> None:
    """A day that is not after today in Asia/Shanghai: nothing is recorded ahead of time."""
    if day > today:
        violations.add(field, f"{day} is in the future (today is {today} in Asia/Shanghai)")
