"""Every point lost, explained to people: from the scoring function's results, never re-scored.

score_office says how many points of its dimension an indicator earned. A person looking at an
office also wants to know what that costs the overall index: an indicator's lost points count in
proportion to its dimension's weight among the dimensions that have data, so the losses of all
indicators add up to exactly 100 minus the index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common import scoring


@dataclass(frozen=True)
class Explained:
    """One indicator's score with what its lost points cost the overall index, said in Chinese."""

    score: scoring.IndicatorScore
    name: str
    index_points_lost: float
    explanation_zh: str


def explain_office(score: scoring.OfficeScore, scheme: scoring.Scheme, names: Mapping[str, str] | None = None
                   ) -> list[Explained]:
    """Every indicator of an office's score explained; the index points lost add up to 100 minus its index."""
    names = names or {}
    rules = {rule.key: rule for rule in scheme.indicators}
    dimensions = {d.key: d for d in score.dimensions}
    weight_with_data = sum(d.weight for d in score.dimensions if d.score is not None)
    explained = []
    for indicator in score.indicators:
        dimension = dimensions.get(indicator.dimension)
        share = 0.0
        if dimension is not None and dimension.score is not None and dimension.possible > 0 and weight_with_data > 0:
            # Dimension score = 100 x points / possible; index = sum(weight x score) / sum(weight).
            share = 100 * indicator.lost / dimension.possible * dimension.weight / weight_with_data
        rule = rules.get(indicator.key)
        explained.append(Explained(indicator, names.get(indicator.key, indicator.key), share,
                                   explanation_zh(indicator, rule)))
    return explained


def explanation_zh(indicator: scoring.IndicatorScore, rule: scoring.IndicatorRule | None) -> str:
    """Why an indicator earned what it earned, in the words the dashboard shows (得满分, 扣分, 暂无数据)."""
    weight = _points(indicator.weight)
    if indicator.status == scoring.MISSING:
        return "暂无数据：不计分，其权重由本维度其他指标分担"
    value, target = _figure(indicator.value), _figure(indicator.target)
    if indicator.status == scoring.FULL:
        return f"{value}，达到目标 {target}：得满分 {weight} 分"
    if indicator.status == scoring.PRO_RATA:
        achieved = indicator.points / indicator.weight if indicator.weight else 0.0
        return (f"{value}，目标 {target}，完成目标的 {achieved:.0%}：扣 {indicator.lost:.2f} 分"
                f"（满分 {weight} 分）")
    if rule is not None and rule.direction == scoring.LOWER:
        return f"{value}，超出目标 {target} 所允许的范围：{weight} 分全部扣除"
    floor = f"{rule.floor:.0%}" if rule is not None else "下限"
    return f"{value}，低于目标 {target} 的 {floor}：{weight} 分全部扣除"


def _figure(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if 0 <= value <= 1 else f"{value:.3g}"


def _points(value: float) -> str:
    return f"{value:g}"
