"""The demo district's facilities, loaded by `make run` into an empty store (never over existing data),
or finished after an interrupted load (services.common.demo).

It builds on command_center's offices and officers, which reach this service as events before
this runs. Everything goes through the use cases, so the demo publishes the same events and
indicators as real use would: some rooms wanting, calibrations near or past due, a week of rapid
tests in each of the 14 rooms with about 1% positives in every stage, goods in custody.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import yaml
from sqlalchemy import select

from services.common import credit_code
from services.common.clock import SHANGHAI
from services.common.context import SYSTEM_CALLER
from services.common.demo import DemoOutcome, run_demo
from services.facilities.domain.custody import CheckInInput, Custody
from services.facilities.domain.equipment import EquipmentInput, Inventory
from services.facilities.domain.rapid_tests import RapidTestInput, RapidTests, SampleInput
from services.facilities.domain.rooms import FourUnifiedInput, RoomCheckInput, Rooms
from services.facilities.domain.standards import Method
from services.facilities.domain.vocabulary import ASPECTS, OPEN_POSITIVE_STATES, POSITIVE_PENDING
from services.facilities.domain.workspace import Workspace
from services.facilities.models import DemoLoad, Equipment, Office, Officer, RapidTest

HERE = Path(__file__).parent
INSPECTOR = "区局标准化检查组"
# (office number, days back, what happens to the positive): about 1% of the district's week.
POSITIVES = [(2, 3, "confirmed"), (5, 1, "confirmed"), (8, 2, "window closed"), (11, 0, "re-test requested"),
             (13, 0, "in window")]


def load_demo(workspace: Workspace, rooms: Rooms, inventory: Inventory, rapid_tests: RapidTests,
              custody: Custody) -> DemoOutcome:
    """Loads the demo facilities into an empty store, or finishes an interrupted load."""

    def is_empty(session) -> bool:
        return session.scalar(select(Equipment.id).limit(1)) is None

    def missing_offices(session) -> str | None:
        if session.scalar(select(Office.id).limit(1)) is None:
            return "no offices yet (they come from command_center's events): no facilities to record"
        return None

    def load(skipped: list[str]) -> None:
        with workspace.store.read() as session:
            offices = list(session.scalars(select(Office).order_by(Office.id)))
        catalog = yaml.safe_load((HERE / "catalog.yaml").read_text(encoding="utf-8"))
        for number, office in enumerate(offices, start=1):
            _rooms(workspace, rooms, office.id, number)
            readers = _equipment(workspace, inventory, office.id, number, catalog["equipment_models"])
            _rapid_tests(workspace, rapid_tests, office, number, readers, catalog)
            _custody(workspace, custody, office.id, number, catalog["custody_goods"], skipped)
        inventory.sweep_calibration()
        rapid_tests.sweep_retest_windows()

    return run_demo(workspace.store, DemoLoad, is_empty=is_empty, missing_prerequisite=missing_offices, load=load)


def _rooms(workspace: Workspace, rooms: Rooms, office_id: str, number: int) -> None:
    """Most rooms comply; a few offices have a room short of area or a requirement unmet."""
    today = workspace.today()
    checked_on = today - dt.timedelta(days=5 + number)
    for kind, standard in workspace.standards.rooms.in_force(checked_on).rooms.items():
        met = [r.code for r in standard.requirements]
        area = round(standard.min_area_m2 * (1.1 + (number % 4) * 0.15), 1)
        present = True
        if kind == "archive" and number % 4 == 0:
            met.remove("moisture_protection")
        if kind == "rapid_test" and number % 5 == 1:
            area = standard.min_area_m2 - 4
        if kind == "confiscated_store" and number % 7 == 3:
            met.remove("video_surveillance")
        if kind == "activity" and number == 9:
            present, area, met = False, 0.0, []
        rooms.record_check(SYSTEM_CALLER, f"demo-room-{office_id}-{kind}", RoomCheckInput(
            office_id=office_id, kind=kind, present=present, area_m2=area, requirements_met=met,
            findings="" if present else "与会议室合用，未单独设置", photo_refs=[f"photos/demo/{office_id}/{kind}.jpg"],
            checked_by=INSPECTOR, checked_on=checked_on))
    for aspect in ASPECTS:
        failed = (aspect == "SIGNAGE" and number % 3 == 0) or (aspect == "DISCLOSURE" and number % 6 == 1)
        rooms.record_four_unified(SYSTEM_CALLER, f"demo-four-{office_id}-{aspect}", FourUnifiedInput(
            office_id=office_id, aspect=aspect, passed=not failed,
            findings="门头标识未按统一样式更换" if aspect == "SIGNAGE" and failed else
            ("政务公开栏信息未及时更新" if failed else ""),
            photo_refs=[], checked_by=INSPECTOR, checked_on=checked_on))


def _equipment(workspace: Workspace, inventory: Inventory, office_id: str, number: int,
               models: dict[str, str]) -> dict[str, str]:
    """The standard configuration; some calibrations near or past due. Returns the id of the
    device each test category's tests are read on."""
    today = workspace.today()
    readers: dict[str, str] = {}
    for code, category in workspace.standards.equipment.in_force(today).categories.items():
        abbreviation = "".join(word[0] for word in code.split("_")).upper()
        for unit in range(category.per_office):
            last = None
            if category.calibration_months is not None:
                days_ago = 100 + number if unit == 0 else (120 + 23 * unit + 7 * number) % 300
                if code == "rapid_test_reader" and unit == 1 and number % 4 == 2:
                    days_ago = 350  # due within the notice period
                if code == "rapid_test_reader" and unit == 1 and number % 7 == 5:
                    days_ago = 372  # out of calibration
                if code == "thermometer" and unit == 1 and number % 5 == 3:
                    days_ago = 400
                last = today - dt.timedelta(days=days_ago)
            registered = inventory.register(SYSTEM_CALLER, f"demo-equipment-{office_id}-{code}-{unit}", EquipmentInput(
                office_id=office_id, category=code, model=models[code],
                serial_no=f"{office_id}-{abbreviation}-{unit + 1:03d}", last_calibrated_on=last, calibration_due=None))
            if category.used_for_tests and unit == 0:
                readers[code] = registered.equipment.id
    return readers


def _rapid_tests(workspace: Workspace, rapid_tests: RapidTests, office: Office, number: int, readers: dict[str, str],
                 catalog: dict) -> None:
    """A week of tests, four to six a day, negative but for the district's planned positives."""
    rng = random.Random(number)
    now = workspace.now()
    items = catalog["items"]
    codes = list(items)
    weights = [items[code]["weight"] for code in codes]
    market = office.name.removesuffix("市场监督管理所") + "农贸市场"
    vendors = [(f"{catalog['vendor_surnames'][(number + k) % 12]}记{trade}", _uscc(number, k), f"{k + 1:02d}号")
               for k, trade in enumerate(catalog["vendor_trades"])]
    today = workspace.today()
    for days_back in range(6, -1, -1):
        day = today - dt.timedelta(days=days_back)
        for slot in range(4 + (number + days_back) % 3):
            tested_at = dt.datetime.combine(day, dt.time(9), SHANGHAI) + dt.timedelta(minutes=50 * slot)
            if tested_at > now - dt.timedelta(minutes=5):
                break
            code = rng.choices(codes, weights)[0]
            method = workspace.standards.rapid_tests.in_force(day).items[code].methods[items[code]["method"]]
            origin = "PUBLIC_REQUEST" if rng.random() < 0.25 else "MARKET_SAMPLING"
            _record(rapid_tests, office.id, f"{day:%m%d}-{slot}", origin, code, method,
                    rng.choice(items[code]["samples"]), rng.choice(vendors), market, readers, tested_at,
                    _negative_reading(method, rng))
    for planned_number, days_back, fate in POSITIVES:
        if planned_number != number:
            continue
        tested_at = (now - dt.timedelta(minutes=20 if fate == "in window" else 60) if days_back == 0 else
                     dt.datetime.combine(today - dt.timedelta(days=days_back), dt.time(10, 15), SHANGHAI))
        method = workspace.standards.rapid_tests.in_force(today).items["pesticide_residue"].methods["enzyme_inhibition"]
        test = _record(rapid_tests, office.id, "positive", "MARKET_SAMPLING", "pesticide_residue", method, "豇豆",
                       vendors[0], market, readers, tested_at, method.threshold + 12.5)
        # Only from the state the test was recorded in: a resumed load does neither twice.
        state = _test_state(workspace, test)
        if fate == "confirmed" and state in OPEN_POSITIVE_STATES:
            rapid_tests.confirm(SYSTEM_CALLER, test, None, False, 4.5)
        elif fate == "re-test requested" and state == POSITIVE_PENDING:
            rapid_tests.request_retest(SYSTEM_CALLER, test, "GB 23200.113-2018 气相色谱-质谱联用法")


def _test_state(workspace: Workspace, test_id: str) -> str:
    with workspace.store.read() as session:
        return session.scalars(select(RapidTest.state).where(RapidTest.id == test_id)).one()


def _record(rapid_tests: RapidTests, office_id: str, slot: str, origin: str, code: str, method: Method, sample: str,
            vendor: tuple[str, str, str], market: str, readers: dict[str, str], tested_at: dt.datetime,
            reading: float) -> str:
    reader = readers["pesticide_reader" if code == "pesticide_residue" else "rapid_test_reader"]
    name, vendor_uscc, stall = vendor
    view = rapid_tests.record(SYSTEM_CALLER, f"demo-test-{office_id}-{slot}", RapidTestInput(
        office_id=office_id, origin=origin,
        sample=SampleInput(name=sample, vendor_name=name, vendor_uscc=vendor_uscc, market=market, stall=stall),
        item=code, method=method.code, equipment_id=reader, reading=reading, result=None,
        tested_at=tested_at.astimezone(dt.UTC)))
    return view.test.id


def _negative_reading(method: Method, rng: random.Random) -> float:
    return round(rng.uniform(method.minimum, method.minimum + (method.threshold - method.minimum) * 0.8), 2)


def _uscc(number: int, vendor: int) -> str:
    """A valid code of an individual business (92) registered in Minhang (310112)."""
    body = f"92310112MA{number:02d}{vendor:05d}"
    return body + credit_code.check_character(body)


def _custody(workspace: Workspace, custody: Custody, office_id: str, number: int, goods: list[dict],
             skipped: list[str]) -> None:
    today = workspace.today()
    with workspace.store.read() as session:
        signers = [o.id for o in session.scalars(select(Officer).where(Officer.office_id == office_id)
                                                 .order_by(Officer.id))
                   if o.certificate_no and o.certificate_expires and o.certificate_expires >= today][:2]
    if len(signers) < 2:
        skipped.append(f"office {office_id} has fewer than two certified officers to sign: no goods in custody")
        return
    for k in range(2):
        good = goods[(number + k) % len(goods)]
        view = custody.check_in(SYSTEM_CALLER, f"demo-custody-{office_id}-{k}", CheckInInput(
            office_id=office_id, case_id=f"{office_id}-AJ-2026-{k + 1:03d}", description=good["description"],
            quantity=good["quantity"], unit=good["unit"], location="罚没物品库 A-01", signed_by=signers,
            note="随案移交入库"))
        if k == 1 and view.item.location == "罚没物品库 A-01":  # not moved yet by an interrupted load
            custody.move(SYSTEM_CALLER, view.item.id, "罚没物品库 B-03", list(reversed(signers)), "按类别调整存放")
