"""One request, three callers, the store watched: the checks every generated request goes through.

For each request: an office user (office head or officer of one office) calls, then the auditor,
then the bureau leader, each on the state the one before left, with the store's fingerprint taken
between calls. Then:

- no caller ever gets UNKNOWN, INTERNAL, UNIMPLEMENTED, DATA_LOSS, UNAVAILABLE or a timeout;
- a refused call (any status but OK) changed nothing in the store, its outbox included;
- the auditor's call changed nothing, whatever it answered; and when the bureau leader's identical
  call then changed the store (a write), the auditor's answer was PERMISSION_DENIED;
- an office user's answer never names another office (PERMISSION_DENIED, NOT_FOUND or filtered);
- the process still reports SERVING.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.protobuf import text_format
from google.protobuf.message import Message

from tests.reliability.catalog import Method
from tests.reliability.district import FORBIDDEN_CODES, District, Outcome, Role, office_ids_in

# Intake open to every office: the new item is routed to the office whose jurisdiction covers it, and
# the answer echoes the caller's own submission (personal data masked for an office that does not
# handle it). Reading it afterwards is scoped as usual.
ROUTED_INTAKE = {"complaints:ComplaintService.CreateComplaint"}


@dataclass
class Violation:
    rule: str
    role: str
    code: str
    detail: str
    request: Message

    @property
    def signature(self) -> tuple[str, str, str]:
        return self.rule, self.role, self.code

    def describe(self, limit: int = 600) -> str:
        shown = text_format.MessageToString(self.request, as_utf8=True, as_one_line=True)
        if len(shown) > limit:
            shown = shown[:limit] + f"... ({len(shown)} characters)"
        return f"{self.rule} [{self.role}, {self.code}] {self.detail[:300]}\n      request: {{{shown}}}"


@dataclass
class Prober:
    district: District
    method: Method
    violations: list[Violation] = field(default_factory=list)
    calls: int = 0
    writes: int = 0

    @property
    def target(self):
        return self.district.targets[self.method.service]

    def _call(self, role: Role, request: Message) -> Outcome:
        self.calls += 1
        return self.target.call(self.method, request, role.metadata)

    def _flag(self, rule: str, role: Role, outcome: Outcome, request: Message, detail: str = "") -> None:
        self.violations.append(Violation(rule, role.name, outcome.code.name, detail or outcome.details, request))

    def _codes(self, role: Role, outcome: Outcome, request: Message) -> None:
        if outcome.code in FORBIDDEN_CODES:
            self._flag("forbidden status for a request", role, outcome, request)

    def probe(self, request: Message, office_role: str) -> None:
        fingerprint = self.target.fingerprint
        office_user = self.district.office_user(office_role)
        before = fingerprint()

        answer = self._call(office_user, request)
        after_office = fingerprint()
        self._codes(office_user, answer, request)
        if answer.ok:
            foreign = set().union(*(office_ids_in(m, office_user.office_id) for m in answer.messages()))
            if self.method.id in ROUTED_INTAKE:
                foreign = set()
            if foreign:
                self._flag("office user was shown another office", office_user, answer, request,
                           f"offices {sorted(foreign)[:5]} in the answer to a user of {office_user.office_id}")
        elif after_office != before:
            self._flag("refused call changed the store", office_user, answer, request,
                       "; ".join(fingerprint.diff(before, after_office)))

        auditor = self.district.auditor
        audited = self._call(auditor, request)
        after_auditor = fingerprint()
        self._codes(auditor, audited, request)
        if after_auditor != after_office:
            self._flag("auditor changed the store", auditor, audited, request,
                       "; ".join(fingerprint.diff(after_office, after_auditor)))

        leader = self.district.leader
        led = self._call(leader, request)
        after_leader = fingerprint()
        self._codes(leader, led, request)
        if not led.ok and after_leader != after_auditor:
            self._flag("refused call changed the store", leader, led, request,
                       "; ".join(fingerprint.diff(after_auditor, after_leader)))
        if led.ok and after_leader != after_auditor:
            self.writes += 1
            if audited.code != grpc.StatusCode.PERMISSION_DENIED:
                self._flag("auditor was not denied a write", auditor, audited, request,
                           f"the bureau leader's identical call changed the store "
                           f"({'; '.join(fingerprint.diff(after_auditor, after_leader))[:200]})")
        for message in led.messages():
            self.district.harvest.absorb(message)

    def healthy(self) -> bool:
        return self.target.api.healthy()

    def report(self) -> list[str]:
        """The problems found: one line per distinct signature, with its smallest request."""
        groups: dict[tuple, list[Violation]] = {}
        for violation in self.violations:
            groups.setdefault(violation.signature, []).append(violation)
        return [f"{len(group)} x {min(group, key=lambda v: v.request.ByteSize()).describe()}"
                for group in groups.values()]
