"""supervision.gateway.v1.MonitoringService: the live index for internal systems, from memory. Thin:
each method calls the Monitor's use cases with the current caller and maps through
services.gateway.messages; the watch stream's transport (its threads, expiry, metrics) lives here."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc

from services.common.context import Caller, current_caller
from services.gateway import messages
from services.gateway.domain.changes import Entry
from services.gateway.domain.live import DISTRICT, OFFICE, RANKS, View
from services.gateway.domain.monitor import Monitor
from services.gateway.metrics import STREAM_CLIENTS, observe_pushes
from supervision.gateway.v1 import gateway_pb2 as pb
from supervision.gateway.v1 import gateway_pb2_grpc as pb_grpc

WAIT_SECONDS = 1.0


class MonitoringApi(pb_grpc.MonitoringServiceServicer):
    """MonitoringService over the Monitor: the ranking, an office, the district, and the watch stream."""

    def __init__(self, monitor: Monitor, max_watchers: int) -> None:
        self.monitor = monitor
        # Each watcher holds a server thread: the cap leaves threads for the other calls.
        self._watchers = threading.BoundedSemaphore(max_watchers)

    def ListOfficeIndices(self, request: pb.ListOfficeIndicesRequest,
                          context: grpc.ServicerContext) -> pb.ListOfficeIndicesResponse:
        query = messages.office_list_query(request)
        page = self.monitor.list_offices(query.page_size, query.offset, query.office_id)
        caller = current_caller()
        return messages.office_page_to_proto(page.view, page.offices, page.next_offset, query.office_id,
                                             {s.office_id: caller.may_see_office(s.office_id) for s in page.offices})

    def GetOfficeIndex(self, request: pb.GetOfficeIndexRequest, context: grpc.ServicerContext) -> pb.OfficeIndex:
        office_id = messages.office_id_of(request)
        view, state = self.monitor.office(current_caller(), office_id)
        return messages.office_to_proto(view, state, detail=True, indicators=True)

    def GetDistrictIndex(self, request: pb.GetDistrictIndexRequest,
                         context: grpc.ServicerContext) -> pb.DistrictIndex:
        view = self.monitor.view
        return messages.district_to_proto(view, view.district)

    def WatchIndices(self, request: pb.WatchIndicesRequest,
                     context: grpc.ServicerContext) -> Iterator[pb.IndexChange]:
        caller = current_caller()
        wanted = messages.watched_offices(request)
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

    def _snapshot(self, view: View, seq: int, caller: Caller, wanted: set[str],
                  reset: bool) -> Iterator[pb.IndexChange]:
        position = self.monitor.changes.position(seq)
        first = True
        for office_id in view.order:
            if wanted and office_id not in wanted:
                continue
            state = view.offices[office_id]
            yield messages.index_change(position, view.updated_at, reset and first, office=messages.office_to_proto(
                view, state, detail=caller.may_see_office(office_id)))
            first = False
        yield messages.index_change(position, view.updated_at, reset and first,
                                    district=messages.district_to_proto(view, view.district, indicators=False))

    def _changes(self, entry: Entry, caller: Caller, wanted: set[str]) -> Iterator[pb.IndexChange]:
        view = self.monitor.view
        position = self.monitor.changes.position(entry.seq)
        change = entry.change
        if change.kind == OFFICE and (not wanted or change.office_id in wanted):
            yield messages.index_change(position, entry.time, False, office=messages.office_to_proto(
                view, change.data, detail=caller.may_see_office(change.office_id)))
        elif change.kind == RANKS:
            for office_id in change.data:
                state = view.offices.get(office_id)
                if state is not None and (not wanted or office_id in wanted):
                    yield messages.index_change(position, entry.time, False, office=messages.office_to_proto(
                        view, state, detail=caller.may_see_office(office_id)))
        elif change.kind == DISTRICT:
            yield messages.index_change(position, entry.time, False, district=messages.district_to_proto(
                view, change.data, indicators=False))
