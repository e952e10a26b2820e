"""The party's signature on the inspection record (现场检查笔录): the record printed again with the
signature drawn on the officer's screen and the signatory's name and time under it, kept as a signed
copy beside the original (same number: a copy is no new document), its SHA-256 and the signature's
recorded in the inspection's trail. A record is signed once."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
from dataclasses import dataclass, replace

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.access import require_write
from services.common.context import Caller
from services.common.errors import FailedPrecondition, InvalidArgument, Violations
from services.common.idempotency import MAX_REQUEST_ID, earlier_request, run_once
from services.mobile_enforcement.domain.document_content import DocumentContent, content_digest, digest, local_time
from services.mobile_enforcement.domain.document_settings import INSPECTION, INSPECTION_RECORD, PDF
from services.mobile_enforcement.domain.documents import Documents, get_document, owner_of, parse_subject
from services.mobile_enforcement.domain.evidence import CLOCK_SKEW
from services.mobile_enforcement.models import Case, Document, Inspection, RequestKey

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 256 * 1024
MAX_SIGNER_NAME = 50
# A signature drawn on a phone is a few hundred pixels; anything far larger is no signature (and
# decoding it would cost memory).
MAX_SIGNATURE_PIXELS = 4096 * 4096


@dataclass(frozen=True)
class SignatureInput:
    """The party's signature as the phone sends it, before validation."""

    document_id: str
    signer_name: str
    signature_png: bytes
    signed_at: dt.datetime | None


def is_png(data: bytes) -> bool:
    """True when the bytes are a whole PNG image Pillow can read (magic bytes, chunks and checksums)."""
    if not data.startswith(PNG_MAGIC):
        return False
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG" or image.width * image.height > MAX_SIGNATURE_PIXELS:
                return False
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    return True


def check_signature(given: SignatureInput, now: dt.datetime, request_id: str = "") -> SignatureInput:
    """The signature with the name trimmed, when it is acceptable in itself (every problem at once)."""
    violations = Violations()
    if len(request_id) > MAX_REQUEST_ID:
        violations.add("request_id", f"at most {MAX_REQUEST_ID} characters")
    if not given.document_id.strip():
        violations.add("document_id", "must not be empty")
    name = given.signer_name.strip()
    if not 1 <= len(name) <= MAX_SIGNER_NAME:
        violations.add("signer_name", f"1 to {MAX_SIGNER_NAME} characters")
    if not given.signature_png:
        violations.add("signature_png", "required: the signature drawn on the screen, as PNG")
    elif len(given.signature_png) > MAX_SIGNATURE_BYTES:
        violations.add("signature_png", f"at most {MAX_SIGNATURE_BYTES} bytes")
    elif not is_png(given.signature_png):
        violations.add("signature_png", "not a PNG image")
    if given.signed_at is None:
        violations.add("sign_time", "required: when the party signed")
    elif given.signed_at > now + CLOCK_SKEW:
        violations.add("sign_time", f"{given.signed_at.isoformat()} is in the future")
    violations.raise_if_any("invalid signature")
    return SignatureInput(given.document_id.strip(), name, given.signature_png, given.signed_at)


def check_signable(original: Document, signed_at: dt.datetime) -> None:
    """Refuses a document that is no original inspection record (FAILED_PRECONDITION) and a signing
    before the record was issued (INVALID_ARGUMENT)."""
    if original.kind != INSPECTION_RECORD:
        raise FailedPrecondition(f"document {original.id} is a {original.kind}; only an {INSPECTION_RECORD} "
                                 "(现场检查笔录) is signed by the party")
    if original.signed_copy_of is not None:
        raise FailedPrecondition(f"document {original.id} is itself the signed copy of {original.signed_copy_of}")
    if signed_at < original.created_at:
        raise InvalidArgument.of("sign_time", f"{signed_at.isoformat()} is before the record was issued "
                                              f"({original.created_at.isoformat()})")


def signed_copy_id(session: Session, original_id: str) -> str | None:
    """The id of the original's signed copy, if it was signed."""
    return session.scalar(select(Document.id).where(Document.signed_copy_of == original_id))


class Signing:
    """Signed copies of inspection records (当事人签名的现场检查笔录)."""

    def __init__(self, documents: Documents) -> None:
        self.documents = documents
        self.workspace = documents.workspace

    def sign(self, caller: Caller, request_id: str, given: SignatureInput) -> Document:
        """The record's signed copy, once per record (and per request id: a repeat returns the first copy)."""
        signature = check_signature(given, self.workspace.now(), request_id)
        draft = self._draft(caller, request_id, signature)

        def create(session: Session) -> str:
            original = get_document(session, signature.document_id)
            owner = owner_of(session, *parse_subject(original.subject), lock=True)
            content = self._content(session, caller, original, owner, signature)
            pdf = draft[1] if draft is not None and draft[0] == content else self.documents.render(content)
            copy = Document(id=str(uuid.uuid4()), subject=original.subject, kind=original.kind,
                            office_id=original.office_id, number=original.number, year=original.year,
                            sequence=original.sequence, sha256=digest(pdf), content_type=PDF, size_bytes=len(pdf),
                            content=pdf, issued_by=caller.subject, created_at=self.workspace.now(),
                            content_digest=original.content_digest, signed_copy_of=original.id,
                            signer_name=signature.signer_name,
                            signature_sha256=hashlib.sha256(signature.signature_png).hexdigest(),
                            signed_at=signature.signed_at)
            session.add(copy)
            session.flush()
            owner.trail_head = self.workspace.record(
                session, original.subject, "document signed", caller.subject, state=owner.state,
                document_id=copy.id, signed_copy_of=original.id, kind=original.kind, number=original.number,
                sha256=copy.sha256, size_bytes=copy.size_bytes, signature_sha256=copy.signature_sha256,
                signer_name=copy.signer_name, sign_time=content.signed_at)
            return copy.id

        return run_once(self.workspace.store, RequestKey, request_id, "SignDocument", create, get_document)

    def _draft(self, caller: Caller, request_id: str,
               signature: SignatureInput) -> tuple[DocumentContent, bytes] | None:
        """The signed copy rendered ahead of the write transaction (a render holds the writer a tenth
        of a second or more); None for a repeat. Refusals are raised here already."""
        with self.workspace.store.read() as session:
            if request_id and earlier_request(session, RequestKey, request_id) is not None:
                return None
            original = get_document(session, signature.document_id)
            owner = owner_of(session, *parse_subject(original.subject))
            content = self._content(session, caller, original, owner, signature)
        return content, self.documents.render(content)

    def _content(self, session: Session, caller: Caller, original: Document, owner: Inspection | Case,
                 signature: SignatureInput) -> DocumentContent:
        if not isinstance(owner, Inspection) or not original.subject.startswith(f"{INSPECTION}/"):
            raise FailedPrecondition(f"document {original.id} is not an inspection's record")
        require_write(caller, original.office_id)
        signed_at = signature.signed_at
        if signed_at is None:  # check_signature refused it already
            raise InvalidArgument.of("sign_time", "required: when the party signed")
        check_signable(original, signed_at)
        existing = signed_copy_id(session, original.id)
        if existing is not None:
            raise FailedPrecondition(f"record {original.number} was already signed (signed copy {existing})")
        stated = self.documents.stated(session, original, owner)
        if original.content_digest and content_digest(stated) != original.content_digest:
            raise FailedPrecondition(f"inspection {owner.id} has changed since record {original.number} was "
                                     "issued (findings, completion or the entity): the party signs the record as "
                                     "issued, and it no longer states the inspection")
        return replace(stated, signature_png=signature.signature_png, signer_name=signature.signer_name,
                       signed_at=local_time(signed_at))
