"""Demo items, loaded by `make run` into an empty store (never over existing data), or finished after
an interrupted load (services.common.demo).

The offices come from command_center's events, delivered before this runs. Each office gets items
in every state, handled on the days they would have been (the use cases acting on a past day), so the
clocks are met, late or running as in a district mid-stream; the final sweep marks what is overdue.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from sqlalchemy import select

from services.common import credit_code
from services.common.clock import SHANGHAI
from services.common.context import SYSTEM_CALLER
from services.common.demo import DemoOutcome, run_demo
from services.complaints.domain import personal_data
from services.complaints.domain.complaints import Complaints
from services.complaints.domain.intake import ComplaintInput
from services.complaints.domain.states import ACCEPTED, COMPLAINT, INQUIRY, RECEIVED, REPORT, VERIFIED
from services.complaints.domain.sweep import DeadlineSweep
from services.complaints.domain.workspace import Workspace
from services.complaints.models import Complaint, DemoLoad, Office, OfficeStreet

HERE = Path(__file__).parent


def load_demo(workspace: Workspace, complaints: Complaints, sweep: DeadlineSweep) -> DemoOutcome:
    """Loads the demo items into an empty store, or finishes an interrupted load."""

    def is_empty(session) -> bool:
        return session.scalar(select(Complaint.id).limit(1)) is None

    def missing_offices(session) -> str | None:
        if session.scalar(select(Office.id).limit(1)) is None:
            return "no offices yet (they come from command_center's events): no items to route"
        return None

    def load(skipped: list[str]) -> None:
        with workspace.store.read() as session:
            offices = session.execute(select(Office.id, OfficeStreet.street).join(OfficeStreet)
                                      .order_by(Office.id, OfficeStreet.street)).all()
            streetless = list(session.scalars(select(Office.id).where(~Office.id.in_(
                select(OfficeStreet.office_id))).order_by(Office.id)))
        skipped.extend(f"office {office_id} has no streets: no demo items for it" for office_id in streetless)
        data = yaml.safe_load((HERE / "items.yaml").read_text(encoding="utf-8"))
        seen: set[str] = set()
        for number, (office_id, street) in enumerate(offices, start=1):
            if office_id not in seen:
                seen.add(office_id)
                _office_items(workspace, Demo(data, office_id, street, number, workspace.today()))
        for index, entry in enumerate(data["unrouted"]):
            demo = Demo(data, "", entry["street"], 90 + index, workspace.today())
            complaints.create_complaint(SYSTEM_CALLER, f"demo-unrouted-{index}", demo.item(
                COMPLAINT, data["complaints"][index], 3, business=entry["business"], address=entry["address"]))
        sweep.run()

    return run_demo(workspace.store, DemoLoad, is_empty=is_empty, missing_prerequisite=missing_offices, load=load)


class Demo:
    """Invented people and businesses for one office, numbered so that every run is the same."""

    def __init__(self, data: dict, office_id: str, street: str, number: int, today: dt.date):
        self.data, self.office_id, self.street, self.number, self.today = data, office_id, street, number, today
        self.serial = 0

    def item(self, kind: str, sample: dict, days_ago: int, *, anonymous: bool = False, business: str = "",
             address: str = "") -> ComplaintInput:
        self.serial += 1
        received = dt.datetime.combine(self.today - dt.timedelta(days=days_ago), dt.time(9 + self.serial % 8, 30),
                                       SHANGHAI)
        businesses = self.data["businesses"]
        name = business or businesses[(self.number + self.serial) % len(businesses)].format(street=self.street)
        road = self.data["roads"][(self.number * 3 + self.serial) % len(self.data["roads"])]
        person = {} if anonymous else self._person()
        return ComplaintInput(
            kind=kind, channel=("HOTLINE_12315", "ONLINE_12315", "REFERRAL_12345", "WALK_IN")[self.serial % 4],
            received_at=received, anonymous=anonymous, **person,
            respondent_name=name if kind != INQUIRY else "", respondent_uscc=self._uscc() if kind != INQUIRY else "",
            respondent_address=address or (f"闵行区{self.street}{road}{100 + self.serial * 7}号"
                                           if kind != INQUIRY else ""),
            # An inquiry names no business; the asker's street sends it to the local office.
            respondent_street=self.street, category=sample["category"], category_code=sample.get("category_code", ""),
            description=sample["description"], amount_yuan=str(sample.get("amount_yuan", "")))

    def _person(self) -> dict[str, str]:
        surnames, given = self.data["surnames"], self.data["given_names"]
        seed = self.number * 11 + self.serial
        birth = f"19{60 + seed % 40:02d}{1 + seed % 12:02d}{1 + seed % 28:02d}"
        first_17 = f"310112{birth}{seed % 1000:03d}"
        return {"complainant_name": surnames[seed % len(surnames)] + given[(seed * 5) % len(given)],
                "complainant_phone": f"139{self.number:02d}{self.serial:02d}{seed % 10000:04d}",
                "complainant_id_number": first_17 + personal_data.id_number_check_character(first_17)
                if seed % 3 == 0 else ""}

    def _uscc(self) -> str:
        # 91 = enterprise, 310112 = Minhang's division code, then a made-up organisation code.
        first_17 = f"91310112MA1{self.number:02d}{self.serial:02d}LX"
        return first_17 + credit_code.check_character(first_17)


def _on(workspace: Workspace, days_ago: int) -> Complaints:
    """The use cases as they acted `days_ago` days ago (at the end of office hours, after that day's
    items arrived), for the history of the demo district."""
    day = workspace.today() - dt.timedelta(days=days_ago)
    instant = dt.datetime.combine(day, dt.time(18, 0), SHANGHAI).astimezone(dt.UTC)
    return Complaints(Workspace(workspace.store, workspace.clocks, lambda: day, lambda: instant,
                                categories=workspace.categories, rewards=workspace.rewards))


def _office_items(workspace: Workspace, demo: Demo) -> None:
    complaints, reports, inquiries = demo.data["complaints"], demo.data["reports"], demo.data["inquiries"]
    n, key = demo.number, demo.office_id

    def create(kind: str, sample: dict, days_ago: int, **options) -> str:
        item = demo.item(kind, sample, days_ago, **options)
        return _on(workspace, days_ago).create_complaint(SYSTEM_CALLER, f"demo-{key}-{demo.serial}", item).complaint.id

    def state(complaint_id: str) -> Complaint:
        with workspace.store.read() as session:
            return session.get(Complaint, complaint_id)

    # Each step only from the state before it: a load resumed after an interruption does none twice.
    # Just received, within the acceptance limit.
    create(COMPLAINT, complaints[n % 5], 1)
    # Received weeks ago and never decided: overdue at the sweep (every other office).
    if n % 2 == 0:
        create(COMPLAINT, complaints[(n + 1) % 5], 20)
    # Accepted in time; mediation under way.
    mediating = create(COMPLAINT, complaints[(n + 2) % 5], 12)
    if state(mediating).state == RECEIVED:
        _on(workspace, 9).accept(SYSTEM_CALLER, mediating, "材料齐全，予以受理")
    # Mediated to an agreement, with the complainant's feedback; some offices accepted late.
    resolved = create(COMPLAINT, complaints[(n + 3) % 5], 40)
    if state(resolved).state == RECEIVED:
        _on(workspace, 36 if n % 4 else 28).accept(SYSTEM_CALLER, resolved, "")
    if state(resolved).state == ACCEPTED:
        _on(workspace, 15).record_mediation_outcome(SYSTEM_CALLER, resolved, "RESOLVED", "双方达成调解协议，商家退款")
    if state(resolved).feedback_rating is None:
        _on(workspace, 12).record_feedback(SYSTEM_CALLER, resolved,
                                      ("SATISFIED", "BASICALLY_SATISFIED", "DISSATISFIED")[n % 3], "")
    # Refused, or mediated without agreement and the parties told.
    other = create(COMPLAINT, complaints[(n + 4) % 5], 30)
    if n % 3 == 0:
        if state(other).state == RECEIVED:
            _on(workspace, 26).refuse(SYSTEM_CALLER, other, "HANDLED_ELSEWHERE", "已由消保委调解")
    else:
        if state(other).state == RECEIVED:
            _on(workspace, 25).accept(SYSTEM_CALLER, other, "")
        if state(other).state == ACCEPTED:
            _on(workspace, 8).record_mediation_outcome(SYSTEM_CALLER, other, "FAILED", "被投诉人拒绝调解")
        if n % 2 and state(other).notified_at is None:
            _on(workspace, 5).record_notification(SYSTEM_CALLER, other, "已电话告知双方终止调解")
    # A named report: verified, and at some offices filed as a case (CaseLeadRaised) with a reward
    # level; the reporter told in time at some, still waiting to be told at the others.
    report = create(REPORT, reports[n % 3], 14)
    if state(report).state == RECEIVED:
        _on(workspace, 10).verify_report(SYSTEM_CALLER, report, "现场核查属实")
    if n % 2:
        if state(report).state == VERIFIED:
            _on(workspace, 6).decide_report(SYSTEM_CALLER, report, True, "予以立案", str(2 + n % 4 // 2),
                                            "举报内容与核查的违法事实相符，证据确凿")
        if n % 4 == 1 and state(report).notified_at is None:
            _on(workspace, 4).record_notification(SYSTEM_CALLER, report, "已告知举报人立案决定")
    # An anonymous report nobody decided on: overdue at some offices.
    create(REPORT, reports[(n + 1) % 3], 25 if n % 3 == 1 else 5, anonymous=True)
    # An inquiry, answered.
    inquiry = create(INQUIRY, inquiries[n % 2], 3)
    if state(inquiry).state == RECEIVED:
        _on(workspace, 2).answer_inquiry(SYSTEM_CALLER, inquiry, "已电话答复并告知办理渠道")
