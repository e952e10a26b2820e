"""Every action the simulator knows, and the mix of a simulated day computed from them."""

from __future__ import annotations

from collections.abc import Iterable

from simulator.actions import cases, complaints, emergency, entities, facilities, inspections, reads, spot_checks, tasks
from simulator.context import ActionSpec

# 移动执法's actions are split by concept (entities, spot checks, inspections, cases); what they share
# is in simulator.actions.enforcement.
MODULES = (complaints, tasks, facilities, emergency, entities, spot_checks, inspections, cases, reads)
CATALOGUE: dict[str, ActionSpec] = {spec.name: spec for module in MODULES for spec in module.SPECS}
MAX_PASSES = 200


def consumers(catalogue: dict[str, ActionSpec] = CATALOGUE) -> dict[str, list[ActionSpec]]:
    """queue -> the actions that take work from it."""
    found: dict[str, list[ActionSpec]] = {}
    for spec in catalogue.values():
        if spec.consumes:
            found.setdefault(spec.consumes, []).append(spec)
    return found


def day_counts(specs: Iterable[ActionSpec], offices: int = 14) -> dict[str, float]:
    """How many times each action runs in a day of `offices` average offices: the creators' daily
    volumes carried along the follow-ups each hands on (what `feeds` says), split among each
    queue's consumers by share. Some work loops (an incident's actions are dispatched one after
    the other), so the flow is iterated towards its fixed point, a bounded number of times."""
    catalogue = {spec.name: spec for spec in specs}
    by_queue = consumers(catalogue)
    counts = {name: spec.per_office_daily * offices if not spec.consumes else 0.0 for name, spec in catalogue.items()}
    for _ in range(MAX_PASSES):
        inflow: dict[str, float] = {}
        for name, spec in catalogue.items():
            for queue, fraction in spec.feeds:
                inflow[queue] = inflow.get(queue, 0.0) + counts[name] * fraction
        updated = dict(counts)
        for queue, takers in by_queue.items():
            total_share = sum(t.share for t in takers) or 1.0
            for taker in takers:
                updated[taker.name] = inflow.get(queue, 0.0) * taker.share / total_share
        if all(abs(updated[n] - counts[n]) < 1e-6 for n in counts):
            return updated
        counts = updated
    return counts


def day_mix() -> dict[str, float]:
    """The day's proportions as --mix weights (the preset "day")."""
    return {name: round(count, 4) for name, count in day_counts(CATALOGUE.values()).items() if count > 0}


def covering_mix(floor: float = 0.01) -> dict[str, float]:
    """The day's proportions with every action at least `floor` of the whole (the preset "all"):
    a short run (the smoke test) then exercises the rare steps too, closing a case or an incident."""
    mix = {name: day_mix().get(name, 0.0) for name in CATALOGUE}
    # Raising the rare ones raises the total: a few rounds settle it (each round only raises).
    for _ in range(MAX_PASSES):
        least = floor * sum(mix.values())
        if all(weight >= least * 0.999 for weight in mix.values()):
            break
        mix = {name: max(weight, least) for name, weight in mix.items()}
    return mix


PRESETS = {"day": day_mix(), "all": covering_mix()}
TAKERS = consumers()
