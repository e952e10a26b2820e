"""supervision.gateway.v1.MonitoringService: the live index for internal systems, from memory."""

from __future__ import annotations

import threading
import time

import grpc

from services.common import scoring
from services.common.context import Caller, current_caller
from services.common.errors import InvalidArgument
from services.common.paging import parse_filter
from services.gateway.domain.changes import Entry
from services.gateway.domain.explain import explain_office
from services.gateway.domain.live import DISTRICT, OFFICE, RANKS, DistrictState, OfficeState, SourceState, View
from services.gateway.domain.monitor import Monitor
from services.gateway.domain.paging import office_page_token, parse_office_page
from services.gateway.metrics import STREAM_CLIENTS, observe_pushes
from supervision.gateway.v1 import gateway_pb2 as pb
from supervision.gateway.v1 import gateway_pb2_grpc as pb_grpc

STATUS = {scoring.FULL: pb.SCORE_STATUS_FULL, scoring.PRO_RATA: pb.SCORE_STATUS_PRO_RATA,
          scoring.ZERO: pb.SCORE_STATUS_ZERO, scoring.MISSING: pb.SCORE_STATUS_MISSING}
WAIT_SECONDS = 1.0
MAX_WATCHED = 5000


def dimensions_to_proto(score: scoring.OfficeScore) -> list[pb.DimensionScore]:
    return [pb.DimensionScore(key=d.key, name=d.name, weight=d.weight, score=d.score, points=d.points,
                              possible=d.possible) for d in score.dimensions]


def indicators_to_proto(view: View, score: scoring.OfficeScore, as_of: dict) -> list[pb.IndicatorScore]:
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
        if as_of.get(indicator.key) is not None:
            message.as_of.FromDatetime(as_of[indicator.key])
        messages.append(message)
    return messages


def office_to_proto(view: View, state: OfficeState, *, detail: bool, indicators: bool = False) -> pb.OfficeIndex:
    """`detail` False: what the ranking shows of an office the caller may not see in detail."""
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
    message = pb.SourceStatus(source=status.source, available=status.available, error=status.error)
    if status.last_seen is not None:
        message.last_seen_time.FromDatetime(status.last_seen)
    return message


def district_to_proto(view: View, district: DistrictState, *, indicators: bool = True) -> pb.DistrictIndex:
    message = pb.DistrictIndex(index=district.score.index, dimensions=dimensions_to_proto(district.score),
                               office_count=district.office_count, scheme_version=view.scheme.version,
                               sources=[source_to_proto(s) for s in view.sources.values()])
    if indicators:
        message.indicators.extend(indicators_to_proto(view, district.score, {}))
    message.update_time.FromDatetime(district.updated_at)
    return message


class MonitoringApi(pb_grpc.MonitoringServiceServicer):
    def __init__(self, monitor: Monitor, max_watchers: int):
        self.monitor = monitor
        # Each watcher holds a server thread: the cap leaves threads for the other calls.
        self._watchers = threading.BoundedSemaphore(max_watchers)

    def ListOfficeIndices(self, request, context):
        terms = parse_filter(request.filter, {"office_id": str})
        page_size, offset = parse_office_page(request.page_size, request.page_token, terms.get("office_id"))
        page = self.monitor.list_offices(page_size, offset, terms.get("office_id"))
        caller = current_caller()
        return pb.ListOfficeIndicesResponse(
            offices=[office_to_proto(page.view, s, detail=caller.may_see_office(s.office_id)) for s in page.offices],
            next_page_token=office_page_token(page.next_offset, terms.get("office_id")),
            scheme_version=page.view.scheme.version)

    def GetOfficeIndex(self, request, context):
        if not request.office_id:
            raise InvalidArgument.of("office_id", "required")
        view, state = self.monitor.office(current_caller(), request.office_id)
        return office_to_proto(view, state, detail=True, indicators=True)

    def GetDistrictIndex(self, request, context):
        view = self.monitor.view
        return district_to_proto(view, view.district)

    def WatchIndices(self, request, context):
        caller = current_caller()
        if len(request.office_ids) > MAX_WATCHED:
            raise InvalidArgument.of("office_ids", f"at most {MAX_WATCHED} offices per watch")
        wanted = set(request.office_ids)
        log = self.monitor.changes
        seq = log.parse(request.resume_after, "resume_after") if request.resume_after else None
        if not self._watchers.acquire(blocking=False):
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many watchers on this gateway; retry later")
        STREAM_CLIENTS.labels("grpc").inc()
        try:
            reset = bool(request.resume_after)
            while context.is_active():
                # A watch lives no longer than its token: past the expiry a departed user's client
                # would go on receiving figures, so it ends and the client signs in again.
                left = None if caller.expires_at is None else caller.expires_at - time.time()
                if left is not None and left <= 0:
                    context.abort(grpc.StatusCode.UNAUTHENTICATED, "token expired")
                if seq is None:
                    snapshot = log.snapshot(self.monitor.view)
                    yield from self._snapshot(snapshot.view, snapshot.seq, caller, wanted, reset)
                    seq, reset = snapshot.seq, True
                    continue
                entries = log.after(seq)
                if entries is None:
                    seq = None  # fell behind the replay buffer: start again from the current state
                    continue
                for entry in entries:
                    for message in self._changes(entry, caller, wanted):
                        observe_pushes("grpc", [entry.recorded])
                        yield message
                    seq = entry.seq
                if not entries:
                    log.wait_after(seq, WAIT_SECONDS if left is None else min(WAIT_SECONDS, left))
        finally:
            STREAM_CLIENTS.labels("grpc").dec()
            self._watchers.release()

    def _snapshot(self, view: View, seq: int, caller: Caller, wanted: set[str], reset: bool):
        position = self.monitor.changes.position(seq)
        first = True
        for office_id in view.order:
            if wanted and office_id not in wanted:
                continue
            state = view.offices[office_id]
            yield self._change(position, view.updated_at, reset and first,
                               office=office_to_proto(view, state, detail=caller.may_see_office(office_id)))
            first = False
        yield self._change(position, view.updated_at, reset and first,
                           district=district_to_proto(view, view.district, indicators=False))

    def _changes(self, entry: Entry, caller: Caller, wanted: set[str]):
        view = self.monitor.view
        position = self.monitor.changes.position(entry.seq)
        change = entry.change
        if change.kind == OFFICE and (not wanted or change.office_id in wanted):
            yield self._change(position, entry.time, False, office=office_to_proto(
                view, change.data, detail=caller.may_see_office(change.office_id)))
        elif change.kind == RANKS:
            for office_id in change.data:
                state = view.offices.get(office_id)
                if state is not None and (not wanted or office_id in wanted):
                    yield self._change(position, entry.time, False, office=office_to_proto(
                        view, state, detail=caller.may_see_office(office_id)))
        elif change.kind == DISTRICT:
            yield self._change(position, entry.time, False, district=district_to_proto(view, change.data,
                                                                                        indicators=False))

    @staticmethod
    def _change(position: str, time, reset: bool, **change) -> pb.IndexChange:
        message = pb.IndexChange(id=position, reset=reset, **change)
        message.time.FromDatetime(time)
        return message
