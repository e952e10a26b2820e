"""Learning the district through the public APIs: offices and officers from command_center,
rapid-test readers from facilities, supervised businesses and checklists from mobile_enforcement.
Every listing is paged with a bound, so a district of a million businesses costs a bounded start."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from simulator.clients import Clients
from simulator.world import Business, ChecklistItem, District, Office, Officer
from supervision.command_center.v1 import command_center_pb2 as cc
from supervision.command_center.v1 import command_center_pb2_grpc as cc_grpc
from supervision.facilities.v1 import facilities_pb2 as fa
from supervision.facilities.v1 import facilities_pb2_grpc as fa_grpc
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as me
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as me_grpc

log = logging.getLogger("simulator")
PAGE = 1000
MAX_PAGES = 1000
TEST_READERS = ("rapid_test_reader", "pesticide_reader")


async def pages(call: Callable[[str], Awaitable], items: str, max_items: int | None = None) -> list:
    """Every item of a paged List call, at most `max_items` (and MAX_PAGES pages)."""
    found: list = []
    token = ""
    for _ in range(MAX_PAGES):
        page = await call(token)
        found.extend(getattr(page, items))
        token = page.next_page_token
        if not token or (max_items is not None and len(found) >= max_items):
            break
    return found[:max_items] if max_items is not None else found


async def discover(clients: Clients, max_businesses: int = 20_000) -> District:
    district = District()
    timeout = clients.timeout
    offices = clients.stub("command_center", cc_grpc.OfficeServiceStub)
    for office in await pages(lambda t: offices.ListOffices(cc.ListOfficesRequest(page_size=PAGE, page_token=t),
                                                            timeout=timeout), "offices"):
        district.offices[office.id] = Office(office.id, office.name, list(office.streets))
    await refresh_officers(clients, district)
    if "facilities" in clients.present:
        await refresh_readers(clients, district)
    if "mobile_enforcement" in clients.present:
        await _businesses(clients, district, max_businesses)
        await _checklists(clients, district)
    return district


async def refresh_officers(clients: Clients, district: District) -> None:
    """Officers and whether each holds a valid certificate today (it changes as certificates lapse)."""
    stub = clients.stub("command_center", cc_grpc.OfficerServiceStub)
    officers = await pages(lambda t: stub.ListOfficers(cc.ListOfficersRequest(page_size=PAGE, page_token=t),
                                                       timeout=clients.timeout), "officers")
    for office in district.offices.values():
        office.officers = []
    for officer in officers:
        office = district.offices.get(officer.office_id)
        if office is not None:
            office.officers.append(Officer(officer.id, officer.office_id, cc.GroupKind.Name(officer.group),
                                           officer.certificate_valid))


async def refresh_readers(clients: Clients, district: District) -> None:
    """Rapid-test devices each office may read tests on today: in service and in calibration."""
    stub = clients.stub("facilities", fa_grpc.EquipmentServiceStub)
    usable = await pages(lambda t: stub.ListEquipment(fa.ListEquipmentRequest(
        page_size=PAGE, page_token=t, filter="status = EQUIPMENT_STATUS_IN_SERVICE AND in_calibration = true"),
        timeout=clients.timeout), "equipment")
    for office in district.offices.values():
        office.readers = []
    for device in usable:
        office = district.offices.get(device.office_id)
        if office is not None and device.category in TEST_READERS:
            office.readers.append(device.id)


async def _businesses(clients: Clients, district: District, max_businesses: int) -> None:
    stub = clients.stub("mobile_enforcement", me_grpc.EntityServiceStub)
    entities = await pages(lambda t: stub.ListEntities(me.ListEntitiesRequest(page_size=PAGE, page_token=t),
                                                       timeout=clients.timeout), "entities", max_businesses)
    for entity in entities:
        office = district.offices.get(entity.office_id)
        if office is not None:
            office.businesses.append(Business(entity.uscc, entity.name, entity.address, entity.street, office.id))
            office.business_count += 1
    if len(entities) >= max_businesses:
        log.info("listed the first %d businesses only; offices are sized by those", max_businesses)


async def _checklists(clients: Clients, district: District) -> None:
    stub = clients.stub("mobile_enforcement", me_grpc.ChecklistServiceStub)
    for checklist in await pages(lambda t: stub.ListChecklists(me.ListChecklistsRequest(page_size=PAGE, page_token=t),
                                                               timeout=clients.timeout), "checklists"):
        district.checklists[(checklist.category, checklist.version)] = [
            ChecklistItem(item.code, me.FailureOutcome.Name(item.failure_outcome)) for item in checklist.items]


def describe(district: District) -> str:
    offices = district.offices.values()
    return (f"{len(district.offices)} offices, {sum(len(o.officers) for o in offices)} officers "
            f"({sum(len(o.certified()) for o in offices)} certified), "
            f"{sum(len(o.readers) for o in offices)} rapid-test readers, "
            f"{sum(o.business_count for o in offices)} businesses")
