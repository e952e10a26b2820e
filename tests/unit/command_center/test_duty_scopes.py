"""The duty list's structure without a server: the shipped sample of 157 items, scopes on import,
and the demo district's offices judged on the items each answers for."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
import yaml

from services.command_center import indicators
from services.command_center.demo import HERE, load_demo
from services.command_center.domain import duty_list
from services.command_center.domain.duty_list import DutyList
from services.command_center.domain.duty_scopes import load_scopes
from services.command_center.domain.officers import Officers
from services.command_center.domain.offices import Offices
from services.command_center.domain.tasks import Tasks
from services.command_center.domain.workspace import Workspace
from services.command_center.models import Base, Officer
from services.common.db import Store
from services.common.errors import InvalidArgument
from services.common.rulebook import RuleDataError
from services.common.working_days import WorkingDayCalendar

TODAY = dt.date(2026, 11, 2)
SCOPES = load_scopes()


def shipped_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((HERE / "duty_list.csv").read_text(encoding="utf-8"))))


def test_the_shipped_list_has_157_items_with_placeholders_marked_and_scopes_known():
    rows = duty_list.parse((HERE / "duty_list.csv").read_bytes(), "CSV", SCOPES)
    assert len(rows) == 157
    placeholders = [r for r in rows if r.placeholder]
    assert placeholders and all(r.title.startswith("（待导入）") for r in placeholders)
    assert all(not r.title.startswith("（待导入）") for r in rows if not r.placeholder)
    assert {r.applies_to for r in rows} - {""} <= set(SCOPES)
    assert {r.responsible_level for r in rows} == {"OFFICE", "BUREAU"}


def test_scopes_and_placeholder_flags_are_checked_on_import():
    header = "code,title,category,legal_basis,responsible_level,group,applies_to,placeholder\n"
    rows = duty_list.parse((header + "A,t,c,b,OFFICE,,wet_market,TRUE\nB,t,c,b,OFFICE,,,\n").encode(), "CSV",
                           SCOPES)
    assert [(r.applies_to, r.placeholder) for r in rows] == [("wet_market", True), ("", False)]
    with pytest.raises(InvalidArgument) as raised:
        duty_list.parse((header + "A,t,c,b,OFFICE,,moon_base,perhaps\n").encode(), "CSV", SCOPES)
    assert {v.field for v in raised.value.violations} == {"rows[2].applies_to", "rows[2].placeholder"}
    # A file of the columns the list had before scopes still imports: every office, real items.
    old = duty_list.parse(b"code,title,category,legal_basis,responsible_level,group\nA,t,c,b,OFFICE,\n", "CSV")
    assert (old[0].applies_to, old[0].placeholder) == ("", False)
    yaml_rows = duty_list.parse(b"items:\n  - {code: A, title: t, category: c, legal_basis: b, responsible_level: "
                                b"OFFICE, applies_to: port, placeholder: true}\n", "YAML", SCOPES)
    assert (yaml_rows[0].applies_to, yaml_rows[0].placeholder) == ("port", True)


def test_a_malformed_scope_file_stops_the_start(tmp_path: Path):
    path = tmp_path / "duty_scopes.yaml"
    path.write_text("effective_from: 2026-01-01\nscopes: {Wet Market: 农贸市场}\n", encoding="utf-8")
    with pytest.raises(RuleDataError, match=r"duty_scopes\.yaml"):
        load_scopes(path)


def test_the_demo_districts_offices_are_judged_on_their_own_items(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'cc.db'}")
    Base.metadata.create_all(store.engine)
    workspace = Workspace(store, lambda: TODAY, WorkingDayCalendar.load())
    tasks = Tasks(workspace)
    load_demo(workspace, Offices(workspace), Officers(workspace), DutyList(workspace), tasks)
    district = yaml.safe_load((HERE / "district.yaml").read_text(encoding="utf-8"))
    items = [r for r in shipped_rows() if r["responsible_level"] == "OFFICE"]
    with store.read() as session:
        staffed: dict[str, set[str]] = {}
        for officer in session.query(Officer):
            if officer.certificate_no and officer.certificate_expires and officer.certificate_expires >= TODAY:
                staffed.setdefault(officer.office_id, set()).add(officer.group)
        readings = indicators.compute(session, None, TODAY)
    ratios = {}
    for entry in district["offices"]:
        scopes = {"", *entry.get("duty_scopes", [])}
        own = [r for r in items if r["applies_to"] in scopes]
        covered = [r for r in own if r["group"] in staffed.get(entry["id"], set())]
        found = next(r for r in readings[entry["id"]] if r.key == indicators.DUTY_COVERAGE)
        assert (found.numerator, found.denominator) == (len(covered), len(own)), entry["id"]
        ratios[entry["id"]] = len(covered) / len(own)
    assert len(set(ratios.values())) > 3  # offices whose work differs are judged differently
    store.dispose()
