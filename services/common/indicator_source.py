"""supervision.common.v1.IndicatorSource, served by every service from its indicator snapshot."""

from __future__ import annotations

import grpc
from sqlalchemy import select

from services.common.context import current_caller
from services.common.db import Store
from services.common.errors import InvalidArgument
from services.common.indicators import IndicatorSnapshotMixin
from supervision.common.v1 import indicators_pb2, indicators_pb2_grpc

MAX_OFFICE_IDS = 5000


class IndicatorSourceServicer(indicators_pb2_grpc.IndicatorSourceServicer):
    """Serves a service's stored office indicators to the gateway and to assessment."""

    def __init__(self, store: Store, snapshot_model: type[IndicatorSnapshotMixin]):
        self.store = store
        self.snapshots = snapshot_model

    def ListIndicators(self, request: indicators_pb2.ListIndicatorsRequest,
                       context: grpc.ServicerContext) -> indicators_pb2.ListIndicatorsResponse:
        """The stored indicators of the asked offices (all when none); an office user gets its own office's only."""
        office_ids = list(dict.fromkeys(request.office_ids))
        if len(office_ids) > MAX_OFFICE_IDS:
            raise InvalidArgument.of("office_ids", f"at most {MAX_OFFICE_IDS} offices per call")
        caller = current_caller()
        if not caller.district_wide:
            # An office user sees its own office's indicators only, whatever it asked for.
            office_ids = [caller.office_id] if not office_ids or caller.office_id in office_ids else []
            if not office_ids:
                return indicators_pb2.ListIndicatorsResponse()
        query = select(self.snapshots).order_by(self.snapshots.office_id, self.snapshots.key)
        if office_ids:
            query = query.where(self.snapshots.office_id.in_(office_ids))
        response = indicators_pb2.ListIndicatorsResponse()
        with self.store.read() as session:
            for row in session.scalars(query):
                value = response.indicators.add(
                    office_id=row.office_id, key=row.key, numerator=row.numerator, denominator=row.denominator,
                    value=row.numerator / row.denominator if row.denominator > 0 else 0.0,
                    version=row.version, has_data=row.denominator > 0)
                value.as_of.FromDatetime(row.as_of)
        return response
