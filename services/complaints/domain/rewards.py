"""Rewards for reports (举报奖励): when the case a report led to closes with a fine or confiscation,
the reporter's reward is the level's percentage of the fines and confiscated gains, at least the
level's minimum and at most the maximum per case, all from the reward rule set in force on the day
the report was received. The level and its basis are what the office recorded when it filed the case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from services.common.errors import InvalidArgument, Violations
from services.common.rulebook import RuleBook, RuleDataError, load_rule_sets, number, read_rule_set

REWARDS_DIR = Path(__file__).resolve().parent.parent / "rules" / "rewards"
LEVELS = ("1", "2", "3")
MAX_BASIS = 1000
_FILE_KEYS = {"id", "title", "effective_from", "confirmed", "levels", "maximum_yuan"}


@dataclass(frozen=True)
class RewardLevel:
    """One reward level: its percentage and its minimum per case, in fen."""

    basis_points: int
    minimum_fen: int


@dataclass(frozen=True)
class RewardRules:
    """One reward rule set: the levels and the maximum per case."""

    id: str
    title: str
    effective_from: dt.date
    confirmed: bool
    levels: dict[str, RewardLevel]
    maximum_fen: int


@dataclass(frozen=True)
class Reward:
    """A computed reward and how it came about."""

    rule_set: str
    level: str
    base_fen: int
    basis_points: int
    amount_fen: int
    explanation: str


class RewardBook:
    """The reward rule sets by effective date."""

    def __init__(self, book: RuleBook[RewardRules]) -> None:
        self._book = book

    @classmethod
    def load(cls, directory: Path = REWARDS_DIR) -> RewardBook:
        """Every reward rule file of `directory`; RuleDataError naming the file when one is wrong."""
        return cls(load_rule_sets("report rewards", directory, _read))

    def on(self, day: dt.date) -> RewardRules:
        """The reward rules for a report received on `day` (the oldest before the first took effect)."""
        return self._book.applicable(day)


def check_level(level: str, basis: str) -> tuple[str, str]:
    """A level recorded with a case filing: one of LEVELS with its basis, or none at all."""
    basis = basis.strip()
    violations = Violations()
    if level and level not in LEVELS:
        violations.add("reward_level", f"one of {', '.join(LEVELS)}, or unset when no reward applies")
    if level and not basis:
        violations.add("reward_basis", "required with a reward level: why the report merits it")
    if not level and basis:
        violations.add("reward_basis", "given without a reward level")
    if len(basis) > MAX_BASIS:
        violations.add("reward_basis", f"at most {MAX_BASIS} characters")
    violations.raise_if_any("invalid reward level")
    return level, basis


def compute(rules: RewardRules, level: str, base_fen: int) -> Reward:
    """The reward for fines and confiscations of `base_fen` at `level` under `rules`."""
    if level not in rules.levels:
        raise InvalidArgument.of("reward_level", f"{level!r} is no level of {rules.title}")
    tier = rules.levels[level]
    share = int((Decimal(base_fen) * tier.basis_points / 10000).quantize(Decimal(1), ROUND_HALF_UP))
    percent = f"{Decimal(tier.basis_points) / 100:g}%"
    amount, words = share, f"{percent} × {_yuan(base_fen)} = {_yuan(share)}"
    if amount < tier.minimum_fen:
        amount, words = tier.minimum_fen, words + f"，低于该级最低额，按 {_yuan(tier.minimum_fen)}"
    if amount > rules.maximum_fen:
        amount, words = rules.maximum_fen, words + f"，超过每案最高额，按 {_yuan(rules.maximum_fen)}"
    return Reward(rules.id, level, base_fen, tier.basis_points, amount, f"{level}级：{words}（{rules.title}）")


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d} 元"


def _read(path: Path) -> RewardRules:
    document = read_rule_set(path, _FILE_KEYS)
    levels = document["levels"]
    if not isinstance(levels, dict) or set(map(str, levels)) != set(LEVELS):
        raise RuleDataError(f"{path.name}: levels must give exactly {', '.join(LEVELS)}")
    parsed = {}
    for key, entry in levels.items():
        where = f"{path.name}: levels.{key}"
        if not isinstance(entry, dict):
            raise RuleDataError(f"{where}: percent and minimum_yuan are required")
        percent = number(entry, "percent", where, low=0.01, high=100)
        minimum = number(entry, "minimum_yuan", where, low=0)
        parsed[str(key)] = RewardLevel(round(percent * 100), round(minimum * 100))
    maximum = round(number(document, "maximum_yuan", path.name, low=1) * 100)
    if any(level.minimum_fen > maximum for level in parsed.values()):
        raise RuleDataError(f"{path.name}: a level's minimum exceeds maximum_yuan")
    return RewardRules(id=str(document["id"]), title=str(document["title"]),
                       effective_from=document["effective_from"], confirmed=document["confirmed"],
                       levels=parsed, maximum_fen=maximum)
