"""Items per 12315 category, per office and for the district, and the classification itself: what
the bureau's analysis and the dashboard's category panel read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select

from services.common.access import office_scope
from services.common.clock import SHANGHAI
from services.common.context import Caller
from services.common.errors import InvalidArgument
from services.complaints.domain.categories import Category, CategoryTree
from services.complaints.domain.workspace import Workspace
from services.complaints.models import Complaint

UNCLASSIFIED = "未分类"


@dataclass(frozen=True)
class CategoryCount:
    """How many items of one category (a node, or unclassified when node is None) one office has."""

    office_id: str
    code: str
    node: Category | None
    count: int


@dataclass(frozen=True)
class CategoryStatistics:
    """Counts per office and category, and summed over the offices, named by one tree version."""

    tree: CategoryTree
    by_office: list[CategoryCount]
    district: list[CategoryCount]


class Statistics:
    """Category statistics and the classification, within the caller's office scope."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def categories(self, on: dt.date | None) -> CategoryTree:
        """The classification in force on `on` (today when None); anyone signed in may read it."""
        return self.workspace.categories.on(on or self.workspace.today())

    def category_statistics(self, caller: Caller, office_id: str | None, from_date: dt.date | None,
                            to_date: dt.date | None) -> CategoryStatistics:
        """Items received between the dates (Asia/Shanghai, both included), counted per office and
        12315 category, then per category over the offices the caller may read."""
        to_date = to_date or self.workspace.today()
        if from_date and from_date > to_date:
            raise InvalidArgument.of("from_date", "must not be after to_date")
        scope = office_scope(caller, office_id)
        query = (select(Complaint.office_id, Complaint.category_code, func.count())
                 .where(Complaint.received_at < _start_of(to_date + dt.timedelta(days=1)))
                 .group_by(Complaint.office_id, Complaint.category_code)
                 .order_by(Complaint.office_id, Complaint.category_code))
        if from_date:
            query = query.where(Complaint.received_at >= _start_of(from_date))
        if scope:
            query = query.where(Complaint.office_id == scope)
        tree = self.workspace.categories.on(to_date)
        with self.workspace.store.read() as session:
            rows = session.execute(query).all()
        by_office = [CategoryCount(office, code, tree.find(code), int(count)) for office, code, count in rows]
        totals: dict[str, int] = {}
        for row in by_office:
            totals[row.code] = totals.get(row.code, 0) + row.count
        district = [CategoryCount("", code, tree.find(code), count) for code, count in sorted(totals.items())]
        return CategoryStatistics(tree, by_office, district)


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), SHANGHAI)
