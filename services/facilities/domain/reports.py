"""What the rapid-test rooms publish: the daily notice (结果公示) and the monthly figures per room
(batches, passed, failed, kg destroyed, pass rate), by the tests' dates in Asia/Shanghai."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from services.common.access import office_scope, require_read
from services.common.context import Caller
from services.common.errors import Violations
from services.facilities.domain import fields
from services.facilities.domain.rapid_tests import RapidTestView, view_of
from services.facilities.domain.vocabulary import CONFIRMED_POSITIVE, OPEN_POSITIVE_STATES, PASSED_STATES
from services.facilities.domain.workspace import Workspace, get_office
from services.facilities.models import Office, RapidTest

FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class MonthFigures:
    """One office's month of rapid tests (or a total): batches, passed, failed, pending, kg destroyed."""

    office_id: str
    batches: int = 0
    passed: int = 0
    failed: int = 0
    pending: int = 0
    kg_destroyed: float = 0.0

    @property
    def pass_rate(self) -> float:
        """Passed batches over all batches; 0 for a month without tests."""
        return self.passed / self.batches if self.batches else 0.0

    def __add__(self, other: MonthFigures) -> MonthFigures:
        return MonthFigures(self.office_id, self.batches + other.batches, self.passed + other.passed,
                            self.failed + other.failed, self.pending + other.pending,
                            self.kg_destroyed + other.kg_destroyed)


@dataclass(frozen=True)
class MonthReport:
    """The monthly report of the rapid-test rooms: a row per office and their total."""

    rooms: list[MonthFigures]
    # The district (or the caller's office) as a whole: sums, never an average of rates.
    total: MonthFigures


@dataclass(frozen=True)
class DailyNotice:
    """The day's results an office posts for the public (结果公示), one line per test."""

    office_id: str
    day: dt.date
    lines: list[RapidTestView]

    @property
    def passed(self) -> int:
        """The lines that passed: negative, or cleared by the re-test."""
        return sum(1 for line in self.lines if line.test.state in PASSED_STATES)


def _add(figures: MonthFigures, state: str, count: int, kg: float) -> MonthFigures:
    return figures + MonthFigures(
        figures.office_id, batches=count, passed=count if state in PASSED_STATES else 0,
        failed=count if state == CONFIRMED_POSITIVE else 0, pending=count if state in OPEN_POSITIVE_STATES else 0,
        kg_destroyed=kg)


class Reports:
    """What the rapid-test rooms publish: the monthly figures and the daily notice."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def monthly(self, caller: Caller, office_id: str | None, year: int, month: int) -> MonthReport:
        """Figures per office in scope (every office, with or without tests) and their total."""
        violations = Violations()
        if not FIRST_YEAR <= year <= LAST_YEAR:
            violations.add("year", f"between {FIRST_YEAR} and {LAST_YEAR}")
        if not 1 <= month <= 12:
            violations.add("month", "between 1 and 12")
        elif not violations and dt.date(year, month, 1) > self.workspace.today():
            violations.add("month", f"{year}-{month:02d} has not begun")
        violations.raise_if_any("invalid report period")
        first = dt.date(year, month, 1)
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
        scope = office_scope(caller, office_id or None)
        with self.workspace.store.read() as session:
            if scope:
                get_office(session, scope)
            offices = [scope] if scope else list(session.scalars(select(Office.id).order_by(Office.id)))
            figures = {office: MonthFigures(office) for office in offices}
            query = (select(RapidTest.office_id, RapidTest.state, func.count(), func.sum(RapidTest.kg_destroyed))
                     .where(RapidTest.tested_on >= first, RapidTest.tested_on <= last)
                     .group_by(RapidTest.office_id, RapidTest.state))
            if scope:
                query = query.where(RapidTest.office_id == scope)
            for office, state, count, kg in session.execute(query):
                if office in figures:
                    figures[office] = _add(figures[office], state, int(count), float(kg or 0.0))
        rows = list(figures.values())
        return MonthReport(rows, sum(rows, MonthFigures("")))

    def daily_notice(self, caller: Caller, office_id: str, day: dt.date | None) -> DailyNotice:
        """An office's tests of one day (today unless told), in the order they were read."""
        today = self.workspace.today()
        day = day or today
        violations = Violations()
        fields.check_day_not_ahead(violations, "day", day, today)
        violations.raise_if_any("invalid notice day")
        with self.workspace.store.read() as session:
            get_office(session, office_id)
            require_read(caller, office_id)
            tests = session.scalars(select(RapidTest).where(RapidTest.office_id == office_id,
                                                            RapidTest.tested_on == day)
                                    .order_by(RapidTest.tested_at, RapidTest.id))
            lines = [view_of(test, self.workspace.standards) for test in tests]
        return DailyNotice(office_id, day, lines)
