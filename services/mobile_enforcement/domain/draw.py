"""The random draw of a spot-check plan (双随机): pure functions over two directory snapshots.

Reproducible and verifiable by anyone: the draw depends only on the seed, the two snapshots (their
canonical text below is what gets published, and its SHA-256 is the plan's digest), the ratios
and the number of inspectors per target. Its randomness is Python's Mersenne Twister seeded with
the seed text (random.Random(seed), whose string seeding and random() sequence Python guarantees
to keep), and only random() is used: sampling is Floyd's algorithm and shuffling Fisher-Yates over
floor(random() * n), so the draw can be re-implemented in any language with an MT19937.

Scale: a million entities are held as sorted lists of ids per tier; the draw picks indices and
builds objects only for the targets.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.common.errors import FailedPrecondition, Violations
from services.mobile_enforcement.domain.vocabulary import RISK_LEVELS

ENTITY_FORMAT = "mobile_enforcement/spot-check-entities/1"
OFFICER_FORMAT = "mobile_enforcement/spot-check-officers/1"
# Key supervision objects form a group of their own, drawn whole, before the risk tiers.
KEY = "KEY"
GROUPS = (KEY, *RISK_LEVELS)
BASIS_POINTS = 10_000


class SnapshotFormatError(ValueError):
    """A stored snapshot that is not in its published format."""


@dataclass(frozen=True)
class EntitySnapshot:
    """The inspection objects a plan draws from: per group, the entity ids in ascending order."""

    groups: Mapping[str, list[str]]

    @property
    def population(self) -> int:
        """How many entities the snapshot holds, over all groups."""
        return sum(len(ids) for ids in self.groups.values())

    def canonical(self) -> str:
        """The published text: a format line, then per group a line "<group> <count>" and its ids."""
        parts = [ENTITY_FORMAT]
        for group in GROUPS:
            ids = self.groups.get(group, [])
            parts.append(f"{group} {len(ids)}")
            if ids:
                parts.append("\n".join(ids))
        return "\n".join(parts) + "\n"


@dataclass(frozen=True)
class RosterEntry:
    """An officer as the draw sees them: certified on the day, and their declared conflicts."""

    officer_id: str
    # Holds a valid enforcement certificate on the day of the draw.
    certified: bool
    # Entity ids the officer declared a conflict of interest with, ascending.
    conflicts: tuple[str, ...] = ()


@dataclass(frozen=True)
class OfficerRoster:
    """The office's officers as of the draw, ascending by id."""

    officers: tuple[RosterEntry, ...]

    def canonical(self) -> str:
        """A format line, then per officer "<id>\\t<1 if certified else 0>\\t<conflicts joined by ,>"."""
        lines = [OFFICER_FORMAT]
        lines += [f"{o.officer_id}\t{int(o.certified)}\t{','.join(o.conflicts)}" for o in self.officers]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Target:
    """One drawn entity, its group, and the inspectors assigned to it."""

    entity_id: str
    group: str
    inspector_ids: tuple[str, ...]


def digest(canonical: str) -> str:
    """The SHA-256 of a snapshot's canonical text, published with the plan."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def entity_snapshot(groups: Mapping[str, Iterable[str]]) -> EntitySnapshot:
    """A snapshot from ids per group in any order (sorted here, as the canonical form requires)."""
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown groups {sorted(unknown)}")
    return EntitySnapshot({group: sorted(groups.get(group, ())) for group in GROUPS})


def officer_roster(entries: Iterable[RosterEntry]) -> OfficerRoster:
    """A roster from officers in any order (sorted here, conflicts too, as the canonical form requires)."""
    return OfficerRoster(tuple(sorted((RosterEntry(e.officer_id, e.certified, tuple(sorted(e.conflicts)))
                                       for e in entries), key=lambda e: e.officer_id)))


def drawn_count(population: int, ratio_basis_points: int) -> int:
    """How many of a tier are drawn: the ratio of it, rounded up (a tier with members and a ratio
    above zero always yields at least one target)."""
    return (population * ratio_basis_points + BASIS_POINTS - 1) // BASIS_POINTS


def draw(seed: str, entities: EntitySnapshot, roster: OfficerRoster, ratios: Mapping[str, int],
         per_target: int) -> list[Target]:
    """Targets in draw order with their inspectors. Raises FailedPrecondition, naming why, when the
    roster cannot give every target `per_target` certified inspectors free of conflicts."""
    rng = random.Random(seed)
    chosen: list[tuple[str, str]] = []
    for group in GROUPS:
        ids = entities.groups.get(group, [])
        if group == KEY:
            chosen += [(group, entity_id) for entity_id in ids]
            continue
        for index in sorted(_sample(rng, len(ids), drawn_count(len(ids), ratios.get(group, 0)))):
            chosen.append((group, ids[index]))
    inspectors = [o.officer_id for o in roster.officers if o.certified]
    barred = _conflicts(roster, {entity_id for _, entity_id in chosen})
    _check_staffing(inspectors, barred, per_target)
    assign = _Rounds(rng, inspectors)
    return [Target(entity_id, group, assign.pick(per_target, barred.get(entity_id, frozenset())))
            for group, entity_id in chosen]


def _below(rng: random.Random, bound: int) -> int:
    return int(rng.random() * bound)


def _sample(rng: random.Random, population: int, count: int) -> set[int]:
    """`count` distinct indices below `population`, uniformly (Floyd's algorithm)."""
    picked: set[int] = set()
    for upper in range(population - count, population):
        candidate = _below(rng, upper + 1)
        picked.add(upper if candidate in picked else candidate)
    return picked


def _shuffled(rng: random.Random, items: list[str]) -> list[str]:
    result = list(items)
    for index in range(len(result) - 1, 0, -1):
        other = _below(rng, index + 1)
        result[index], result[other] = result[other], result[index]
    return result


def _conflicts(roster: OfficerRoster, targets: set[str]) -> dict[str, frozenset[str]]:
    barred: dict[str, set[str]] = {}
    for officer in roster.officers:
        if officer.certified:
            for entity_id in officer.conflicts:
                if entity_id in targets:
                    barred.setdefault(entity_id, set()).add(officer.officer_id)
    return {entity_id: frozenset(officers) for entity_id, officers in barred.items()}


def _check_staffing(inspectors: list[str], barred: dict[str, frozenset[str]], per_target: int) -> None:
    if len(inspectors) < per_target:
        raise FailedPrecondition(
            f"no eligible inspectors: {len(inspectors)} officer(s) of the office hold a valid certificate "
            f"on the day of the draw, and each target needs {per_target}")
    violations = Violations()
    for entity_id, officers in sorted(barred.items()):
        free = len(inspectors) - len(officers)
        if free < per_target:
            violations.add("plan", f"entity {entity_id}: {free} certified inspector(s) free of a declared conflict "
                                   f"({', '.join(sorted(officers))} conflicted), {per_target} needed")
    if violations:
        raise FailedPrecondition("drawn targets cannot be staffed without conflicted officers", violations.items)


class _Rounds:
    """Inspectors in rounds: each round is every inspector once, freshly shuffled; a target takes
    the next ones of the round that are free for it. Without conflicts no inspector is ever more
    than one assignment ahead of another; a conflicted one keeps its place for the next target."""

    def __init__(self, rng: random.Random, inspectors: list[str]):
        self.rng = rng
        self.inspectors = inspectors
        self.queue: list[str] = []
        self.next = 0

    def pick(self, count: int, barred: frozenset[str]) -> tuple[str, ...]:
        picked: list[str] = []
        queue = self.queue
        while len(picked) < count:
            found = self.next
            while found < len(queue) and (queue[found] in barred or queue[found] in picked):
                found += 1
            if found == len(queue):
                queue += _shuffled(self.rng, self.inspectors)
                continue
            queue[self.next], queue[found] = queue[found], queue[self.next]
            picked.append(queue[self.next])
            self.next += 1
        if self.next > 4096:  # keep the consumed head from growing without bound
            del self.queue[:self.next]
            self.next = 0
        return tuple(picked)


def parse_entities(text: str) -> EntitySnapshot:
    """An entity snapshot read back from its canonical text; SnapshotFormatError when it is not one."""
    lines = text.split("\n")
    if not lines or lines[0] != ENTITY_FORMAT or lines[-1] != "":
        raise SnapshotFormatError(f"not a {ENTITY_FORMAT} snapshot")
    groups: dict[str, list[str]] = {}
    position = 1
    for group in GROUPS:
        header = lines[position].split(" ") if position < len(lines) else []
        if len(header) != 2 or header[0] != group or not header[1].isdigit():
            raise SnapshotFormatError(f"line {position + 1}: expected '{group} <count>'")
        count = int(header[1])
        ids = lines[position + 1:position + 1 + count]
        if len(ids) != count or any(a >= b for a, b in itertools.pairwise(ids)):
            raise SnapshotFormatError(f"group {group}: {count} ids in ascending order expected")
        groups[group] = ids
        position += 1 + count
    if position != len(lines) - 1:
        raise SnapshotFormatError(f"line {position + 1}: text after the last group")
    return EntitySnapshot(groups)


def parse_officers(text: str) -> OfficerRoster:
    """An officer roster read back from its canonical text; SnapshotFormatError when it is not one."""
    lines = text.split("\n")
    if not lines or lines[0] != OFFICER_FORMAT or lines[-1] != "":
        raise SnapshotFormatError(f"not a {OFFICER_FORMAT} snapshot")
    entries = []
    for number, line in enumerate(lines[1:-1], start=2):
        fields = line.split("\t")
        if len(fields) != 3 or fields[1] not in ("0", "1") or not fields[0]:
            raise SnapshotFormatError(f"line {number}: expected '<officer id>\\t<0|1>\\t<conflicts>'")
        entries.append(RosterEntry(fields[0], fields[1] == "1", tuple(fields[2].split(",")) if fields[2] else ()))
    return OfficerRoster(tuple(entries))
