"""Events complaints consumes (its copy of the offices and officers, the closing of cases its reports
led to), and the timer that sweeps deadlines."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.common.consumer import Subscription, Timer
from services.common.events import Event
from services.complaints.domain.assignment import OfficerMessage, read_officer
from services.complaints.domain.directory import Directory
from services.complaints.domain.report_rewards import ReportRewards, read_closure
from services.complaints.domain.routing import OfficeMessage, read_announcement
from services.complaints.domain.sweep import DeadlineSweep
from supervision.command_center.v1 import events_pb2 as command_center
from supervision.mobile_enforcement.v1 import events_pb2 as mobile_enforcement


class Handlers:
    def __init__(self, directory: Directory, sweep: DeadlineSweep, rewards: ReportRewards):
        self.directory = directory
        self.sweep = sweep
        self.rewards = rewards

    def learn_office(self, session: Session, event: Event[OfficeMessage]) -> None:
        """Keeps the office and its streets to route complaints; moves district-queue items on them to it."""
        # OfficeRegistered and OfficeUpdated carry the whole office, so both apply the same way; the
        # consumer's version check drops an announcement older than the one applied.
        self.directory.apply_office(session, read_announcement(event.message))

    def learn_officer(self, session: Session, event: Event[OfficerMessage]) -> None:
        """Keeps the officer's office and group to assign handlers; hands items over when they join or
        leave an office's complaint handling group."""
        self.directory.apply_officer(session, read_officer(event.message))

    def reward_report(self, session: Session, event: Event[mobile_enforcement.CaseClosed]) -> None:
        """Computes the reward of the report a closed case came from, when it closed with a fine or
        confiscation and the report carries a reward level."""
        closure = read_closure(event.message)
        if closure is not None:
            self.rewards.case_closed(session, closure)

    def subscriptions(self) -> list[Subscription]:
        return [Subscription("command_center", command_center.OfficeRegistered, self.learn_office),
                Subscription("command_center", command_center.OfficeUpdated, self.learn_office),
                Subscription("command_center", command_center.OfficerRegistered, self.learn_officer),
                Subscription("command_center", command_center.OfficerUpdated, self.learn_officer),
                Subscription("mobile_enforcement", mobile_enforcement.CaseClosed, self.reward_report)]

    def timers(self) -> list[Timer]:
        return [Timer("sweep_complaint_deadlines", self.sweep.run)]
