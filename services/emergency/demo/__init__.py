"""The demo incidents and drills, loaded by `make run` into an empty store (never over existing data).

Everything goes through the use cases, so the demo publishes the same events and indicators as real
work would. Offices and officers come from command_center's events, which the monolith delivers
before this runs; an office or officer not known here is skipped.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from sqlalchemy import select

from services.common.context import OFFICER, SYSTEM_CALLER, Caller
from services.emergency.domain.drills import DrillInput
from services.emergency.domain.emergency import Emergency, IncidentView
from services.emergency.domain.incidents import IncidentInput, ReviewInput
from services.emergency.domain.rules import COUNT_FIELDS
from services.emergency.models import Drill, Incident, Office, Officer

HERE = Path(__file__).parent


def load_demo(emergency: Emergency) -> bool:
    with emergency.store.read() as session:
        if session.scalar(select(Incident.id).limit(1)) or session.scalar(select(Drill.id).limit(1)):
            return False
        offices = set(session.scalars(select(Office.id)))
        officers = set(session.scalars(select(Officer.id)))
    if not offices:
        return False
    data = yaml.safe_load((HERE / "incidents.yaml").read_text(encoding="utf-8"))
    now = emergency.now()
    for number, item in enumerate(data["incidents"], start=1):
        if item["office"] in offices:
            _incident(emergency, number, item, now, officers)
    _drills(emergency, data, offices)
    emergency.sweep_overdue()
    return True


def _officer(office_id: str, seat: int) -> str:
    return f"{office_id}-{seat:02d}"


def _caller(office_id: str, seat: int | None, officers: set[str]) -> Caller:
    officer_id = _officer(office_id, seat) if seat else ""
    if officer_id not in officers:
        return SYSTEM_CALLER
    return Caller(subject=officer_id, roles=frozenset({OFFICER}), office_id=office_id)


def _incident(emergency: Emergency, number: int, item: dict, now: dt.datetime, officers: set[str]) -> None:
    office_id = item["office"]
    learned = now - dt.timedelta(hours=item["learned_hours_ago"])
    counts = dict.fromkeys(COUNT_FIELDS, 0) | item.get("counts", {})
    view = emergency.report_incident(_caller(office_id, 1, officers), f"demo-incident-{number}", IncidentInput(
        type=item["type"], office_id=office_id, title=item["title"], description="演示数据",
        entity_name=item["entity"], address=item["address"],
        occurred_at=learned - dt.timedelta(hours=item["occurred_hours_before"]), learned_at=learned,
        counts=counts, circumstances=item.get("circumstances", [])))
    for step in item.get("steps", []):
        view = _step(emergency, view, step, learned, _caller(office_id, step.get("by"), officers), officers)


def _step(emergency: Emergency, view: IncidentView, step: dict, learned: dt.datetime, caller: Caller,
          officers: set[str]) -> IncidentView:
    incident = view.incident
    action_ids = {a.code: a.id for a in view.actions}
    if "assign" in step:
        officer_id = _officer(incident.office_id, step["officer"])
        if officer_id not in officers:
            return view
        return emergency.assign_action(caller, incident.id, action_ids[step["assign"]], officer_id)
    if "complete" in step:
        return emergency.complete_action(caller, incident.id, action_ids[step["complete"]], step.get("note", ""),
                                         learned + dt.timedelta(hours=step["after_hours"]))
    if "update" in step:
        counts = {name: getattr(incident, name) for name in COUNT_FIELDS} | step["update"]
        return emergency.update_counts(caller, incident.id, counts, [], list(step["update"]), step["note"], 0)
    if "escalate" in step:
        return emergency.escalate_level(caller, incident.id, step["escalate"], step["reason"])
    if "note" in step:
        return emergency.add_note(caller, incident.id, step["note"])
    review = step["close"]
    return emergency.close_incident(caller, incident.id, ReviewInput(review["cause"], review["measures"],
                                                                     review["lessons"]))


def _drills(emergency: Emergency, data: dict, offices: set[str]) -> None:
    today = emergency.today()
    scenarios = data["drill_scenarios"]
    for position, (office_id, count) in enumerate(data["drills"].items()):
        if office_id not in offices:
            continue
        for index in range(count):
            scenario = scenarios[(position + index) % len(scenarios)]
            # Spread over the year so far; early in January they fall on the first days.
            held_on = max(dt.date(today.year, 1, 1), today - dt.timedelta(days=29 * (index + 1) + 3 * index))
            emergency.record_drill(SYSTEM_CALLER, f"demo-drill-{office_id}-{index}", DrillInput(
                office_id=office_id, held_on=held_on, title=scenario["title"], incident_type=scenario["type"],
                participant_count=12 + 3 * index, scenario=scenario["scenario"],
                findings="演练达到预期，联络响应时间偏长，已修订通讯录"))
