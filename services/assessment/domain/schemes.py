"""The scheme (评价方案) as versions with effective dates: read, updated by the bureau, listed.

Until the bureau first updates the scheme, the built-in versions (schemes/) are the scheme; the
first update copies them into the store, which from then on holds every version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.assessment.domain import periods
from services.assessment.domain.catalogue import Catalogue
from services.assessment.domain.stage_ladder import StageLadder
from services.assessment.domain.stage_ladder import problems as stage_problems
from services.assessment.domain.workspace import Workspace
from services.assessment.models import RequestKey, SchemeVersion
from services.common import scoring
from services.common.access import require_write
from services.common.context import BUREAU_LEADER, Caller
from services.common.contracts import date_of
from services.common.db import utcnow
from services.common.errors import Aborted, InvalidArgument, NotFound, Violations
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from services.common.scoring_messages import scheme_message_from_dict
from supervision.assessment.v1 import assessment_pb2, events_pb2

MAX_NOTE = 1000
PERIOD_KINDS = {periods.MONTH: assessment_pb2.PERIOD_KIND_MONTH, periods.QUARTER: assessment_pb2.PERIOD_KIND_QUARTER,
                periods.YEAR: assessment_pb2.PERIOD_KIND_YEAR}


@dataclass(frozen=True)
class SchemeRecord:
    """One version of the scheme (评价方案) as stored or built in, with who made it and why."""

    scheme: scoring.Scheme
    effective_from: dt.date
    note: str
    created_by: str
    created_at: dt.datetime | None  # None for a built-in version not copied yet
    stages: StageLadder


@dataclass(frozen=True)
class SchemeDraft:
    """A scheme as a caller proposes it; the version is assigned on update."""

    scheme: scoring.Scheme
    effective_from: dt.date | None
    note: str
    stages: StageLadder | None = None  # None: keep the latest version's stages


class Schemes:
    """The scheme's versions: read as in force on a day, listed, and updated by the bureau."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    # ------------------------------------------------------------------ reading

    def records(self, session: Session) -> list[SchemeRecord]:
        """Every version, oldest first: the stored ones, or the built-in ones until the bureau's first update."""
        rows = list(session.scalars(select(SchemeVersion).order_by(SchemeVersion.version)))
        built_in = self.workspace.built_in_schemes
        if rows:
            # Versions stored before schemes named stages take the shipped ladder.
            return [_record(row, built_in[-1].stages) for row in rows]
        return [SchemeRecord(b.scheme, b.effective_from, b.note, "system", None, b.stages) for b in built_in]

    def in_force(self, session: Session, day: dt.date) -> SchemeRecord:
        """The newest version effective on `day`; before the first one, the first one."""
        records = self.records(session)
        current = records[0]
        for record in records:
            if record.effective_from <= day:
                current = record
        return current

    def get_scheme(self, version: int, as_of: dt.date | None) -> SchemeRecord:
        """One version by its number, or (version 0) the one in force on `as_of` (default today)."""
        if version < 0:
            raise InvalidArgument.of("version", "must not be negative")
        with self.workspace.store.read() as session:
            if version:
                found = [r for r in self.records(session) if r.scheme.version == version]
                if not found:
                    raise NotFound(f"scheme version {version} not found")
                return found[0]
            return self.in_force(session, as_of or self.workspace.today())

    def list_versions(self, page: Page, created_by: str | None) -> ListResult[SchemeRecord]:
        """The versions, newest first, optionally only those one person created."""
        before = _version_after(page.after)
        with self.workspace.store.read() as session:
            records = [r for r in reversed(self.records(session))
                       if (before is None or r.scheme.version < before)
                       and (created_by is None or r.created_by == created_by)][:page.size]
        last = str(records[-1].scheme.version) if records else None
        return ListResult(records, next_token(last, len(records), page))

    # ------------------------------------------------------------------ updating

    def update_scheme(self, caller: Caller, request_id: str, draft: SchemeDraft, expected_version: int) -> SchemeRecord:
        """The bureau's new version, effective from a day not in the past; published as SchemeUpdated."""
        require_write(caller, None, district_roles=(BUREAU_LEADER,))

        def create(session: Session) -> str:
            records = self.records(session)
            latest = records[-1]
            effective_from = self._validate(draft, latest)
            if expected_version and expected_version != latest.scheme.version:
                raise Aborted(f"the scheme is at version {latest.scheme.version}, not {expected_version}; "
                              "re-read and retry")
            if session.scalar(select(func.count()).select_from(SchemeVersion)) == 0:
                for record in records:
                    session.add(_row(record, record.created_by, utcnow()))
            version = latest.scheme.version + 1
            scheme = self.workspace.catalogue.complete(
                replace(draft.scheme, version=version, effective_from=effective_from.isoformat()))
            created_at = utcnow()
            record = SchemeRecord(scheme, effective_from, draft.note.strip(), caller.subject, created_at,
                                  draft.stages or latest.stages)
            session.add(_row(record, caller.subject, created_at))
            # The whole scheme (what the gateway scores with), plus the names people read, for
            # the indicators scored and the known ones not scored.
            catalogue = self.workspace.catalogue
            scored = {rule.key for rule in scheme.indicators}
            self.workspace.events.record(
                session, events_pb2.SchemeUpdated(
                    version=version, scheme=scheme_message(record, catalogue),
                    names={key: catalogue.name_of(key) for key in sorted(scored)},
                    unscored_names={key: info.name for key, info in catalogue.indicators.items()
                                    if key not in scored}),
                aggregate_type="scheme", aggregate_id="district", version=version)
            return str(version)

        def load(session: Session, version: str) -> SchemeRecord:
            return next(r for r in self.records(session) if r.scheme.version == int(version))

        return run_once(self.workspace.store, RequestKey, request_id, "UpdateScheme", create, load)

    def _validate(self, draft: SchemeDraft, latest: SchemeRecord) -> dt.date:
        """The draft checked against the catalogue and the latest version; its effective day."""
        violations = Violations()
        for field, description in self.workspace.catalogue.problems(draft.scheme):
            violations.add(field, description)
        today = self.workspace.today()
        if draft.effective_from is None:
            violations.add("scheme.effective_from", "required")
        elif draft.effective_from < today:
            violations.add("scheme.effective_from", f"{draft.effective_from} is in the past (today is {today}): "
                                                    "a new scheme never re-judges days already scored")
        elif draft.effective_from < latest.effective_from:
            violations.add("scheme.effective_from", f"before version {latest.scheme.version}'s "
                                                    f"{latest.effective_from}")
        if len(draft.note) > MAX_NOTE:
            violations.add("scheme.note", f"at most {MAX_NOTE} characters")
        dimensions = [d.key for d in draft.scheme.dimensions]
        for field, description in stage_problems(draft.stages or latest.stages, dimensions):
            violations.add(field, description)
        violations.raise_if_any("invalid scheme")
        # A missing effective_from was refused just above.
        return cast(dt.date, draft.effective_from)


def scheme_message(record: SchemeRecord, catalogue: Catalogue) -> assessment_pb2.Scheme:
    """The Scheme message of a version, with the catalogue's names, as the API and SchemeUpdated show it."""
    message = scheme_message_from_dict(record.scheme.to_dict())
    message.effective_from.CopyFrom(date_of(record.effective_from))
    message.note, message.created_by = record.note, record.created_by
    if record.created_at is not None:
        message.create_time.FromDatetime(record.created_at.astimezone(dt.UTC))
    for rule in message.indicators:
        rule.name = catalogue.name_of(rule.key)
    ladder = record.stages
    message.stages.period_kind = PERIOD_KINDS[ladder.period_kind]
    for stage in ladder.stages:
        message.stages.stages.add(key=stage.key, name=stage.name, min_index=stage.min_index,
                                  min_dimension=stage.min_dimension, min_dimensions=dict(stage.min_dimensions),
                                  consecutive_periods=stage.consecutive_periods)
    return message


def _record(row: SchemeVersion, default_stages: StageLadder) -> SchemeRecord:
    stages = StageLadder.from_dict(row.body["stages"]) if row.body.get("stages") else default_stages
    return SchemeRecord(scoring.Scheme.from_dict(row.body), row.effective_from, row.note, row.created_by,
                        row.created_at, stages)


def _row(record: SchemeRecord, created_by: str, created_at: dt.datetime) -> SchemeVersion:
    # The stages ride in the stored body beside the scoring scheme, which ignores the key.
    return SchemeVersion(version=record.scheme.version, effective_from=record.effective_from,
                         body={**record.scheme.to_dict(), "stages": record.stages.to_dict()}, note=record.note,
                         created_by=created_by, created_at=created_at)


def _version_after(after: str) -> int | None:
    if not after:
        return None
    if not after.isdigit():
        raise InvalidArgument.of("page_token", "is not a token this service issued")
    return int(after)
