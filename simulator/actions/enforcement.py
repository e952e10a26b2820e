"""移动执法, what its actions share: the service's stubs and the lawful team of an inspection or case.

Teams are always lawful as far as the simulator can know: officers of the entity's office with a
valid certificate today and without a declared conflict with the entity (read before each team is
formed). An office that cannot field such a team leaves the work undone, as it would. The actions
themselves are split by concept: entities (the whole market's directory and its imports), spot_checks
(plans drawn and verified), inspections, cases.
"""

from __future__ import annotations

from simulator.context import Ctx, NotReady
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2 as pb
from supervision.mobile_enforcement.v1 import mobile_enforcement_pb2_grpc as pb_grpc

SERVICE = "mobile_enforcement"
MINIMUM_TEAM = 2


def spot(ctx: Ctx) -> pb_grpc.SpotCheckServiceStub:
    """The service's SpotCheckService."""
    return ctx.stub(SERVICE, pb_grpc.SpotCheckServiceStub)


def inspections(ctx: Ctx) -> pb_grpc.InspectionServiceStub:
    """The service's InspectionService."""
    return ctx.stub(SERVICE, pb_grpc.InspectionServiceStub)


def cases(ctx: Ctx) -> pb_grpc.CaseServiceStub:
    """The service's CaseService."""
    return ctx.stub(SERVICE, pb_grpc.CaseServiceStub)


def documents(ctx: Ctx) -> pb_grpc.DocumentServiceStub:
    """The service's DocumentService."""
    return ctx.stub(SERVICE, pb_grpc.DocumentServiceStub)


async def team(ctx: Ctx, office_id: str, entity_id: str, wanted: list[str] = ()) -> list[str]:
    """Officers who may act on the entity today: the wanted ones who still may, then others of the
    office. Raises NotReady when fewer than the minimum can."""
    office = ctx.district.offices[office_id]
    conflicted = await conflicted_officers(ctx, entity_id) if entity_id else set()
    able = [officer_id for officer_id in office.certified() if officer_id not in conflicted]
    chosen = [officer_id for officer_id in wanted if officer_id in able]
    others = [officer_id for officer_id in able if officer_id not in chosen]
    ctx.rng.shuffle(others)
    chosen += others[:max(0, MINIMUM_TEAM - len(chosen))]
    if len(chosen) < MINIMUM_TEAM:
        raise NotReady(f"office {office_id} has fewer than {MINIMUM_TEAM} officers who may act on {entity_id}")
    return chosen


async def conflicted_officers(ctx: Ctx, entity_id: str) -> set[str]:
    """Officers who declared a conflict with the entity."""
    page = await spot(ctx).ListConflicts(pb.ListConflictsRequest(page_size=1000, filter=f'entity_id = "{entity_id}"'),
                                         timeout=ctx.timeout)
    return {c.officer_id for c in page.conflicts}
