"""Scores: live for any office (from the services' indicator sources, on request), and closed
periods (from the recorded history, immutable), with rankings with and without workload
coefficients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.assessment.domain import history, improvement, periods, workload
from services.assessment.domain.history import Value, Values
from services.assessment.domain.live_values import LiveValuesCache, Marks, read_marks
from services.assessment.domain.schemes import Schemes
from services.assessment.domain.scorecards import (
    Fetch,
    ScoreView,
    SourceStatus,
    district_of_period,
    from_period,
    latest_as_of,
    pairs,
    score_to_json,
)
from services.assessment.domain.workspace import Workspace
from services.assessment.models import IndicatorSnapshot, Office, Period, PeriodScore, RequestKey
from services.common import scoring
from services.common.access import office_scope, require_read, require_write
from services.common.context import BUREAU_LEADER, Caller
from services.common.contracts import date_of
from services.common.db import utcnow
from services.common.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from supervision.assessment.v1 import events_pb2

ADJUSTED, INDEX = "ADJUSTED", "INDEX"


class Scores:
    """Offices' scores (评分) and rankings: live from the indicator sources, or from a closed period."""

    def __init__(self, workspace: Workspace, schemes: Schemes, fetch: Fetch,
                 live_values: LiveValuesCache | None = None):
        self.workspace = workspace
        self.schemes = schemes
        self.fetch = fetch
        # None: the district live score asks every source on every request.
        self.live_values = live_values

    # ------------------------------------------------------------------ live

    def live_score(self, caller: Caller, office_id: str, authorization: str = "") -> ScoreView:
        """One office (or the district, for district-wide callers) scored now with the scheme in
        force today; a source that does not answer leaves its indicators missing."""
        if office_id:
            require_read(caller, office_id)
        elif not caller.district_wide:
            raise PermissionDenied(f"{caller.subject} may not read the district's score")
        office_ids = [office_id] if office_id else None
        with self.workspace.store.read() as session:
            if office_id and session.get(Office, office_id) is None:
                raise NotFound(f"office {office_id!r} not found")
            record = self.schemes.in_force(session, self.workspace.today())
            own = _own_values(session, office_ids)
        if office_id or self.live_values is None:
            fetched = self.fetch(office_ids, authorization)
        else:
            # Callers of the district score are district-wide: every one is answered every office.
            fetched = self.live_values.district(lambda offices: self.fetch(offices, authorization), self._marks)
        values: Values = {}
        for source_values in (fetched.values, own):
            for office, readings in source_values.items():
                values.setdefault(office, {}).update(readings)
        if office_id:
            selected = {office_id: values.get(office_id, {})}
            score = scoring.score_office(record.scheme, office_id, pairs(selected[office_id]))
        else:
            selected = values
            totals = scoring.district_values({office: pairs(v) for office, v in values.items()})
            score = scoring.score_office(record.scheme, "", totals)
        return ScoreView(office_id, "", record.scheme, score, latest_as_of(selected), utcnow(),
                         adjusted=score.index,
                         sources=[*fetched.statuses, SourceStatus(self.workspace.events.source, True)])

    def _marks(self, sources: Iterable[str]) -> Marks:
        with self.workspace.store.read() as session:
            return read_marks(session, sources)

    # ------------------------------------------------------------------ closing

    def close_period(self, caller: Caller, request_id: str, key: str) -> Period:
        """Scores and ranks every office for a period that has ended, from the values at its end, and
        verifies and opens improvement plans; the period never changes afterwards (PeriodClosed)."""
        require_write(caller, None, district_roles=(BUREAU_LEADER,))
        period = periods.parse(key)

        def close(session: Session) -> str:
            if session.get(Period, period.key) is not None:
                raise AlreadyExists(f"period {period.key} is closed already; a closed period never changes")
            today = self.workspace.today()
            if today <= period.end:
                raise FailedPrecondition(f"period {period.key} has not ended", [FieldViolation(
                    "period", f"{period.key} ends on {period.end}; today is {today} (Asia/Shanghai)")])
            offices = list(session.scalars(select(Office.id).order_by(Office.id)))
            if not offices:
                raise FailedPrecondition("no offices are known yet (command_center's OfficeRegistered)")
            self._close(session, caller, period, offices)
            return period.key

        return run_once(self.workspace.store, RequestKey, request_id, "ClosePeriod", close,
                        lambda session, period_key: _period(session, period_key))

    def _close(self, session: Session, caller: Caller, period: periods.Period, offices: list[str]) -> None:
        record = self.schemes.in_force(session, period.end)
        scheme = record.scheme
        values = history.values_at(session, period.cutoff, offices)
        scores = {office: scoring.score_office(scheme, office, pairs(values.get(office, {}))) for office in offices}
        inputs = workload.inputs(session, period.start, period.end, offices, values)
        coefficients = scoring.workload_coefficients(scheme.workload, inputs)
        adjusted = {r.office_id: (position, r) for position, r in enumerate(scoring.rank(scores.values(),
                                                                                          coefficients), 1)}
        by_index = {r.office_id: (position, r) for position, r in enumerate(scoring.rank(scores.values()), 1)}
        totals = scoring.district_values({office: pairs(v) for office, v in values.items()})
        district = score_to_json(scoring.score_office(scheme, "", totals), latest_as_of(values))
        district["workload"] = {name: sum(i[name] for i in inputs.values()) for name in workload.WORKLOAD_INPUTS}

        checked = improvement.verify(session, self.workspace.events, period, scores)
        policy = self.workspace.improvement.in_force(self.workspace.today())
        due = self.workspace.today() + dt.timedelta(days=policy.due_in_days)
        row = Period(key=period.key, kind=period.kind, start_date=period.start, end_date=period.end,
                     scheme_version=scheme.version, scheme=scheme.to_dict(), district=district,
                     district_index=district["index"], office_count=len(offices), plans_opened=0,
                     plans_verified=checked.verified, plans_not_effective=checked.not_effective,
                     closed_at=utcnow(), closed_by=caller.subject)
        session.add(row)
        session.flush()
        for office in offices:
            position, ranking = adjusted[office]
            index_position, index_ranking = by_index[office]
            as_of = {key: value.as_of for key, value in values.get(office, {}).items()}
            stored = score_to_json(scores[office], as_of)
            session.add(PeriodScore(
                period_key=period.key, office_id=office, index=ranking.index, coefficient=ranking.coefficient,
                adjusted=ranking.adjusted, rank=ranking.rank, index_rank=index_ranking.rank, position=position,
                index_position=index_position, workload=inputs[office], dimensions=stored["dimensions"],
                indicators=stored["indicators"]))
        opened = improvement.open_plans(session, self.workspace.events, period, scores, due)
        row.plans_opened = len(opened)
        # The contract's figures are plain doubles: an index without data travels as 0 (the API's
        # Period and rankings keep it unset).
        self.workspace.events.record(
            session, events_pb2.PeriodClosed(
                period=period.key, version=1, kind=period.kind, start_date=date_of(period.start),
                end_date=date_of(period.end), scheme_version=scheme.version,
                district_index=district["index"] or 0.0, plans_opened=len(opened),
                rankings=[events_pb2.PeriodRanking(
                    office_id=office, rank=adjusted[office][1].rank, index_rank=by_index[office][1].rank,
                    index=adjusted[office][1].index or 0.0, coefficient=adjusted[office][1].coefficient,
                    adjusted_index=adjusted[office][1].adjusted or 0.0)
                    for office in sorted(offices, key=lambda o: adjusted[o][0])]),
            aggregate_type="period", aggregate_id=period.key, version=1)
        self.workspace.touched(session, checked.offices | {plan.office_id for plan in opened})

    # ------------------------------------------------------------------ reading closed periods

    def get_period(self, key: str) -> Period:
        """A closed period with its district figures."""
        with self.workspace.store.read() as session:
            return _period(session, periods.parse(key).key)

    def list_periods(self, page: Page, kind: str | None) -> ListResult[Period]:
        """The closed periods, latest end first, optionally of one kind (month, quarter, year)."""
        query = select(Period).order_by(Period.end_date.desc(), Period.key.desc()).limit(page.size)
        if page.after:
            end, key = _period_after(page.after)
            query = query.where((Period.end_date < end) | ((Period.end_date == end) & (Period.key < key)))
        if kind:
            query = query.where(Period.kind == kind)
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
        last = f"{rows[-1].end_date.isoformat()}|{rows[-1].key}" if rows else None
        return ListResult(rows, next_token(last, len(rows), page))

    def period_score(self, caller: Caller, key: str, office_id: str) -> ScoreView:
        """An office's (or, for district-wide callers, the district's) score as its period closed it."""
        if office_id:
            require_read(caller, office_id)
        elif not caller.district_wide:
            raise PermissionDenied(f"{caller.subject} may not read the district's score")
        with self.workspace.store.read() as session:
            period = _period(session, periods.parse(key).key)
            if not office_id:
                return district_of_period(period)
            row = session.get(PeriodScore, (period.key, office_id))
            if row is None:
                raise NotFound(f"office {office_id!r} has no score in period {period.key}")
            return from_period(period, row)

    def rankings(self, caller: Caller, key: str, basis: str, page: Page,
                 office_id: str | None) -> tuple[Period, ListResult[tuple[PeriodScore, str | None]]]:
        """A closed period's ranking, by the workload-adjusted index or by the plain index."""
        scope = office_scope(caller, office_id)
        column = PeriodScore.position if basis == ADJUSTED else PeriodScore.index_position
        if page.after and not page.after.isdigit():
            raise InvalidArgument.of("page_token", "is not a token this service issued")
        after = int(page.after or 0)
        with self.workspace.store.read() as session:
            period = _period(session, periods.parse(key).key)
            query = (select(PeriodScore, Office.name).outerjoin(Office, Office.id == PeriodScore.office_id)
                     .where(PeriodScore.period_key == period.key, column > after).order_by(column).limit(page.size))
            if scope:
                query = query.where(PeriodScore.office_id == scope)
            rows = [(score, name) for score, name in session.execute(query)]
        last = str(getattr(rows[-1][0], column.key)) if rows else None
        return period, ListResult(rows, next_token(last, len(rows), page))


def _period(session: Session, key: str) -> Period:
    period = session.get(Period, key)
    if period is None:
        raise NotFound(f"period {key} is not closed")
    return period


def _period_after(after: str) -> tuple[dt.date, str]:
    end, _, key = after.partition("|")
    try:
        return dt.date.fromisoformat(end), key
    except ValueError:
        raise InvalidArgument.of("page_token", "is not a token this service issued") from None


def _own_values(session: Session, office_ids: list[str] | None) -> Values:
    """assessment's own indicators, from its snapshot (no call to itself)."""
    query = select(IndicatorSnapshot)
    if office_ids is not None:
        query = query.where(IndicatorSnapshot.office_id.in_(office_ids))
    values: Values = {}
    for row in session.scalars(query):
        values.setdefault(row.office_id, {})[row.key] = Value(row.numerator, row.denominator, row.as_of)
    return values
