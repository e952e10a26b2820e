"""The demo incidents and drills, loaded by `make run` into an empty store (never over existing data),
or finished after an interrupted load (services.common.demo).

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
from services.common.demo import DemoOutcome, run_demo
from services.emergency.domain import timeline
from services.emergency.domain.actions import DONE
from services.emergency.domain.drills import DrillInput, Drills
from services.emergency.domain.incidents import CLOSED, Incidents, IncidentView, ReviewInput
from services.emergency.domain.intake import IncidentInput
from services.emergency.domain.rules import COUNT_FIELDS
from services.emergency.domain.workspace import Workspace
from services.emergency.models import DemoLoad, Drill, Incident, IncidentAction, Office, Officer, TimelineEntry

HERE = Path(__file__).parent


def load_demo(workspace: Workspace, incidents: Incidents, drills: Drills) -> DemoOutcome:
    """Loads the demo incidents and drills into an empty store, or finishes an interrupted load."""

    def is_empty(session) -> bool:
        return (session.scalar(select(Incident.id).limit(1)) is None
                and session.scalar(select(Drill.id).limit(1)) is None)

    def missing_offices(session) -> str | None:
        if session.scalar(select(Office.id).limit(1)) is None:
            return "no offices yet (they come from command_center's events): no incidents to report"
        return None

    def load(skipped: list[str]) -> None:
        with workspace.store.read() as session:
            offices = set(session.scalars(select(Office.id)))
            officers = set(session.scalars(select(Officer.id)))
        data = yaml.safe_load((HERE / "incidents.yaml").read_text(encoding="utf-8"))
        now = workspace.now()
        for number, item in enumerate(data["incidents"], start=1):
            if item["office"] in offices:
                _incident(workspace, incidents, number, item, now, officers, skipped)
            else:
                skipped.append(f"incident {number} ({item['title']}): office {item['office']} is not known here")
        _drills(workspace, drills, data, offices, skipped)
        incidents.sweep_overdue()

    return run_demo(workspace.store, DemoLoad, is_empty=is_empty, missing_prerequisite=missing_offices, load=load)


def _officer(office_id: str, seat: int) -> str:
    return f"{office_id}-{seat:02d}"


def _caller(office_id: str, seat: int | None, officers: set[str]) -> Caller:
    officer_id = _officer(office_id, seat) if seat else ""
    if officer_id not in officers:
        return SYSTEM_CALLER
    return Caller(subject=officer_id, roles=frozenset({OFFICER}), office_id=office_id)


def _incident(workspace: Workspace, incidents: Incidents, number: int, item: dict, now: dt.datetime, officers: set[str],
              skipped: list[str]) -> None:
    office_id = item["office"]
    learned = now - dt.timedelta(hours=item["learned_hours_ago"])
    counts = dict.fromkeys(COUNT_FIELDS, 0) | item.get("counts", {})
    view = incidents.report_incident(_caller(office_id, 1, officers), f"demo-incident-{number}", IncidentInput(
        type=item["type"], office_id=office_id, title=item["title"], description="演示数据",
        entity_name=item["entity"], address=item["address"],
        occurred_at=learned - dt.timedelta(hours=item["occurred_hours_before"]), learned_at=learned,
        counts=counts, circumstances=item.get("circumstances", [])))
    # As first reported: a resumed load times the steps from the same moment as the first one did.
    learned = view.incident.learned_at
    for step in item.get("steps", []):
        if _done(workspace, view.incident.id, step):
            continue  # done by an interrupted load before this one
        view = _step(incidents, view, step, learned, _caller(office_id, step.get("by"), officers), officers,
                     skipped)


def _done(workspace: Workspace, incident_id: str, step: dict) -> bool:
    """Whether the incident already shows this step's effect (each step's is distinct in the demo)."""
    with workspace.store.read() as session:
        incident = session.get(Incident, incident_id)
        action = {a.code: a for a in session.scalars(select(IncidentAction).where(
            IncidentAction.incident_id == incident_id))}
        if "assign" in step:
            return action[step["assign"]].assignee_id == _officer(incident.office_id, step["officer"])
        if "complete" in step:
            # A step marked if_planned is for an action only the rule sets since December 2026 require.
            if step["complete"] not in action and step.get("if_planned"):
                return True
            return action[step["complete"]].state == DONE
        if "update" in step:
            return all(getattr(incident, name) == value for name, value in step["update"].items())
        if "escalate" in step:
            return incident.escalated_level == step["escalate"]
        if "note" in step:
            return session.scalar(select(TimelineEntry.id).where(
                TimelineEntry.incident_id == incident_id, TimelineEntry.kind == timeline.NOTE,
                TimelineEntry.text == step["note"].strip()).limit(1)) is not None
        return incident.state == CLOSED


def _step(incidents: Incidents, view: IncidentView, step: dict, learned: dt.datetime, caller: Caller,
          officers: set[str], skipped: list[str]) -> IncidentView:
    incident = view.incident
    action_ids = {a.code: a.id for a in view.actions}
    if "assign" in step:
        officer_id = _officer(incident.office_id, step["officer"])
        if officer_id not in officers:
            skipped.append(f"incident {incident.title}: officer {officer_id} is not known here, "
                           f"{step['assign']} left unassigned")
            return view
        return incidents.assign_action(caller, incident.id, action_ids[step["assign"]], officer_id)
    if "complete" in step:
        return incidents.complete_action(caller, incident.id, action_ids[step["complete"]], step.get("note", ""),
                                         learned + dt.timedelta(hours=step["after_hours"]))
    if "update" in step:
        counts = {name: getattr(incident, name) for name in COUNT_FIELDS} | step["update"]
        return incidents.update_counts(caller, incident.id, counts, [], list(step["update"]), step["note"], 0)
    if "escalate" in step:
        return incidents.escalate_level(caller, incident.id, step["escalate"], step["reason"])
    if "note" in step:
        return incidents.add_note(caller, incident.id, step["note"])
    review = step["close"]
    return incidents.close_incident(caller, incident.id, ReviewInput(review["cause"], review["measures"],
                                                                     review["lessons"]))


def _drills(workspace: Workspace, drills: Drills, data: dict, offices: set[str], skipped: list[str]) -> None:
    today = workspace.today()
    scenarios = data["drill_scenarios"]
    for position, (office_id, count) in enumerate(data["drills"].items()):
        if office_id not in offices:
            skipped.append(f"drills of office {office_id}: the office is not known here")
            continue
        for index in range(count):
            scenario = scenarios[(position + index) % len(scenarios)]
            # Spread over the year so far; early in January they fall on the first days.
            held_on = max(dt.date(today.year, 1, 1), today - dt.timedelta(days=29 * (index + 1) + 3 * index))
            drills.record_drill(SYSTEM_CALLER, f"demo-drill-{office_id}-{index}", DrillInput(
                office_id=office_id, held_on=held_on, title=scenario["title"], incident_type=scenario["type"],
                participant_count=12 + 3 * index, scenario=scenario["scenario"],
                findings="演练达到预期，联络响应时间偏长，已修订通讯录"))
