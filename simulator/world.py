"""What the simulator knows of the district (learned through the APIs) and of the work it has in
hand: the offices with their officers, rapid-test readers and supervised businesses, and the
items waiting for their next step."""

from __future__ import annotations

import itertools
import random
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from simulator import arrivals

MAX_QUEUE = 5_000
MAX_REMEMBERED = 200_000


@dataclass
class Officer:
    id: str
    office_id: str
    group: str
    certified: bool


@dataclass
class Business:
    uscc: str
    name: str
    address: str
    street: str
    office_id: str


@dataclass
class Office:
    id: str
    name: str
    streets: list[str]
    officers: list[Officer] = field(default_factory=list)
    # Rapid-test devices in service and in calibration (facilities).
    readers: list[str] = field(default_factory=list)
    businesses: list[Business] = field(default_factory=list)
    # How many businesses mobile_enforcement supervises here (may exceed what was listed).
    business_count: int = 0

    def certified(self) -> list[str]:
        return [o.id for o in self.officers if o.certified]

    @property
    def size(self) -> float:
        """What arrivals are shared by: supervised businesses when known, else officers."""
        return float(self.business_count or len(self.officers) or 1)


@dataclass
class ChecklistItem:
    code: str
    # FAILURE_OUTCOME_* name: what a failed item implies.
    failure_outcome: str


class District:
    def __init__(self) -> None:
        self.offices: dict[str, Office] = {}
        # (category value, version) -> items; filled from ChecklistService.
        self.checklists: dict[tuple[int, int], list[ChecklistItem]] = {}
        # need -> (offices that have it, cumulative sizes): a draw costs log(offices), which
        # matters at thousands of offices and hundreds of draws a second.
        self._draws: dict[str, tuple[list[Office], list[float]]] = {}

    def changed(self) -> None:
        """Officers, readers or businesses were re-read: draw from the new directory."""
        self._draws.clear()

    def shares(self) -> dict[str, float]:
        return arrivals.shares({office.id: office.size for office in self.offices.values()})

    def _draw(self, need: str) -> tuple[list[Office], list[float]]:
        found = self._draws.get(need)
        if found is None:
            candidates = [o for o in self.offices.values() if not need or getattr(o, need)]
            found = self._draws[need] = (candidates, list(itertools.accumulate(o.size for o in candidates)))
        return found

    def has(self, need: str) -> bool:
        """Whether any office has readers, businesses... ("" : any office at all)."""
        return bool(self._draw(need)[0])

    def pick_office(self, rng: random.Random, need: str = "") -> Office | None:
        """An office drawn by size; `need` = "readers" or "businesses" restricts to offices that have some."""
        candidates, cumulative = self._draw(need)
        if not candidates:
            return None
        return rng.choices(candidates, cum_weights=cumulative)[0]

    def officer_office(self, officer_id: str) -> str | None:
        for office in self.offices.values():
            if any(o.id == officer_id for o in office.officers):
                return office.id
        return None


@dataclass
class Work:
    """One item the simulator is handling: its id in the owning service, its office, and what the
    next steps need to know (kind, anonymity, assigned inspectors...)."""

    id: str
    office_id: str
    info: dict = field(default_factory=dict)


class Queues:
    """Work waiting for its next step, by queue (load mode takes from here). Bounded: past
    MAX_QUEUE the oldest item is forgotten (it stays open in its service, which is realistic)."""

    def __init__(self, limit: int = MAX_QUEUE):
        self.limit = limit
        self._queues: dict[str, deque[Work]] = {}
        self.dropped = 0

    def put(self, queue: str, work: Work) -> None:
        items = self._queues.setdefault(queue, deque())
        if len(items) >= self.limit:
            items.popleft()
            self.dropped += 1
        items.append(work)

    def take(self, queue: str, rng: random.Random | None = None) -> Work | None:
        items = self._queues.get(queue)
        if not items:
            return None
        if rng is not None and len(items) > 1:
            # Not strictly oldest first: offices work their backlog in no fixed order.
            items.rotate(-rng.randrange(min(len(items), 8)))
        return items.popleft()

    def size(self, queue: str) -> int:
        return len(self._queues.get(queue, ()))

    def sizes(self) -> dict[str, int]:
        return {name: len(items) for name, items in self._queues.items() if items}


class Known:
    """Ids the simulator has handled or holds, so that listing open work ("pick up what the
    services created": follow-up inspections, leads, tasks) never hands the same item out twice.
    Bounded, oldest forgotten first: an old id is long past the state a pick-up lists."""

    def __init__(self, limit: int = MAX_REMEMBERED):
        self.limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, item_id: str) -> bool:
        """True when the id is new."""
        if item_id in self._ids:
            return False
        self._ids[item_id] = None
        if len(self._ids) > self.limit:
            self._ids.popitem(last=False)
        return True

    def __contains__(self, item_id: str) -> bool:
        return item_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)
