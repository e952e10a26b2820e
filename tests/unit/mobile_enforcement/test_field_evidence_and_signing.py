"""The field app's rules in plain Python: what evidence must say about itself and when an inspection
takes it, which references a finding may make, what a signature must be, and the version check."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from services.common.errors import Aborted, FailedPrecondition, InvalidArgument
from services.mobile_enforcement.domain.checklists import Catalog
from services.mobile_enforcement.domain.evidence import (
    CLOCK_SKEW,
    EvidenceInput,
    check_attachable,
    check_evidence,
    check_references,
    reference,
)
from services.mobile_enforcement.domain.findings import FindingInput
from services.mobile_enforcement.domain.inspections import check_version
from services.mobile_enforcement.domain.signing import SignatureInput, check_signature, is_png
from services.mobile_enforcement.models import Inspection

NOW = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)
SHA = "a" * 64
CHECKLIST = Catalog.load().in_force("CATERING", dt.date(2026, 11, 2))


def photo(**fields) -> EvidenceInput:
    given = dict(kind="PHOTO", sha256=SHA, content_type="image/jpeg", size_bytes=1000, captured_at=NOW,
                 latitude=31.1, longitude=121.4, accuracy_meters=5.0, item_code=" CAT-07 ")
    given.update(fields)
    return EvidenceInput(**given)  # type: ignore[arg-type]


def png(width: int = 40, height: int = 20) -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, "PNG")
    return out.getvalue()


def violated(error: pytest.ExceptionInfo) -> set[str]:
    return {v.field for v in error.value.violations}


def test_acceptable_evidence_comes_back_trimmed():
    assert check_evidence(photo(), NOW).item_code == "CAT-07"
    assert check_evidence(photo(latitude=None, longitude=None, item_code=""), NOW).latitude is None
    assert check_evidence(photo(captured_at=NOW + CLOCK_SKEW), NOW).captured_at == NOW + CLOCK_SKEW


@pytest.mark.parametrize(("change", "field"), [
    ({"kind": "VIDEO"}, "evidence.kind"),
    ({"sha256": "A" * 64}, "evidence.sha256"),
    ({"sha256": "a" * 65}, "evidence.sha256"),
    ({"content_type": "image/gif"}, "evidence.content_type"),
    ({"size_bytes": 0}, "evidence.size_bytes"),
    ({"size_bytes": 2001}, "evidence.size_bytes"),
    ({"captured_at": None}, "evidence.capture_time"),
    ({"captured_at": NOW + CLOCK_SKEW + dt.timedelta(seconds=1)}, "evidence.capture_time"),
    ({"latitude": -90.01}, "evidence.position.latitude"),
    ({"longitude": float("nan")}, "evidence.position.longitude"),
    ({"accuracy_meters": float("inf")}, "evidence.position_accuracy_meters"),
])
def test_malformed_evidence_is_refused_naming_the_field(change, field):
    with pytest.raises(InvalidArgument) as error:
        check_evidence(photo(**change), NOW, max_bytes=2000)
    assert violated(error) == {field}


def test_each_kind_is_taken_in_its_states_only():
    started = NOW - dt.timedelta(hours=1)
    accepted = check_evidence(photo(), NOW)
    check_attachable(accepted, "i1", "IN_PROGRESS", started, CHECKLIST)
    for state in ("PLANNED", "COMPLETED"):
        with pytest.raises(FailedPrecondition):
            check_attachable(accepted, "i1", state, started, CHECKLIST)
    signature = check_evidence(photo(kind="SIGNATURE", content_type="image/png", item_code=""), NOW)
    check_attachable(signature, "i1", "COMPLETED", started, CHECKLIST)
    with pytest.raises(FailedPrecondition):
        check_attachable(signature, "i1", "PLANNED", None, None)


def test_evidence_before_the_start_or_of_another_checklist_is_refused():
    with pytest.raises(InvalidArgument) as error:
        check_attachable(check_evidence(photo(item_code="SUP-01", captured_at=NOW - dt.timedelta(hours=2)), NOW),
                         "i1", "IN_PROGRESS", NOW - dt.timedelta(hours=1), CHECKLIST)
    assert violated(error) == {"evidence.capture_time", "evidence.item_code"}


def test_findings_may_cite_attached_evidence_and_other_references():
    cited = [FindingInput("CAT-01", "FAIL", "x", ["paper/1", reference(SHA)]),
             FindingInput("CAT-02", "FAIL", "y", [reference("b" * 64)])]
    check_references(cited[:1], {SHA})
    with pytest.raises(InvalidArgument) as error:
        check_references(cited, {SHA})
    assert violated(error) == {"findings[1].evidence_refs[0]"}


def test_a_signature_is_a_small_real_png_with_a_name_and_a_past_time():
    given = SignatureInput(" d1 ", " 张三 ", png(), NOW - dt.timedelta(minutes=1))
    assert check_signature(given, NOW) == SignatureInput("d1", "张三", given.signature_png, given.signed_at)
    assert is_png(png()) and not is_png(png()[:30]) and not is_png(b"GIF89a") and not is_png(png(5000, 5000))
    bad = SignatureInput("", "", b"\x89PNG\r\n\x1a\nrubbish", NOW + dt.timedelta(hours=1))
    with pytest.raises(InvalidArgument) as error:
        check_signature(bad, NOW, request_id="r" * 129)
    assert violated(error) == {"document_id", "signer_name", "signature_png", "sign_time", "request_id"}
    with pytest.raises(InvalidArgument) as error:
        check_signature(SignatureInput("d1", "张" * 51, png() + b"\0" * 262_144, None), NOW)
    assert violated(error) == {"signer_name", "signature_png", "sign_time"}


def test_an_action_at_another_version_is_aborted_naming_the_current_one():
    inspection = Inspection(id="i1", version=3)
    check_version(inspection, 0)
    check_version(inspection, 3)
    with pytest.raises(Aborted, match="at version 3, not 2"):
        check_version(inspection, 2)
