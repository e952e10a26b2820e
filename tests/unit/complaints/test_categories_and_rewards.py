"""The 12315 classification and the report reward rules as data: what the shipped files hold, what a
broken file is refused for, and the reward at each level's edges (below, at and above the minimum,
and the maximum per case), computed by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.errors import InvalidArgument
from services.common.rulebook import RuleDataError
from services.complaints.domain.categories import CategoryBook
from services.complaints.domain.rewards import RewardBook, check_level, compute

TREE = CategoryBook.load().on(dt.date(2026, 11, 2))
REWARDS = RewardBook.load().on(dt.date(2026, 11, 2))


def test_the_tree_has_goods_and_services_classes_and_subclasses_with_their_paths():
    food, packaged = TREE.find("G01"), TREE.find("G0101")
    assert (food.domain, food.class_code, food.path) == ("G", "G01", "商品 / 食品")
    assert (packaged.domain, packaged.class_code, packaged.path) == ("G", "G01", "商品 / 食品 / 预包装食品")
    assert TREE.find("S0801").path == "服务 / 价格和计量 / 价格违法"
    assert {node.domain for node in TREE.nodes.values()} == {"G", "S"}
    assert (TREE.classify("食品安全"), TREE.classify("预付卡"), TREE.classify("G0401"), TREE.classify("别的")) == (
        "G01", "S07", "G0401", "")


GOODS = "- {code: G, name: 商品, classes: [{code: G01, name: 食品}]}"
SERVICES = "- {code: S, name: 服务, classes: [{code: S01, name: 餐饮}]}"


@pytest.mark.parametrize(("tree", "problem"), [
    (GOODS, "exactly the two top levels"),
    (GOODS.replace("G01", "X01") + "\n" + SERVICES, "start with its parent's code"),
    (GOODS + "\n" + SERVICES.replace("餐饮", "食品"), "already names another node"),
])
def test_a_broken_tree_is_refused_naming_the_file(tmp_path, tree, problem):
    (tmp_path / "t.yaml").write_text("id: t\ntitle: t\neffective_from: 2026-01-01\ntree:\n"
                                     + "\n".join("  " + line for line in tree.splitlines()) + "\n", encoding="utf-8")
    with pytest.raises(RuleDataError, match=problem):
        CategoryBook.load(tmp_path)


# (level, fines and confiscations in yuan, the reward in yuan): each level's minimum reached exactly
# at base = minimum / percent, one yuan below and above it, and the maximum per case.
@pytest.mark.parametrize(("level", "base_yuan", "reward_yuan"), [
    ("1", 99_999, 5_000), ("1", 100_000, 5_000), ("1", 100_020, 5_001), ("1", 20_000_000, 1_000_000),
    ("1", 20_000_020, 1_000_000), ("1", 19_999_980, 999_999),
    ("2", 99_999, 3_000), ("2", 100_000, 3_000), ("2", 100_100, 3_003),
    ("3", 99_999, 1_000), ("3", 100_000, 1_000), ("3", 100_100, 1_001), ("3", 200_000_000, 1_000_000),
])
def test_the_reward_is_the_levels_share_within_its_minimum_and_the_maximum(level, base_yuan, reward_yuan):
    percent = {"1": 5, "2": 3, "3": 1}[level]
    minimum = {"1": 5_000, "2": 3_000, "3": 1_000}[level]
    by_hand = min(max(base_yuan * percent / 100, minimum), 1_000_000)
    assert by_hand == reward_yuan
    reward = compute(REWARDS, level, base_yuan * 100)
    assert (reward.amount_fen, reward.basis_points, reward.rule_set) == (reward_yuan * 100, percent * 100,
                                                                         "sjgz-2021-4")
    assert reward.explanation.startswith(f"{level}级：{percent}% × {base_yuan}.00 元")


def test_a_reward_level_is_one_of_three_and_needs_its_basis():
    assert check_level("2", " 证据确凿 ") == ("2", "证据确凿") and check_level("", "") == ("", "")
    with pytest.raises(InvalidArgument) as refused:
        check_level("4", "")
    assert {v.field for v in refused.value.violations} == {"reward_level", "reward_basis"}
    with pytest.raises(InvalidArgument) as refused:
        check_level("1", "")
    assert {v.field for v in refused.value.violations} == {"reward_basis"}
