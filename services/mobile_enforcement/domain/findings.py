"""Checklist results of an inspection, in plain Python: which are acceptable, which items are still
unanswered, and what outcome the failed items call for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from services.common.errors import FailedPrecondition, FieldViolation, Violations
from services.mobile_enforcement.domain.checklists import Checklist
from services.mobile_enforcement.domain.vocabulary import (
    COMPLIANT,
    FAIL,
    NOT_APPLICABLE,
    OUTCOME_FOR_FAILURE,
    OUTCOME_SEVERITY,
    PASS,
    RECTIFICATION_ORDERED,
)

RESULTS = (PASS, FAIL, NOT_APPLICABLE)
MAX_NOTE = 2000
MAX_EVIDENCE = 20
MAX_REFERENCE = 300
MAX_SUMMARY = 4000
MAX_RECTIFICATION_DAYS = 366


@dataclass(frozen=True)
class FindingInput:
    """A checklist item's result as the officers give it, before validation."""

    item_code: str
    result: str
    note: str = ""
    evidence_refs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Answered:
    """A stored result, as the rules need it."""

    item_code: str
    result: str
    note: str
    evidence_refs: list[str]


def check_findings(findings: list[FindingInput], checklist: Checklist) -> list[FindingInput]:
    """The results with codes and notes trimmed, when every one answers an item of the checklist once."""
    violations = Violations()
    if not findings:
        violations.add("findings", "give at least one item's result")
    codes = [f.item_code.strip() for f in findings]
    for index, finding in enumerate(findings):
        where = f"findings[{index}]"
        code = codes[index]
        if checklist.item(code) is None:
            violations.add(f"{where}.item_code", f"{code!r} is not an item of the {checklist.category} checklist "
                                                 f"version {checklist.version}")
        elif code in codes[:index]:
            violations.add(f"{where}.item_code", f"{code} is given twice")
        if finding.result not in RESULTS:
            violations.add(f"{where}.result", f"must be one of {', '.join(RESULTS)}")
        if len(finding.note) > MAX_NOTE:
            violations.add(f"{where}.note", f"at most {MAX_NOTE} characters")
        if len(finding.evidence_refs) > MAX_EVIDENCE:
            violations.add(f"{where}.evidence_refs", f"at most {MAX_EVIDENCE} references")
        for number, reference in enumerate(finding.evidence_refs):
            if not reference.strip() or len(reference) > MAX_REFERENCE:
                violations.add(f"{where}.evidence_refs[{number}]", f"1-{MAX_REFERENCE} characters")
    violations.raise_if_any("invalid findings")
    return [FindingInput(code, f.result, f.note.strip(), [r.strip() for r in f.evidence_refs])
            for code, f in zip(codes, findings, strict=True)]


def unanswered(checklist: Checklist, answered: Iterable[Answered]) -> list[str]:
    """The codes of the checklist's items without a result, in checklist order."""
    done = {a.item_code for a in answered}
    return [item.code for item in checklist.items if item.code not in done]


def implied_outcome(checklist: Checklist, answered: Iterable[Answered]) -> str:
    """The least outcome the failed items allow: the most severe of what each failure implies."""
    outcome = COMPLIANT
    for finding in answered:
        item = checklist.item(finding.item_code)
        if finding.result == FAIL and item is not None:
            implied = OUTCOME_FOR_FAILURE[item.failure_outcome]
            if OUTCOME_SEVERITY.index(implied) > OUTCOME_SEVERITY.index(outcome):
                outcome = implied
    return outcome


def evidence_complete(answered: Iterable[Answered]) -> bool:
    """Every failed item says what was wrong and points at evidence of it."""
    return all(a.note and a.evidence_refs for a in answered if a.result == FAIL)


def check_completion(checklist: Checklist, answered: list[Answered], requested: str | None,
                     rectification_due: dt.date | None, summary: str, today: dt.date) -> str:
    """The outcome an inspection completes with, or why it cannot complete."""
    violations = Violations()
    if len(summary) > MAX_SUMMARY:
        violations.add("summary", f"at most {MAX_SUMMARY} characters")
    if requested is not None and requested not in OUTCOME_SEVERITY:
        violations.add("outcome", f"must be one of {', '.join(OUTCOME_SEVERITY)}")
    outcome = requested or implied_outcome(checklist, answered)
    if outcome == RECTIFICATION_ORDERED:
        if rectification_due is None:
            violations.add("rectification_due", "required when rectification is ordered")
        elif rectification_due <= today:
            violations.add("rectification_due", f"must be after today ({today})")
        elif (rectification_due - today).days > MAX_RECTIFICATION_DAYS:
            violations.add("rectification_due", "more than a year ahead")
    elif rectification_due is not None:
        violations.add("rectification_due", "only given when rectification is ordered")
    violations.raise_if_any("invalid completion")
    missing = unanswered(checklist, answered)
    if missing:
        wanting = Violations()
        for item in checklist.items:
            if item.code in missing:
                wanting.add(f"checklist.{item.code}", f"{item.text}: no result recorded")
        raise FailedPrecondition(f"{len(missing)} checklist item(s) unanswered: {', '.join(missing)}", wanting.items)
    least = implied_outcome(checklist, answered)
    if OUTCOME_SEVERITY.index(outcome) < OUTCOME_SEVERITY.index(least):
        failed = [a.item_code for a in answered if a.result == FAIL]
        raise FailedPrecondition(f"the failed items ({', '.join(failed)}) call for at least {least}",
                                 [FieldViolation("outcome", f"at least {least}")])
    return outcome
