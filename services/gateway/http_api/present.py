"""The live index as JSON for front ends. Office summaries have two forms: the full one, and the
ranking form (name, index, rank) for an office the caller may not see in detail."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from services.common import scoring
from services.common.context import Caller
from services.gateway.domain.alerts import Alert
from services.gateway.domain.explain import explain_office
from services.gateway.domain.live import DistrictState, FeedItem, OfficeState, SourceState, View
from services.gateway.domain.monitor import HistoryAnswer
from services.gateway.domain.schemes import SchemeInForce


def instant(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if value is not None else None


def _round(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def dimensions(score: scoring.OfficeScore) -> list[dict[str, Any]]:
    return [{"key": d.key, "name": d.name, "weight": d.weight, "score": _round(d.score), "points": _round(d.points),
             "possible": _round(d.possible)} for d in score.dimensions]


def unscored(view: View, state: OfficeState) -> dict[str, float]:
    """Figures the services publish that the scheme does not score (e.g. complaints in progress)."""
    scored = {rule.key for rule in view.scheme.scheme.indicators}
    return {key: value.numerator if value.denominator == 1 else _round(value.numerator / value.denominator, 4)
            for key, value in sorted(state.values.items()) if key not in scored and value.denominator > 0}


def office_summary(view: View, state: OfficeState, *, detail: bool) -> dict[str, Any]:
    summary = {"office_id": state.office_id, "name": state.name, "index": _round(state.score.index),
               "rank": view.ranks.get(state.office_id, 0), "updated_at": instant(state.updated_at)}
    if detail:
        summary["dimensions"] = {d.key: _round(d.score) for d in state.score.dimensions}
        summary["figures"] = unscored(view, state)
    return summary


class OfficeFragments:
    """Each office's summary as JSON, made once per state of the office: a list of thousands of
    offices is then a join of ready-made fragments (states are immutable; a new state, or a new
    rank, makes a new fragment). Used from the HTTP server's event loop only."""

    def __init__(self) -> None:
        self._made: dict[tuple[str, bool], tuple[OfficeState, int, bytes]] = {}

    def fragment(self, view: View, state: OfficeState, *, detail: bool) -> bytes:
        key, rank = (state.office_id, detail), view.ranks.get(state.office_id, 0)
        made = self._made.get(key)
        if made is None or made[0] is not state or made[1] != rank:
            body = json.dumps(office_summary(view, state, detail=detail), ensure_ascii=False, separators=(",", ":"))
            made = self._made[key] = (state, rank, body.encode())
        return made[2]


def indicators(view: View, score: scoring.OfficeScore, as_of: dict[str, dt.datetime | None]) -> list[dict[str, Any]]:
    result = []
    for item in explain_office(score, view.scheme.scheme, dict(view.scheme.names)):
        indicator = item.score
        result.append({
            "key": indicator.key, "name": item.name, "dimension": indicator.dimension,
            "source": indicator.key.split(".", 1)[0], "numerator": indicator.numerator,
            "denominator": indicator.denominator, "value": _round(indicator.value, 4), "target": indicator.target,
            "weight": indicator.weight, "points": _round(indicator.points), "points_lost": _round(indicator.lost),
            "index_points_lost": _round(item.index_points_lost), "status": indicator.status,
            "explanation": indicator.explanation, "explanation_zh": item.explanation_zh,
            "as_of": instant(as_of.get(indicator.key))})
    return result


def office_detail(view: View, state: OfficeState, alerts: list[Alert]) -> dict[str, Any]:
    return {
        **office_summary(view, state, detail=False),
        "scheme_version": view.scheme.version,
        "dimensions": dimensions(state.score),
        "indicators": indicators(view, state.score, {k: v.as_of for k, v in state.values.items()}),
        "unscored": [{"key": key, "name": view.scheme.name_of(key), "value": value}
                     for key, value in unscored(view, state).items()],
        "alerts": [alert(a) for a in alerts],
        "sources": [source(s) for s in view.sources.values()],
    }


def district(view: View, state: DistrictState, *, with_indicators: bool = True) -> dict[str, Any]:
    body = {"index": _round(state.score.index), "office_count": state.office_count,
            "scheme_version": view.scheme.version, "dimensions": dimensions(state.score),
            "updated_at": instant(state.updated_at)}
    if with_indicators:
        body["indicators"] = indicators(view, state.score, {})
        body["sources"] = [source(s) for s in view.sources.values()]
    return body


def rankings(view: View) -> list[dict[str, Any]]:
    return [{"rank": view.ranks.get(office_id, 0), "office_id": office_id, "name": view.offices[office_id].name,
             "index": _round(view.offices[office_id].score.index)} for office_id in view.order]


def alert(item: Alert) -> dict[str, Any]:
    return {"id": item.id, "kind": item.kind, "kind_name": item.kind_name, "office_id": item.office_id,
            "severity": item.severity, "title": item.title, "due": item.due.isoformat() if item.due else None}


def feed_item(view: View, item: FeedItem) -> dict[str, Any]:
    office = view.offices.get(item.office_id)
    return {"time": instant(item.time), "office_id": item.office_id,
            "office_name": office.name if office else item.office_id, "source": item.source, "text": item.text}


def source(status: SourceState) -> dict[str, Any]:
    return {"source": status.source, "available": status.available, "error": status.error,
            "last_seen": instant(status.last_seen)}


def scheme(current: SchemeInForce) -> dict[str, Any]:
    body = current.scheme
    return {
        "version": current.version, "effective_from": current.effective_from.isoformat(), "origin": current.origin,
        "dimensions": [{"key": d.key, "name": d.name, "weight": d.weight} for d in body.dimensions],
        "indicators": [{"key": r.key, "name": current.name_of(r.key), "dimension": r.dimension, "weight": r.weight,
                        "target": r.target, "floor": r.floor, "direction": r.direction} for r in body.indicators],
        "names": dict(current.names),
    }


def history(key: str, answer: HistoryAnswer, resolution: str) -> dict[str, Any]:
    return {"key": key, "scope": answer.scope, "resolution": resolution, "from": instant(answer.start),
            "to": instant(answer.end),
            "points": [{"time": instant(p.time), "value": _round(p.value, 4)} for p in answer.points]}


def snapshot(view: View, caller: Caller, position: str) -> dict[str, Any]:
    """Everything a dashboard shows, as the caller may see it: the first message of a stream."""
    return {
        "position": position,
        "scheme": scheme(view.scheme),
        "district": district(view, view.district, with_indicators=False),
        "offices": [office_summary(view, view.offices[o], detail=caller.may_see_office(o)) for o in view.order],
        "alerts": [alert(a) for a in view.alerts.values() if caller.may_see_office(a.office_id)],
        "feed": [feed_item(view, i) for i in view.feed if caller.may_see_office(i.office_id)],
        "sources": [source(s) for s in view.sources.values()],
    }
