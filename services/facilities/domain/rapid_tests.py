"""Rapid tests (快检室): a sample's item read by a method on a calibrated device, the re-test window
of a positive, and the confirmation that stops the sale and asks for a follow-up inspection.

    NEGATIVE                                        (passed)
    POSITIVE_PENDING --RequestRetest (in window)--> RETEST_REQUESTED --ConfirmResult--> CONFIRMED_POSITIVE
          |                                                          \\-(re-test negative)-> CLEARED_ON_RETEST
          \\--ConfirmResult (window over, or re-test waived)--> CONFIRMED_POSITIVE

The item, method, reading range, positive threshold and window length come from the rapid-test
standard in force on the day of the test. A confirmed positive publishes RapidTestPositive.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common import credit_code
from services.common.access import office_scope, require_read, require_write
from services.common.clock import shanghai_date
from services.common.context import Caller
from services.common.contracts import timestamp_of
from services.common.errors import FailedPrecondition, InvalidArgument, NotFound, Violations
from services.common.idempotency import run_once
from services.common.paging import ListResult, Page, next_token
from services.facilities.domain import fields
from services.facilities.domain.equipment import usable_for_test
from services.facilities.domain.standards import Method, RapidTestRules, Standards
from services.facilities.domain.vocabulary import (
    CLEARED_ON_RETEST,
    CONFIRMED_POSITIVE,
    NEGATIVE,
    OPEN_POSITIVE_STATES,
    POSITIVE,
    POSITIVE_PENDING,
    RETEST_REQUESTED,
)
from services.facilities.domain.workspace import Workspace, get_office
from services.facilities.models import RapidTest, RequestKey
from supervision.facilities.v1 import events_pb2, facilities_pb2

ORIGINS = ("PUBLIC_REQUEST", "MARKET_SAMPLING")
# A test may be entered after the fact (a paper log typed in), but not from the future.
MAX_LATE_ENTRY = dt.timedelta(days=31)
CLOCK_SKEW = dt.timedelta(minutes=5)
MAX_KG_DESTROYED = 100_000.0
MAX_SAMPLE_TEXT = 100
MAX_STALL = 50
MAX_RETEST_METHOD = 200


@dataclass
class SampleInput:
    """The sample tested: what it is, whose stall it came from and where."""

    name: str
    vendor_name: str
    vendor_uscc: str
    market: str
    stall: str


@dataclass
class RapidTestInput:
    """A rapid test (快检) as the room records it: the sample, the item, the method and device, the reading."""

    office_id: str
    origin: str
    sample: SampleInput
    item: str
    method: str
    equipment_id: str
    reading: float
    # None: derived from the reading.
    result: str | None
    # None: now.
    tested_at: dt.datetime | None


@dataclass(frozen=True)
class RapidTestView:
    """A rapid test with its item named as the standard in force on the day of the test names it."""

    test: RapidTest
    item_name: str


def view_of(test: RapidTest, standards: Standards) -> RapidTestView:
    """The test as it is shown: the item's name from the standard of its day, its code when no longer listed."""
    item = standards.rapid_tests.in_force(test.tested_on).items.get(test.item)
    return RapidTestView(test, item.name if item else test.item)


def retest_deadline(test: RapidTest) -> dt.datetime:
    """When the seller's re-test window closes; only a positive has one."""
    if test.retest_deadline is None:
        raise FailedPrecondition(f"test {test.id} is {test.result}: it has no re-test window")
    return test.retest_deadline


def _validate_sample(violations: Violations, sample: SampleInput) -> None:
    fields.check_text(violations, "sample.name", sample.name, MAX_SAMPLE_TEXT, required=True)
    fields.check_text(violations, "sample.vendor_name", sample.vendor_name, MAX_SAMPLE_TEXT, required=True)
    fields.check_text(violations, "sample.market", sample.market, MAX_SAMPLE_TEXT, required=False)
    fields.check_text(violations, "sample.stall", sample.stall, MAX_STALL, required=False)
    if sample.vendor_uscc:
        problem = credit_code.validate_uscc(sample.vendor_uscc)
        if problem:
            violations.add("sample.vendor_uscc", problem)


def judge_test(data: RapidTestInput, rules: RapidTestRules, tested_at: dt.datetime,
               now: dt.datetime) -> tuple[Method, bool]:
    """Checks a test against the standard; returns its method and whether the reading is positive."""
    violations = Violations()
    if not data.office_id:
        violations.add("office_id", "must not be empty")
    if data.origin not in ORIGINS:
        violations.add("origin", f"one of {', '.join(ORIGINS)}")
    _validate_sample(violations, data.sample)
    if not data.equipment_id:
        violations.add("equipment_id", "must not be empty")
    if tested_at > now + CLOCK_SKEW:
        violations.add("tested_at", "is in the future")
    elif tested_at < now - MAX_LATE_ENTRY:
        violations.add("tested_at", f"more than {MAX_LATE_ENTRY.days} days ago")
    item = rules.items.get(data.item)
    method = item.methods.get(data.method) if item else None
    if item is None:
        violations.add("item", f"unknown item {data.item!r}; known: {', '.join(rules.items)}")
    elif method is None:
        violations.add("method", f"{data.method!r} is not a method for {item.name}; known: {', '.join(item.methods)}")
    positive = False
    if not math.isfinite(data.reading):
        violations.add("reading", "must be a finite number")
    elif method is not None:
        if not method.minimum <= data.reading <= method.maximum:
            violations.add("reading", f"{data.reading:g} is outside the method's range "
                                      f"{method.minimum:g}-{method.maximum:g} {method.unit}")
        positive = method.is_positive(data.reading)
        derived = POSITIVE if positive else NEGATIVE
        if data.result is not None and data.result != derived:
            violations.add("result", f"a reading of {data.reading:g} {method.unit} is {derived} by {method.name} "
                                     f"(positive {method.describe_threshold()})")
    violations.raise_if_any("invalid rapid test")
    assert method is not None
    return method, positive


class RapidTests:
    """The rapid-test rooms' tests (快检): recording, the re-test window of a positive, confirmation."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def record(self, caller: Caller, request_id: str, data: RapidTestInput) -> RapidTestView:
        """Records a test read on the office's calibrated device (once per request id); a positive opens its
        re-test window."""
        require_write(caller, data.office_id or None)
        now = self.workspace.now()
        tested_at = data.tested_at or now
        tested_on = shanghai_date(tested_at)
        rules = self.workspace.standards.rapid_tests.in_force(tested_on)
        method, positive = judge_test(data, rules, tested_at, now)

        def create(session: Session) -> str:
            get_office(session, data.office_id)
            usable_for_test(session, data.equipment_id, data.office_id,
                            self.workspace.standards.equipment.in_force(tested_on), tested_on)
            sample = data.sample
            test = RapidTest(
                id=str(uuid.uuid4()), office_id=data.office_id, origin=data.origin, sample_name=sample.name.strip(),
                vendor_name=sample.vendor_name.strip(), vendor_uscc=sample.vendor_uscc, market=sample.market.strip(),
                stall=sample.stall.strip(), item=data.item, method=data.method, equipment_id=data.equipment_id,
                reading=data.reading, unit=method.unit, result=POSITIVE if positive else NEGATIVE,
                state=POSITIVE_PENDING if positive else NEGATIVE, tested_at=tested_at, tested_on=tested_on,
                retest_deadline=tested_at + dt.timedelta(hours=rules.retest_window_hours) if positive else None,
                retest_method="", window_expiry_published=False, kg_destroyed=0.0, created_at=now, version=1)
            session.add(test)
            self.workspace.touched(session, [data.office_id])
            return test.id

        return self._view(run_once(self.workspace.store, RequestKey, request_id, "RecordTest", create, _get))

    def get(self, caller: Caller, test_id: str) -> RapidTestView:
        """One test, for a caller who may read its office."""
        with self.workspace.store.read() as session:
            test = _get(session, test_id)
        require_read(caller, test.office_id)
        return self._view(test)

    def _view(self, test: RapidTest) -> RapidTestView:
        return view_of(test, self.workspace.standards)

    def request_retest(self, caller: Caller, test_id: str, retest_method: str) -> RapidTestView:
        """The seller asks for a re-test by a laboratory method, within the window of a positive."""
        violations = Violations()
        fields.check_text(violations, "retest_method", retest_method, MAX_RETEST_METHOD, required=True)
        violations.raise_if_any("invalid re-test request")
        now = self.workspace.now()
        with self.workspace.store.transaction() as session:
            test = _get(session, test_id)
            require_write(caller, test.office_id)
            rapid = self.workspace.standards.rapid_tests.in_force(test.tested_on).items[test.item].methods
            if retest_method.strip() in set(rapid) | {m.name for m in rapid.values()}:
                raise InvalidArgument.of("retest_method", "a re-test uses a non-rapid (laboratory) method")
            if test.state != POSITIVE_PENDING:
                raise FailedPrecondition(f"test {test.id} is {test.state}; only a positive awaiting its re-test "
                                         "window can be re-tested")
            deadline = retest_deadline(test)
            if now > deadline:
                raise FailedPrecondition(f"the re-test window of test {test.id} closed at {deadline.isoformat()}")
            test.state, test.retest_method, test.retest_requested_at = RETEST_REQUESTED, retest_method.strip(), now
            test.version += 1
            return self._view(test)

    def confirm(self, caller: Caller, test_id: str, retest_result: str | None, retest_waived: bool,
                kg_destroyed: float) -> RapidTestView:
        """Confirms a positive (after its window, a waived re-test, or the re-test's result); a confirmed positive
        publishes RapidTestPositive."""
        if not math.isfinite(kg_destroyed) or not 0 <= kg_destroyed <= MAX_KG_DESTROYED:
            raise InvalidArgument.of("kg_destroyed", f"between 0 and {MAX_KG_DESTROYED:g} kg")
        now = self.workspace.now()
        with self.workspace.store.transaction() as session:
            test = _get(session, test_id)
            require_write(caller, test.office_id)
            if test.state not in OPEN_POSITIVE_STATES:
                raise FailedPrecondition(f"test {test.id} is {test.state}; only an unconfirmed positive is confirmed")
            outcome = self._outcome(test, retest_result, retest_waived, now)
            if outcome == CLEARED_ON_RETEST and kg_destroyed:
                raise InvalidArgument.of("kg_destroyed", "goods cleared by the re-test are not destroyed")
            test.state, test.retest_result = outcome, retest_result
            test.kg_destroyed, test.confirmed_at = kg_destroyed, now
            test.version += 1
            if outcome == CONFIRMED_POSITIVE:
                self.workspace.events.record(session, rapid_test_positive(test), aggregate_type="rapid_test",
                                             aggregate_id=test.id, version=test.version, office_id=test.office_id)
            self.workspace.touched(session, [test.office_id])
            return self._view(test)

    @staticmethod
    def _outcome(test: RapidTest, retest_result: str | None, retest_waived: bool, now: dt.datetime) -> str:
        if test.state == RETEST_REQUESTED:
            violations = Violations()
            if retest_result is None:
                violations.add("retest_result", "required: a re-test was requested")
            if retest_waived:
                violations.add("retest_waived", "a re-test was requested, so it was not waived")
            violations.raise_if_any("invalid confirmation")
            return CONFIRMED_POSITIVE if retest_result == POSITIVE else CLEARED_ON_RETEST
        if retest_result is not None:
            raise InvalidArgument.of("retest_result", "no re-test was requested for this test")
        deadline = retest_deadline(test)
        if now <= deadline and not retest_waived:
            raise FailedPrecondition(f"the seller may ask for a re-test until {deadline.isoformat()}; "
                                     "confirm after that, or record that the re-test was waived")
        return CONFIRMED_POSITIVE

    def list(self, caller: Caller, page: Page, office_id: str | None, item: str | None, state: str | None,
             tested_on: dt.date | None) -> ListResult[RapidTestView]:
        """A page of the tests in the caller's scope, by item, state and day."""
        scope = office_scope(caller, office_id)
        query = select(RapidTest).where(RapidTest.id > page.after).order_by(RapidTest.id).limit(page.size)
        if scope:
            query = query.where(RapidTest.office_id == scope)
        if item:
            query = query.where(RapidTest.item == item)
        if state:
            query = query.where(RapidTest.state == state)
        if tested_on:
            query = query.where(RapidTest.tested_on == tested_on)
        with self.workspace.store.read() as session:
            rows = list(session.scalars(query))
        return ListResult([self._view(row) for row in rows], next_token(rows[-1].id if rows else None, len(rows),
                                                                        page))

    def sweep_retest_windows(self) -> int:
        """Publishes RetestWindowExpired once for each positive whose window closed without a
        re-test request; those positives are now due for follow-up, which moves their offices'
        positive_followed_up."""
        now = self.workspace.now()
        with self.workspace.store.transaction() as session:
            expired = list(session.scalars(
                select(RapidTest).where(RapidTest.state == POSITIVE_PENDING, RapidTest.retest_deadline < now,
                                        RapidTest.window_expiry_published.is_(False))
                .order_by(RapidTest.retest_deadline, RapidTest.id)))
            for test in expired:
                test.window_expiry_published = True
                self.workspace.events.record(
                    session, events_pb2.RetestWindowExpired(
                        test_id=test.id, version=test.version, office_id=test.office_id, item=test.item,
                        retest_deadline=timestamp_of(retest_deadline(test))),
                    aggregate_type="rapid_test", aggregate_id=test.id, version=test.version, office_id=test.office_id)
            if expired:
                self.workspace.touched(session, sorted({t.office_id for t in expired}))
        return len(expired)


def rapid_test_positive(test: RapidTest) -> events_pb2.RapidTestPositive:
    """RapidTestPositive for a confirmed positive: what mobile_enforcement needs to open a follow-up
    inspection and a case lead."""
    return events_pb2.RapidTestPositive(
        test_id=test.id, version=test.version, office_id=test.office_id,
        sample=facilities_pb2.Sample(name=test.sample_name, vendor_name=test.vendor_name,
                                     vendor_uscc=test.vendor_uscc, market=test.market, stall=test.stall),
        item=test.item, method=test.method, reading=_reading_text(test.reading), unit=test.unit,
        tested_at=timestamp_of(test.tested_at))


def _reading_text(reading: float) -> str:
    """A reading as text without float noise or a trailing ".0": 68.0 -> "68", 0.05 -> "0.05"."""
    return f"{reading:.15g}"


def _get(session: Session, test_id: str) -> RapidTest:
    test = session.get(RapidTest, test_id) if test_id else None
    if test is None:
        raise NotFound(f"rapid test {test_id!r} not found")
    return test
