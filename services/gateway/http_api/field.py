"""The field app's HTTP API under /api/v1/field: what an inspector reads (their work, entities,
checklists, officers) and the actions on an inspection (start, findings, complete), each once per
request_id and refused with 409 ABORTED when the inspection changed since the app read it.

The services decide who may do what: the caller's token goes on to them (AUTH_MODE=jwt). Evidence,
attachments and the signed record are in field_evidence; the app's pages in field_app."""

from __future__ import annotations

import asyncio

from aiohttp import web
from google.protobuf import json_format

from services.common.errors import FieldViolation, InvalidArgument, NotFound
from services.gateway.http_api import field_evidence
from services.gateway.http_api.field_calls import FACILITIES, as_json
from services.gateway.http_api.field_support import (
    Acting,
    FieldSettings,
    acting,
    answer,
    expected_version,
    instant,
    json_body,
    number,
    path_id,
    request_id,
    text,
    with_conflicts,
)

BASE = "/api/v1/field"
MAX_FINDINGS = 500
MAX_SEARCH = 64


def register(app: web.Application, ctx) -> None:
    """Adds the field API's routes (ctx: routes.Context, whose `field` holds the settings)."""
    settings: FieldSettings = ctx.field

    def route(handler):
        async def wrapped(request: web.Request) -> web.StreamResponse:
            return await handler(request, await acting(request, ctx.auth, ctx.upstream))

        return with_conflicts(wrapped)

    async def config(request):
        return answer({"auth_mode": "jwt" if ctx.auth.verifier is not None else "off", "oidc": settings.oidc(),
                       "attachments": {"max_bytes": settings.max_bytes, "content_types": list(settings.content_types)},
                       "development_officers": ctx.auth.verifier is None})

    async def development_officers(request):
        if ctx.auth.verifier is not None:
            raise NotFound("只有开发模式（AUTH_MODE=off）提供演示执法人员 / development officers exist only with "
                           "AUTH_MODE=off")
        who = await acting(request, ctx.auth, ctx.upstream)
        return answer({"officers": await asyncio.to_thread(_officers, who, "")})

    async def me(request, who: Acting):
        def read():
            officer = who.officer or (who.services.officer(who.officer_id) if who.officer_id else None)
            return _officer(officer, who.services.office_name(officer.office_id)) if officer is not None else None

        return answer({"officer": await asyncio.to_thread(read), "subject": who.caller.subject,
                       "office_id": who.office_id, "roles": sorted(who.caller.roles)})

    async def work(request, who: Acting):
        office_id = who.require_office()

        def read():
            assignments = who.services.assignments(office_id, who.officer_id)
            return {"assignments": [as_json(a) for a in assignments],
                    "tasks": [as_json(t) for t in who.services.open_tasks(office_id)]}

        return answer(await asyncio.to_thread(read))

    async def entities(request, who: Acting):
        office_id = who.require_office()
        search = request.query.get("search", "").strip()
        if len(search) > MAX_SEARCH:
            raise InvalidArgument(f"搜索词不能超过 {MAX_SEARCH} 个字 / search is too long",
                                  [FieldViolation("search", f"at most {MAX_SEARCH} characters")])
        page = await asyncio.to_thread(who.services.entities, office_id, search, request.query.get("page_token", ""))
        return answer({"entities": [as_json(e) for e in page.entities], "next_page_token": page.next_page_token})

    async def checklists(request, who: Acting):
        who.require_office()
        found = await asyncio.to_thread(who.services.checklists_in_force)
        return answer({"checklists": [as_json(c) for c in found]})

    async def officers(request, who: Acting):
        office_id = who.require_office()
        return answer({"officers": await asyncio.to_thread(_officers, who, office_id)})

    async def inspection(request, who: Acting):
        found = await asyncio.to_thread(_inspection_of_office, who, path_id(request))
        return answer(as_json(found))

    async def start(request, who: Acting):
        from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

        inspection_id, body = path_id(request), await json_body(request)
        officer_ids = body.get("officer_ids")
        if not isinstance(officer_ids, list) or not all(isinstance(o, str) and 0 < len(o) <= 64 for o in officer_ids):
            raise InvalidArgument("officer_ids 须为执法人员编号的列表 / officer_ids must be a list of officer ids",
                                  [FieldViolation("officer_ids", "a list of officer ids")])
        location = body.get("location") or {}
        if not isinstance(location, dict):
            raise InvalidArgument("location 须为对象 / location must be an object",
                                  [FieldViolation("location", "an object {latitude, longitude, address}")])
        latitude = number(location.get("latitude"), "location.latitude", -90, 90)
        longitude = number(location.get("longitude"), "location.longitude", -180, 180)
        point = None
        if latitude is not None and longitude is not None:
            from google.type import latlng_pb2

            point = latlng_pb2.LatLng(latitude=latitude, longitude=longitude)
        call = pb.StartInspectionRequest(
            id=inspection_id, officer_ids=officer_ids, request_id=request_id(body.get("request_id")),
            expected_version=expected_version(body.get("expected_version")),
            location=pb.Location(point=point, address=text(location, "address", 500)))
        return await _act(who, "StartInspection", call, inspection_id)

    async def findings(request, who: Acting):
        from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

        inspection_id, body = path_id(request), await json_body(request)
        given = body.get("findings")
        if not isinstance(given, list) or not given or len(given) > MAX_FINDINGS:
            raise InvalidArgument("findings 须为非空的检查结果列表 / findings must be a non-empty list",
                                  [FieldViolation("findings", f"a list of 1 to {MAX_FINDINGS} results")])
        made = [_finding(pb, item, index) for index, item in enumerate(given)]
        call = pb.RecordFindingsRequest(id=inspection_id, findings=made, request_id=request_id(body.get("request_id")),
                                        expected_version=expected_version(body.get("expected_version")))
        return await _act(who, "RecordFindings", call, inspection_id)

    async def complete(request, who: Acting):
        from google.type import date_pb2

        from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb

        inspection_id, body = path_id(request), await json_body(request)
        outcome = _enum(pb.InspectionOutcome, "INSPECTION_OUTCOME_", body.get("outcome"), "outcome", required=False)
        due = text(body, "rectification_due", 10)
        day = None
        if due:
            import datetime as dt

            try:
                parsed = dt.date.fromisoformat(due)
            except ValueError:
                raise InvalidArgument("rectification_due 须为 YYYY-MM-DD 格式的日期 / rectification_due must be "
                                      "YYYY-MM-DD",
                                      [FieldViolation("rectification_due", "a date YYYY-MM-DD")]) from None
            day = date_pb2.Date(year=parsed.year, month=parsed.month, day=parsed.day)
        call = pb.CompleteInspectionRequest(
            id=inspection_id, outcome=outcome, summary=text(body, "summary", 2000), rectification_due=day,
            request_id=request_id(body.get("request_id")),
            expected_version=expected_version(body.get("expected_version")))
        return await _act(who, "CompleteInspection", call, inspection_id)

    async def rapid_test(request, who: Acting):
        from supervision.facilities.v1 import facilities_pb2 as pb

        office_id = who.require_office()
        body = await json_body(request)
        call = pb.RecordTestRequest(request_id=request_id(body.get("request_id")), office_id=office_id)
        fields = {k: v for k, v in body.items() if k not in ("request_id", "office_id", "tested_at", "origin")}
        try:
            json_format.ParseDict(fields, call)
        except json_format.ParseError as error:
            raise InvalidArgument(f"快检记录的格式不正确 / the rapid test is not well formed: {str(error)[:200]}",
                                  [FieldViolation("body", str(error)[:200])]) from None
        call.origin = _enum(pb.TestOrigin, "TEST_ORIGIN_", body.get("origin") or "MARKET_SAMPLING", "origin")
        tested_at = instant(body.get("tested_at"), "tested_at", required=False)
        if tested_at is not None:
            call.tested_at.FromDatetime(tested_at)
        recorded = await asyncio.to_thread(who.services.facilities, "RapidTestServiceStub", "RecordTest", call)
        return answer(as_json(recorded), status=201)

    async def rapid_test_options(request, who: Acting):
        office_id = who.require_office()
        return answer(await asyncio.to_thread(_rapid_test_options, who, office_id))

    add = app.router
    add.add_get(f"{BASE}/config", config)
    add.add_get(f"{BASE}/development-officers", development_officers)
    add.add_get(f"{BASE}/me", route(me))
    add.add_get(f"{BASE}/work", route(work))
    add.add_get(f"{BASE}/entities", route(entities))
    add.add_get(f"{BASE}/checklists", route(checklists))
    add.add_get(f"{BASE}/officers", route(officers))
    add.add_get(f"{BASE}/inspections/{{id}}", route(inspection))
    add.add_post(f"{BASE}/inspections/{{id}}/start", route(start))
    add.add_post(f"{BASE}/inspections/{{id}}/findings", route(findings))
    add.add_post(f"{BASE}/inspections/{{id}}/complete", route(complete))
    add.add_post(f"{BASE}/rapid-tests", route(rapid_test))
    add.add_get(f"{BASE}/rapid-tests/options", route(rapid_test_options))
    field_evidence.register(app, ctx, route)


def _inspection_of_office(who: Acting, inspection_id: str):
    """The inspection, read with the caller's rights and refused unless of the acting office."""
    found = who.services.inspection(inspection_id)
    who.require_same_office(found.office_id)
    return found


async def _act(who: Acting, method: str, call, inspection_id: str) -> web.Response:
    def run():
        if who.development:  # the services see the gateway: the demo officer's office is checked here
            _inspection_of_office(who, inspection_id)
        else:
            who.require_office()
        return who.services.acted(method, call, inspection_id)

    return answer(as_json(await asyncio.to_thread(run)))


def _finding(pb, item, index: int):
    where = f"findings[{index}]"
    if not isinstance(item, dict):
        raise InvalidArgument(f"{where} 须为对象 / {where} must be an object", [FieldViolation(where, "an object")])
    refs = item.get("evidence_refs") or []
    if not isinstance(refs, list) or not all(isinstance(r, str) and len(r) <= 80 for r in refs):
        raise InvalidArgument(f"{where}.evidence_refs 须为证据引用的列表 / must be a list of evidence references",
                              [FieldViolation(f"{where}.evidence_refs", "a list of \"evidence:<sha256>\"")])
    return pb.Finding(item_code=text(item, "item_code", 32, required=True),
                      result=_enum(pb.ItemResult, "ITEM_RESULT_", item.get("result"), f"{where}.result"),
                      note=text(item, "note", 2000), evidence_refs=refs)


def _enum(enum_type, prefix: str, value, name: str, required: bool = True) -> int:
    """An enum value from its name with or without the prefix ("PASS" or "ITEM_RESULT_PASS")."""
    if value in (None, "") and not required:
        return 0
    choices = _names(enum_type, prefix)
    if isinstance(value, str):
        short = value.strip().upper().removeprefix(prefix)
        if short in choices:
            return enum_type.Value(prefix + short)
    raise InvalidArgument(f"{name} 须为以下之一：{', '.join(choices)} / {name} must be one of {', '.join(choices)}",
                          [FieldViolation(name, f"one of {', '.join(choices)}")])


def _names(enum_type, prefix: str) -> list[str]:
    """An enum's value names without the prefix, UNSPECIFIED left out (EnumTypeWrapper is not iterable)."""
    return [n.removeprefix(prefix) for n in enum_type.keys() if not n.endswith("_UNSPECIFIED")]  # noqa: SIM118


def _officer(officer, office_name: str = "") -> dict:
    from supervision.command_center.v1 import command_center_pb2 as pb

    return {"id": officer.id, "name": officer.name, "office_id": officer.office_id, "office_name": office_name,
            "group": pb.GroupKind.Name(officer.group), "certified": officer.certificate_valid}


def _officers(who: Acting, office_id: str) -> list[dict]:
    found = who.services.officers(office_id)
    names = {o: who.services.office_name(o) for o in sorted({officer.office_id for officer in found})}
    return [_officer(officer, names[officer.office_id]) for officer in found]


def _rapid_test_options(who: Acting, office_id: str) -> dict:
    """The office's testing devices in service and in calibration, and the items and methods its
    tests have used (facilities publishes no catalogue of them on its API)."""
    from supervision.facilities.v1 import facilities_pb2 as pb

    equipment = who.services.facilities("EquipmentServiceStub", "ListEquipment", pb.ListEquipmentRequest(
        page_size=200, filter=f'office_id = "{office_id}" AND status = "EQUIPMENT_STATUS_IN_SERVICE" '
                              'AND in_calibration = true'))
    tests = who.services.facilities("RapidTestServiceStub", "ListTests", pb.ListTestsRequest(
        page_size=200, filter=f'office_id = "{office_id}"'))
    items: dict[str, dict] = {}
    for test in tests.tests:
        entry = items.setdefault(test.item, {"item": test.item, "name": test.item_name, "methods": []})
        if test.method and test.method not in [m["method"] for m in entry["methods"]]:
            entry["methods"].append({"method": test.method, "unit": test.unit})
    return {"equipment": [as_json(e) for e in equipment.equipment],
            "items": sorted(items.values(), key=lambda i: i["item"]),
            "origins": _names(pb.TestOrigin, "TEST_ORIGIN_"),
            "service": FACILITIES}
