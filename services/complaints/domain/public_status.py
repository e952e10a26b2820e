"""The public status of an item (办理进度查询): what the complainant may see without signing in,
given the number they were told and the last four digits of their phone. State and dates only;
never a name, a phone, an office or a note. A wrong number and wrong digits give the same answer,
so a guesser learns nothing about which was wrong."""

from __future__ import annotations

import datetime as dt
import hmac
import re
from dataclasses import dataclass

from services.common.clock import shanghai_date
from services.common.context import SYSTEM, Caller
from services.common.errors import NotFound, PermissionDenied, Violations
from services.complaints.domain.deadlines import deadlines_of
from services.complaints.domain.workspace import Workspace
from services.complaints.models import Complaint, ComplaintDeadline

# The one answer to every miss: an unknown number, wrong digits, an anonymous item.
NO_MATCH = "no item matches this number and these digits"
_NUMBER = re.compile(r"^[0-9A-Za-z-]{1,32}$")
_LAST4 = re.compile(r"^[0-9]{4}$")


@dataclass(frozen=True)
class PublicStatus:
    """The item's kind, state and dates, and its clocks, each flagged as the rules say."""

    complaint: Complaint
    deadlines: list[ComplaintDeadline]
    # The rule sets of the clocks that are marked unconfirmed.
    unconfirmed_rule_sets: frozenset[str]

    @property
    def received_on(self) -> dt.date:
        """The day (Asia/Shanghai) the item was received."""
        return shanghai_date(self.complaint.received_at)

    @property
    def updated_on(self) -> dt.date:
        """The day (Asia/Shanghai) the item last changed."""
        return shanghai_date(self.complaint.updated_at)


class PublicStatusLookup:
    """The citizen page's lookup; only the gateway's service identity may ask."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def status(self, caller: Caller, number: str, phone_last4: str) -> PublicStatus:
        """The item's public status when the number and the phone's last four digits match; else
        NOT_FOUND with the same message whatever was wrong."""
        if not caller.has_any(SYSTEM):
            raise PermissionDenied(f"{caller.subject} may not look up items as the public does; "
                                   "the citizen page asks through the gateway")
        number, phone_last4 = number.strip(), phone_last4.strip()
        violations = Violations()
        if not _NUMBER.match(number):
            violations.add("number", "the complaint number as given on receipt")
        if not _LAST4.match(phone_last4):
            violations.add("phone_last4", "four digits")
        violations.raise_if_any("invalid status lookup")
        with self.workspace.store.read() as session:
            complaint = session.get(Complaint, number)
            key = complaint.complainant_key if complaint is not None else ""
            # Compared in constant time, and compared even on a miss, so timing tells nothing either.
            matches = hmac.compare_digest((key[-4:] if len(key) >= 4 else "----").encode(), phone_last4.encode())
            if complaint is None or complaint.anonymous or not matches:
                raise NotFound(NO_MATCH)
            deadlines = deadlines_of(session, [complaint.id])[complaint.id]
        unconfirmed = frozenset(d.rule_set for d in deadlines if not self.workspace.rules.get(d.rule_set).confirmed)
        return PublicStatus(complaint, deadlines, unconfirmed)

