"""Proof that no past record of an inspection or a case was altered: each keeps a hash-chained
trail (services.common.hash_chain) and remembers its head, so a changed, removed or reordered
record, or a trail cut short, is found and named."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from services.common import hash_chain
from services.common.access import require_read
from services.common.context import Caller
from services.common.errors import InvalidArgument
from services.mobile_enforcement.domain.cases import get_case
from services.mobile_enforcement.domain.inspections import get_inspection
from services.mobile_enforcement.domain.workspace import Workspace
from services.mobile_enforcement.models import AuditRecord, Case, Inspection

_OWNERS: dict[str, Callable[[Session, str], Inspection | Case]] = {"inspection": get_inspection, "case": get_case}


class AuditTrails:
    """Proof that an inspection's or a case's evidence trail (执法全过程记录) is unaltered."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def verify(self, caller: Caller, subject: str) -> hash_chain.Verification:
        """Checks every record of the trail of inspection/<id> or case/<id> against the head its owner holds."""
        kind, _, record_id = subject.strip().partition("/")
        if kind not in _OWNERS or not record_id:
            raise InvalidArgument.of("subject", "inspection/<id> or case/<id>")
        with self.workspace.store.read() as session:
            owner = _OWNERS[kind](session, record_id)
            require_read(caller, owner.office_id)
            return hash_chain.verify(session, AuditRecord, f"{kind}/{owner.id}", self.workspace.trail_keys,
                                     expected_head=owner.trail_head)
