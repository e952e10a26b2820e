"""Evidence attached on site (现场取证), in plain Python: what a photo, a signature or a signed record
must say about itself to be recorded on an inspection, when each kind may be attached, and which
references a finding may make to them. The file itself lives in the gateway's attachment store
under its SHA-256; the inspection keeps the hash, and its trail the hash with the time and place
the phone captured it, so a file swapped in the store afterwards no longer matches its record."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.errors import FailedPrecondition, Violations
from services.mobile_enforcement.domain.checklists import Checklist
from services.mobile_enforcement.domain.findings import FindingInput
from services.mobile_enforcement.domain.vocabulary import COMPLETED, IN_PROGRESS
from services.mobile_enforcement.models import InspectionEvidence

PHOTO, SIGNATURE, SIGNED_RECORD = "PHOTO", "SIGNATURE", "SIGNED_RECORD"
KINDS = (PHOTO, SIGNATURE, SIGNED_RECORD)
# The states an inspection accepts each kind in: photos while the officers are on site; the party's
# signature and the signed record also once it is completed (the record is signed at the end).
STATES_FOR_KIND = {PHOTO: (IN_PROGRESS,), SIGNATURE: (IN_PROGRESS, COMPLETED),
                   SIGNED_RECORD: (IN_PROGRESS, COMPLETED)}
CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")
# The largest file the record accepts. What is uploaded is the gateway's to limit (ATTACHMENT_MAX_BYTES,
# 10 MiB by default, at most this): the service only refuses a size no phone's photo or PDF reaches.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# Phones' clocks drift: a capture this far after the service's now, or before the start, is still
# taken as the phone's honest time.
CLOCK_SKEW = dt.timedelta(minutes=5)
REFERENCE_PREFIX = "evidence:"
MAX_ITEM_CODE = 16
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class EvidenceInput:
    """A file to record on an inspection, as the phone describes it, before validation."""

    kind: str
    sha256: str
    content_type: str
    size_bytes: int
    captured_at: dt.datetime | None
    # Both None when the phone gave no position.
    latitude: float | None = None
    longitude: float | None = None
    accuracy_meters: float = 0.0
    item_code: str = ""


def reference(sha256: str) -> str:
    """The reference a finding cites a piece of evidence by: evidence:<sha256>."""
    return f"{REFERENCE_PREFIX}{sha256}"


def check_evidence(given: EvidenceInput, now: dt.datetime, max_bytes: int = DEFAULT_MAX_BYTES) -> EvidenceInput:
    """The evidence with its item code trimmed, when it describes itself acceptably (every problem at once)."""
    violations = Violations()
    where = "evidence"
    if given.kind not in KINDS:
        violations.add(f"{where}.kind", f"must be one of {', '.join(KINDS)}")
    if not _SHA256.fullmatch(given.sha256):
        violations.add(f"{where}.sha256", "64 lowercase hexadecimal digits (the file's SHA-256)")
    if given.content_type not in CONTENT_TYPES:
        violations.add(f"{where}.content_type", f"must be one of {', '.join(CONTENT_TYPES)}")
    if given.size_bytes <= 0:
        violations.add(f"{where}.size_bytes", "must be more than 0")
    elif given.size_bytes > max_bytes:
        violations.add(f"{where}.size_bytes", f"at most {max_bytes} bytes")
    if given.captured_at is None:
        violations.add(f"{where}.capture_time", "required: when the phone captured it")
    elif given.captured_at > now + CLOCK_SKEW:
        violations.add(f"{where}.capture_time", f"{given.captured_at.isoformat()} is in the future")
    if given.latitude is not None and not -90 <= given.latitude <= 90:
        violations.add(f"{where}.position.latitude", "between -90 and 90")
    if given.longitude is not None and not -180 <= given.longitude <= 180:
        violations.add(f"{where}.position.longitude", "between -180 and 180")
    if not math.isfinite(given.accuracy_meters) or given.accuracy_meters < 0:
        violations.add(f"{where}.position_accuracy_meters", "0 (unknown) or more")
    if len(given.item_code.strip()) > MAX_ITEM_CODE:
        violations.add(f"{where}.item_code", f"at most {MAX_ITEM_CODE} characters")
    violations.raise_if_any("invalid evidence")
    return replace(given, item_code=given.item_code.strip())


def check_attachable(given: EvidenceInput, inspection_id: str, state: str, started_at: dt.datetime | None,
                     checklist: Checklist | None) -> None:
    """Refuses evidence the inspection cannot take now: a kind not accepted in its state
    (FAILED_PRECONDITION), a capture before it started or an item not on its checklist (INVALID_ARGUMENT)."""
    accepted = STATES_FOR_KIND[given.kind]
    if state not in accepted:
        raise FailedPrecondition(f"inspection {inspection_id} is {state}; {given.kind} evidence is attached to an "
                                 f"inspection {' or '.join(accepted)}")
    violations = Violations()
    if started_at is not None and given.captured_at is not None and given.captured_at < started_at - CLOCK_SKEW:
        violations.add("evidence.capture_time", f"{given.captured_at.isoformat()} is before the inspection started "
                                                f"({started_at.isoformat()})")
    if given.item_code and (checklist is None or checklist.item(given.item_code) is None):
        what = f"the {checklist.category} checklist version {checklist.version}" if checklist else "its checklist"
        violations.add("evidence.item_code", f"{given.item_code!r} is not an item of {what}")
    violations.raise_if_any("invalid evidence")


def check_references(findings: Sequence[FindingInput], attached: set[str]) -> None:
    """Refuses a finding citing evidence:<sha256> that is not attached to the inspection; other
    reference forms (a document number, an outside store's key) are taken as given."""
    violations = Violations()
    for index, finding in enumerate(findings):
        for number, cited in enumerate(finding.evidence_refs):
            if cited.startswith(REFERENCE_PREFIX) and cited.removeprefix(REFERENCE_PREFIX) not in attached:
                violations.add(f"findings[{index}].evidence_refs[{number}]",
                               f"{cited} is not evidence attached to this inspection (AttachEvidence first)")
    violations.raise_if_any("invalid findings")


def evidence_of(session: Session, inspection_id: str) -> list[InspectionEvidence]:
    """The evidence attached to an inspection, in the order attached."""
    return list(session.scalars(select(InspectionEvidence).where(InspectionEvidence.inspection_id == inspection_id)
                                .order_by(InspectionEvidence.position)))


def evidence_by_inspection(session: Session, inspection_ids: Sequence[str]) -> dict[str, list[InspectionEvidence]]:
    """The evidence of several inspections in one query, each list in the order attached."""
    found: dict[str, list[InspectionEvidence]] = {inspection_id: [] for inspection_id in inspection_ids}
    if not found:
        return found
    for row in session.scalars(select(InspectionEvidence).where(InspectionEvidence.inspection_id.in_(list(found)))
                               .order_by(InspectionEvidence.inspection_id, InspectionEvidence.position)):
        found[row.inspection_id].append(row)
    return found

