"""The field app's files: photos and signatures uploaded to the attachment store and attached to the
inspection (AttachEvidence), the files read back by their office's people, and the 现场检查笔录 issued
and signed on the party's screen (the signature and the signed PDF kept as evidence too).

An upload is checked before anything is kept: its declared type against its first bytes, its size
while it is read (never more than the limit + 1 byte held), its declared SHA-256 against the body.
The store is content-addressed, so a repeated upload is stored once; its request_id makes the
service attach it once."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib

from aiohttp import web

from services.common.errors import FieldViolation, InvalidArgument, NotFound, PermissionDenied
from services.gateway.attachments.keys import attachment_key
from services.gateway.domain.uploads import PDF, PHOTO_TYPES, PNG, check_file, check_sha256, declared_type, sniffed_type
from services.gateway.http_api.field_calls import as_json
from services.gateway.http_api.field_support import (
    Acting,
    FieldSettings,
    acting,
    answer,
    instant,
    json_body,
    number,
    path_id,
    read_limited,
    request_id,
    text,
)

BASE = "/api/v1/field"
UPLOAD_KINDS = ("PHOTO", "SIGNATURE")
# mobile_enforcement's own limit on a signature image.
SIGNATURE_MAX_BYTES = 256 * 1024


def register(app: web.Application, ctx, route) -> None:
    """Adds the evidence, attachment and record routes (`route`: field.register's acting wrapper)."""
    settings: FieldSettings = ctx.field

    async def upload(request, who: Acting):
        from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

        inspection_id, query = path_id(request), request.query
        who.require_office()  # a caller of no office is refused before the body is read
        kind = query.get("kind", "PHOTO").upper()
        if kind not in UPLOAD_KINDS:
            raise InvalidArgument("kind 须为 PHOTO 或 SIGNATURE / kind must be PHOTO or SIGNATURE",
                                  [FieldViolation("kind", "PHOTO or SIGNATURE")])
        evidence = pb.Evidence(kind=pb.EvidenceKind.Value(f"EVIDENCE_KIND_{kind}"),
                               sha256=check_sha256(query.get("sha256")),
                               item_code=text(dict(query), "item_code", 32),
                               position_accuracy_meters=number(query.get("accuracy"), "accuracy", 0, 100000) or 0.0)
        evidence.capture_time.FromDatetime(instant(query.get("capture_time"), "capture_time"))
        latitude = number(query.get("latitude"), "latitude", -90, 90)
        longitude = number(query.get("longitude"), "longitude", -180, 180)
        if (latitude is None) != (longitude is None):
            raise InvalidArgument("latitude 与 longitude 须同时给出 / give latitude and longitude together",
                                  [FieldViolation("latitude" if latitude is None else "longitude",
                                                  "required with the other")])
        if latitude is not None:
            evidence.position.latitude, evidence.position.longitude = latitude, longitude
        retry_id = request_id(query.get("request_id"))
        evidence.content_type = declared_type(request.headers.get("Content-Type"), PHOTO_TYPES)
        body = await read_limited(request, settings.max_bytes)
        check_file(body, evidence.content_type, evidence.sha256, settings.max_bytes)
        evidence.size_bytes = len(body)

        def keep():
            inspection = who.services.inspection(inspection_id)
            who.require_same_office(inspection.office_id)
            settings.store.put(inspection.office_id, evidence.sha256, body, evidence.content_type)
            return who.services.me("AttachEvidence", pb.AttachEvidenceRequest(
                request_id=retry_id, inspection_id=inspection_id, evidence=evidence))

        attached = await asyncio.to_thread(keep)
        return answer({"evidence": _evidence(attached, evidence.sha256), "inspection": as_json(attached)})

    async def attachment(request, who: Acting):
        office_id, sha256 = request.match_info["office_id"], request.match_info["sha256"]
        try:
            attachment_key(office_id, sha256)
        except ValueError:
            raise NotFound(f"没有这个附件 / no such attachment: {office_id[:64]}/{sha256[:64]}") from None
        if who.development:
            if who.office_id and who.office_id != office_id:
                raise PermissionDenied("无权查看：附件属于其他执法单位 / the attachment belongs to another office")
        elif not who.caller.may_see_office(office_id):
            raise PermissionDenied("无权查看：附件属于其他执法单位 / the attachment belongs to another office")
        found = await asyncio.to_thread(settings.store.get, office_id, sha256)
        if found is None:
            raise NotFound(f"没有这个附件 / no such attachment: {office_id}/{sha256}")
        content, content_type = found
        return web.Response(body=content, headers={
            "Content-Type": content_type, "Cache-Control": "private, no-store",
            "Content-Disposition": f"inline; filename=\"{sha256}\"", "X-Content-SHA256": sha256})

    async def issue_record(request, who: Acting):
        from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

        inspection_id = path_id(request)

        def issue():
            inspection = who.services.inspection(inspection_id)
            who.require_same_office(inspection.office_id)
            return who.services.document("IssueDocument", pb.IssueDocumentRequest(
                request_id=f"field-record:{inspection_id}", subject=f"inspection/{inspection_id}",
                kind=pb.DOCUMENT_KIND_INSPECTION_RECORD))

        document = await asyncio.to_thread(issue)
        return answer({"document": as_json(document), "download": f"/api/v1/documents/{document.id}"})

    async def sign_record(request, who: Acting):
        from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

        inspection_id, body = path_id(request), await json_body(request)
        retry_id = request_id(body.get("request_id"))
        document_id = text(body, "document_id", 64, required=True)
        signer_name = text(body, "signer_name", 64, required=True)
        signed_at = instant(body.get("sign_time"), "sign_time")
        signature = _signature(body.get("signature_png_base64"))
        signature_sha256 = hashlib.sha256(signature).hexdigest()

        def sign():
            inspection = who.services.inspection(inspection_id)
            who.require_same_office(inspection.office_id)
            office_id = inspection.office_id
            settings.store.put(office_id, signature_sha256, signature, PNG)
            drawn = pb.Evidence(kind=pb.EVIDENCE_KIND_SIGNATURE, sha256=signature_sha256, content_type=PNG,
                                size_bytes=len(signature))
            drawn.capture_time.FromDatetime(signed_at)
            who.services.me("AttachEvidence", pb.AttachEvidenceRequest(
                request_id=f"{retry_id}:signature", inspection_id=inspection_id, evidence=drawn))
            call = pb.SignDocumentRequest(request_id=retry_id, document_id=document_id, signer_name=signer_name,
                                          signature_png=signature)
            call.sign_time.FromDatetime(signed_at)
            document = who.services.document("SignDocument", call)
            content = who.services.document("GetDocumentContent", pb.GetDocumentContentRequest(id=document.id))
            record_sha256 = hashlib.sha256(content.content).hexdigest()
            settings.store.put(office_id, record_sha256, content.content, PDF)
            record = pb.Evidence(kind=pb.EVIDENCE_KIND_SIGNED_RECORD, sha256=record_sha256, content_type=PDF,
                                 size_bytes=len(content.content))
            record.capture_time.FromDatetime(signed_at)
            attached = who.services.me("AttachEvidence", pb.AttachEvidenceRequest(
                request_id=f"{retry_id}:record", inspection_id=inspection_id, evidence=record))
            return document, attached

        document, inspection = await asyncio.to_thread(sign)
        return answer({"document": as_json(document), "inspection": as_json(inspection),
                       "download": f"/api/v1/documents/{document.id}"})

    async def attachment_route(request):
        return await attachment(request, await acting(request, ctx.auth, ctx.upstream))

    app.router.add_post(f"{BASE}/inspections/{{id}}/evidence", route(upload))
    app.router.add_get(f"{BASE}/attachments/{{office_id}}/{{sha256}}", attachment_route)
    app.router.add_post(f"{BASE}/inspections/{{id}}/record", route(issue_record))
    app.router.add_post(f"{BASE}/inspections/{{id}}/record/sign", route(sign_record))


def _evidence(inspection, sha256: str) -> dict | None:
    """The inspection's evidence of that file (the last attached, should it be there twice)."""
    found = [e for e in inspection.evidence if e.sha256 == sha256]
    return as_json(found[-1]) if found else None


def _signature(raw) -> bytes:
    """The signature image from base64 (a data: URL's prefix allowed); 400 unless a PNG of at most 256 KiB."""
    if not isinstance(raw, str) or not raw:
        raise InvalidArgument("缺少签名图片 / signature_png_base64 is required",
                              [FieldViolation("signature_png_base64", "required")])
    if raw.startswith("data:"):
        raw = raw.partition(",")[2]
    if len(raw) > SIGNATURE_MAX_BYTES * 4 // 3 + 8:
        raise InvalidArgument("签名图片不能超过 256 KB / the signature is larger than 256 KiB",
                              [FieldViolation("signature_png_base64", "at most 256 KiB")])
    try:
        image = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgument("签名图片不是有效的 base64 / signature_png_base64 is not base64",
                              [FieldViolation("signature_png_base64", "not base64")]) from None
    if sniffed_type(image[:12]) != PNG or len(image) > SIGNATURE_MAX_BYTES:
        raise InvalidArgument("签名须为不超过 256 KB 的 PNG 图片 / the signature must be a PNG of at most 256 KiB",
                              [FieldViolation("signature_png_base64", "a PNG of at most 256 KiB")])
    return image
