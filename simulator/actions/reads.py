"""The people watching: the bureau's dashboard reading the live index (gateway HTTP and gRPC) and
an office head checking the office's live score (assessment)."""

from __future__ import annotations

from simulator.context import ActionSpec, Ctx
from simulator.world import Work
from supervision.assessment.v1 import assessment_pb2, assessment_pb2_grpc
from supervision.gateway.v1 import gateway_pb2, gateway_pb2_grpc


async def dashboard_district(ctx: Ctx, work: Work) -> None:
    await ctx.clients.http("GET", "/api/v1/district")


async def dashboard_office(ctx: Ctx, work: Work) -> None:
    await ctx.clients.http("GET", f"/api/v1/offices/{work.office_id}")


async def index_list(ctx: Ctx, work: Work) -> None:
    await ctx.stub("gateway", gateway_pb2_grpc.MonitoringServiceStub).ListOfficeIndices(
        gateway_pb2.ListOfficeIndicesRequest(page_size=100), timeout=ctx.timeout)


async def live_score(ctx: Ctx, work: Work) -> None:
    await ctx.stub("assessment", assessment_pb2_grpc.ScoreServiceStub).GetLiveScore(
        assessment_pb2.GetLiveScoreRequest(office_id=work.office_id), timeout=ctx.timeout)


SPECS = [
    ActionSpec("dashboard.district", "gateway_http", dashboard_district, per_office_daily=20.0, officer=False,
               summary="the dashboard reads the district's index (HTTP)"),
    ActionSpec("dashboard.office", "gateway_http", dashboard_office, per_office_daily=6.0,
               summary="someone opens an office's page on the dashboard (HTTP)"),
    ActionSpec("index.list", "gateway", index_list, per_office_daily=4.0, officer=False,
               summary="an internal system reads every office's index (gRPC)"),
    ActionSpec("score.live", "assessment", live_score, per_office_daily=2.0,
               summary="an office head reads the office's live score"),
]
