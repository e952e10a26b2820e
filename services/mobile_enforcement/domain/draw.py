"""The random draw of a spot-check plan (双随机): pure functions over two directory snapshots.

Reproducible and verifiable by anyone: the draw depends only on the seed, the two snapshots (their
canonical text below is what gets published, and its SHA-256 is the plan's digest), the ratios
and the number of inspectors per target. Its randomness is Python's Mersenne Twister seeded with
the seed text (random.Random(seed), whose string seeding and random() sequence Python guarantees
to keep), and only random() is used: sampling is Floyd's algorithm and shuffling Fisher-Yates over
floor(random() * n), so the draw can be re-implemented in any language with an MT19937.

How many are drawn follows the plan's rounding rule (see plan_quota): the plan's ratio applied to
its whole scope, key objects counted within it, rounded once; plans drawn before that rule rounded
each tier up on its own (PER_GROUP_CEIL) and are verified by it.

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
# How a plan turns its ratio into a number of targets. HALF_UP and CEIL round the plan's exact share
# once (2.3 -> 2 or 3); PER_GROUP_CEIL, the rule of plans drawn before, rounded up each tier apart and
# drew every key object on top.
HALF_UP, CEIL, PER_GROUP_CEIL = "HALF_UP", "CEIL", "PER_GROUP_CEIL"
ROUNDING_RULES = (HALF_UP, CEIL)


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


@dataclass(frozen=True)
class Quota:
    """How many targets a plan draws and why: its exact share (in basis points of one target, so
    23000 is 2.3 targets), the share rounded by the plan's rule, and the count per group."""

    rounding: str
    exact_share_basis_points: int
    total: int
    per_group: Mapping[str, int]

    @property
    def exact_share(self) -> str:
        """The exact share as a decimal, e.g. "2.3" (what the rounding rule was applied to)."""
        whole, rest = divmod(self.exact_share_basis_points, BASIS_POINTS)
        return f"{whole}.{rest:04d}".rstrip("0").rstrip(".")


def rounded(share_basis_points: int, rounding: str) -> int:
    """A share of targets (in basis points of one target) as a whole number, by the plan's rule."""
    if rounding == HALF_UP:
        return (share_basis_points + BASIS_POINTS // 2) // BASIS_POINTS
    if rounding == CEIL:
        return (share_basis_points + BASIS_POINTS - 1) // BASIS_POINTS
    raise ValueError(f"unknown rounding rule {rounding!r}")


def plan_quota(sizes: Mapping[str, int], ratios: Mapping[str, int], rounding: str,
               uniform_ratio: int = 0) -> Quota:
    """The targets per group of a plan over groups of `sizes` entities.

    The share is rounded once by the plan's rule, and key objects are always drawn, all of them.
    With one ratio for the plan (`uniform_ratio`), the share is that ratio of the whole scope and the
    key objects count within it (5% of 46 entities, 1 of them key: 2.3 -> 2 targets, the key object
    and one more); with ratios per risk tier, the share is each tier's ratio of its general objects
    and the key objects, in no tier, are drawn besides. What the general objects get is shared among
    the tiers in proportion to each tier's own share (largest remainders, ties to the lower tier),
    never more than a tier holds.
    PER_GROUP_CEIL (plans drawn before) rounds each tier's share up on its own, keys on top.
    """
    keys = sizes.get(KEY, 0)
    tiers = [group for group in GROUPS if group != KEY]
    weights = {tier: sizes.get(tier, 0) * (uniform_ratio or ratios.get(tier, 0)) for tier in tiers}
    if rounding == PER_GROUP_CEIL:
        per_group = {KEY: keys} | {tier: drawn_count(sizes.get(tier, 0), uniform_ratio or ratios.get(tier, 0))
                                   for tier in tiers}
        return Quota(rounding, sum(weights.values()) + keys * BASIS_POINTS, sum(per_group.values()), per_group)
    if uniform_ratio:  # the plan's ratio of its whole scope, key objects counted within
        share = sum(weights.values()) + keys * uniform_ratio
        remaining = max(rounded(share, rounding) - keys, 0)
    else:  # the tiers' ratios of the general objects; key objects belong to no tier, drawn besides
        share = sum(weights.values())
        remaining = rounded(share, rounding)
    total = keys + remaining
    per_group = {KEY: keys} | _apportion(remaining, weights, sizes)
    return Quota(rounding, share, total, per_group)


def _apportion(count: int, weights: Mapping[str, int], sizes: Mapping[str, int]) -> dict[str, int]:
    """`count` shared in proportion to the weights (largest remainders), each capped at its size."""
    result = {group: 0 for group in weights}
    open_groups = [group for group in weights if weights[group] > 0]
    while count > 0 and open_groups:
        total_weight = sum(weights[group] for group in open_groups)
        shares = {group: divmod(count * weights[group], total_weight) for group in open_groups}
        given = {group: whole for group, (whole, _) in shares.items()}
        leftover = count - sum(given.values())
        by_remainder = sorted(open_groups, key=lambda group: (-shares[group][1], GROUPS.index(group)))
        for group in by_remainder[:leftover]:
            given[group] += 1
        count = 0
        for group in open_groups:
            room = sizes.get(group, 0) - result[group]
            taken = min(room, given[group])
            result[group] += taken
            count += given[group] - taken  # what a full group could not take goes round again
        open_groups = [group for group in open_groups if result[group] < sizes.get(group, 0)]
    return result


def draw(seed: str, entities: EntitySnapshot, roster: OfficerRoster, ratios: Mapping[str, int],
         per_target: int, rounding: str = PER_GROUP_CEIL, uniform_ratio: int = 0) -> list[Target]:
    """Targets in draw order with their inspectors, as many per group as plan_quota says. Raises
    FailedPrecondition, naming why, when the roster cannot give every target `per_target` certified
    inspectors free of conflicts."""
    rng = random.Random(seed)
    quota = plan_quota({group: len(ids) for group, ids in entities.groups.items()}, ratios, rounding,
                       uniform_ratio)
    chosen: list[tuple[str, str]] = []
    for group in GROUPS:
        ids = entities.groups.get(group, [])
        if group == KEY:
            chosen += [(group, entity_id) for entity_id in ids]
            continue
        for index in sorted(_sample(rng, len(ids), quota.per_group[group])):
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
