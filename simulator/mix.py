"""`--mix`: how often each action is drawn under a load, as weights.

    complaint.create=5,complaint.accept=4,rapid_test.record=2     exact action names
    complaint.*=1,task.*=1                                        a pattern covers every action it matches
    day                                                           the proportions of a simulated day

Later terms override earlier ones for the actions they name, so `day,plan.draw=0` is the day's mix
without drawing plans.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
import random
from collections.abc import Callable, Collection, Mapping


class MixError(ValueError):
    """A --mix the simulator cannot use; the message says what to write instead."""


def parse_mix(text: str, known: Collection[str], presets: Mapping[str, Mapping[str, float]] | None = None
              ) -> dict[str, float]:
    presets = presets or {}
    if not text.strip():
        raise MixError("--mix is empty; give weights such as 'complaint.create=3,task.create=1' or a preset "
                       f"({', '.join(sorted(presets)) or 'none'})")
    weights: dict[str, float] = {}
    for raw in text.split(","):
        term = raw.strip()
        if not term:
            raise MixError(f"--mix {text!r} has an empty term (two commas in a row?)")
        if term in presets:
            weights.update({name: float(w) for name, w in presets[term].items() if name in known})
            continue
        name, sep, value = term.partition("=")
        name = name.strip()
        if not sep:
            raise MixError(f"--mix term {term!r} is neither a preset ({', '.join(sorted(presets)) or 'none'}) "
                           "nor action=weight")
        weight = _weight(name, value.strip())
        matched = [action for action in known if fnmatch.fnmatchcase(action, name)]
        if not matched:
            close = difflib.get_close_matches(name, list(known), n=3)
            hint = (f"; did you mean {', '.join(close)}?" if close
                    else "; `python -m simulator --list-actions` lists them")
            raise MixError(f"--mix names unknown action {name!r}{hint}")
        weights.update(dict.fromkeys(matched, weight))
    if not any(w > 0 for w in weights.values()):
        raise MixError(f"--mix {text!r} gives no action a weight above zero")
    return {name: w for name, w in weights.items() if w > 0}


def _weight(name: str, value: str) -> float:
    try:
        weight = float(value)
    except ValueError:
        raise MixError(f"--mix weight of {name!r} is {value!r}, not a number") from None
    if not math.isfinite(weight) or weight < 0:
        raise MixError(f"--mix weight of {name!r} must be a finite number >= 0, not {value!r}")
    return weight


class WeightedChoice:
    """Draws an action by weight among those that can run now (a follow-up needs work waiting)."""

    def __init__(self, weights: Mapping[str, float], rng: random.Random):
        self.names = sorted(weights)
        self.weights = [weights[name] for name in self.names]
        self.rng = rng

    def draw(self, feasible: Callable[[str], bool]) -> str | None:
        names, weights = [], []
        for name, weight in zip(self.names, self.weights, strict=True):
            if feasible(name):
                names.append(name)
                weights.append(weight)
        if not names:
            return None
        return self.rng.choices(names, weights)[0]
