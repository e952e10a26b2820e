"""Conversions between the gateway's gRPC messages (supervision.gateway.v1) and its domain: the
requests of MonitoringService into what the use cases take, the live index into the messages
callers get. What an office's caller may not see in detail is left out here, as `detail` says."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from services.common import scoring
from services.common.errors import InvalidArgument
from services.common.paging import parse_filter
from services.gateway.domain.explain import explain_office
from services.gateway.domain.live import DistrictState, OfficeState, SourceState, View
from services.gateway.domain.paging import office_page_token, parse_office_page
from supervision.gateway.v1 import gateway_pb2 as pb

STATUS = {scoring.FULL: pb.SCORE_STATUS_FULL, scoring.PRO_RATA: pb.SCORE_STATUS_PRO_RATA,
          scoring.ZERO: pb.SCORE_STATUS_ZERO, scoring.MISSING: pb.SCORE_STATUS_MISSING}
# Offices one watch may name.
MAX_WATCHED = 5000


@dataclass(frozen=True)
class OfficeListQuery:
    """What a ListOfficeIndices request asks for: a page of the ranking, or one office."""

    page_size: int
    offset: int
    office_id: str | None


# ---------------------------------------------------------------------- requests -> domain


def office_list_query(request: pb.ListOfficeIndicesRequest) -> OfficeListQuery:
    """The page and office filter of a ListOfficeIndices request."""
    terms = parse_filter(request.filter, {"office_id": str})
    office_id = str(terms["office_id"]) if "office_id" in terms else None
    page_size, offset = parse_office_page(request.page_size, request.page_token, office_id)
    return OfficeListQuery(page_size, offset, office_id)


def office_id_of(request: pb.GetOfficeIndexRequest) -> str:
    """The office a GetOfficeIndex request names (required)."""
    if not request.office_id:
        raise InvalidArgument.of("office_id", "required")
    return request.office_id


def watched_offices(request: pb.WatchIndicesRequest) -> set[str]:
    """The offices a watch follows; empty for every office."""
    if len(request.office_ids) > MAX_WATCHED:
        raise InvalidArgument.of("office_ids", f"at most {MAX_WATCHED} offices per watch")
    return set(request.office_ids)


# ---------------------------------------------------------------------- domain -> messages


def dimensions_to_proto(score: scoring.OfficeScore) -> list[pb.DimensionScore]:
    """Each dimension's score of an office or of the district."""
    return [pb.DimensionScore(key=d.key, name=d.name, weight=d.weight, score=d.score, points=d.points,
                              possible=d.possible) for d in score.dimensions]


def indicators_to_proto(view: View, score: scoring.OfficeScore,
                        as_of: Mapping[str, dt.datetime | None]) -> list[pb.IndicatorScore]:
    """Each indicator's score with what it cost the index, explained in Chinese."""
    messages = []
    for item in explain_office(score, view.scheme.scheme, dict(view.scheme.names)):
        indicator = item.score
        message = pb.IndicatorScore(
            key=indicator.key, name=item.name, dimension=indicator.dimension, numerator=indicator.numerator,
            denominator=indicator.denominator, value=indicator.value, target=indicator.target,
            weight=indicator.weight, points=indicator.points, points_lost=indicator.lost,
            index_points_lost=item.index_points_lost, status=STATUS[indicator.status],
            explanation=indicator.explanation, explanation_zh=item.explanation_zh,
            source=indicator.key.split(".", 1)[0])
        instant = as_of.get(indicator.key)
        if instant is not None:
            message.as_of.FromDatetime(instant)
        messages.append(message)
    return messages


def office_to_proto(view: View, state: OfficeState, *, detail: bool, indicators: bool = False) -> pb.OfficeIndex:
    """An office's index; `detail` False: what the ranking shows of an office the caller may not see in detail."""
    message = pb.OfficeIndex(office_id=state.office_id, office_name=state.name, index=state.score.index,
                             rank=view.ranks.get(state.office_id, 0), scheme_version=view.scheme.version)
    message.update_time.FromDatetime(state.updated_at)
    if detail:
        message.dimensions.extend(dimensions_to_proto(state.score))
    if detail and indicators:
        message.indicators.extend(indicators_to_proto(view, state.score,
                                                      {k: v.as_of for k, v in state.values.items()}))
    return message


def source_to_proto(status: SourceState) -> pb.SourceStatus:
    """Whether a source service answers, and when it was last heard from."""
    message = pb.SourceStatus(source=status.source, available=status.available, error=status.error)
    if status.last_seen is not None:
        message.last_seen_time.FromDatetime(status.last_seen)
    return message


def district_to_proto(view: View, district: DistrictState, *, indicators: bool = True) -> pb.DistrictIndex:
    """The district's index with its dimensions, its sources' status and (unless left out) its indicators."""
    message = pb.DistrictIndex(index=district.score.index, dimensions=dimensions_to_proto(district.score),
                               office_count=district.office_count, scheme_version=view.scheme.version,
                               sources=[source_to_proto(s) for s in view.sources.values()])
    if indicators:
        message.indicators.extend(indicators_to_proto(view, district.score, {}))
    message.update_time.FromDatetime(district.updated_at)
    return message


def office_page_to_proto(view: View, offices: list[OfficeState], next_offset: int | None, office_id: str | None,
                         detail: Mapping[str, bool]) -> pb.ListOfficeIndicesResponse:
    """A page of the ranking; `detail` says per office whether the caller sees its breakdown."""
    return pb.ListOfficeIndicesResponse(
        offices=[office_to_proto(view, s, detail=detail[s.office_id]) for s in offices],
        next_page_token=office_page_token(next_offset, office_id), scheme_version=view.scheme.version)


def index_change(position: str, time: dt.datetime, reset: bool, *, office: pb.OfficeIndex | None = None,
                 district: pb.DistrictIndex | None = None) -> pb.IndexChange:
    """One message of a watch: an office's or the district's new figures at a position of the change log."""
    message = pb.IndexChange(id=position, reset=reset, office=office, district=district)
    message.time.FromDatetime(time)
    return message
