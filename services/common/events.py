"""Events: the envelope, the outbox and inbox tables, and writing an event with its state change.

The outbox row is written in the same transaction as the change that causes it, so an event
exists if and only if its change does; the relay publishes it afterwards.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from services.common.context import traceparent_var
from services.common.db import UTCDateTime, utcnow


@dataclass(frozen=True)
class Envelope:
    """CloudEvents attributes plus office, aggregate version and trace context.

    On the wire it is a JSON object with the field names of supervision.common.v1.EventEnvelope.
    """

    id: str
    source: str
    type: str
    subject: str
    time: dt.datetime
    office_id: str = ""
    aggregate_id: str = ""
    aggregate_version: int = 0
    traceparent: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id, "source": self.source, "type": self.type, "subject": self.subject,
            "time": self.time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "office_id": self.office_id, "aggregate_id": self.aggregate_id,
            "aggregate_version": self.aggregate_version, "traceparent": self.traceparent,
            "data": self.data,
        }

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Envelope:
        try:
            time = dt.datetime.fromisoformat(str(wire["time"]).replace("Z", "+00:00"))
            if time.tzinfo is None:
                raise ValueError("time without zone")
            if not isinstance(wire["id"], str) or not wire["id"]:
                raise ValueError("id must be a non-empty string")
            return cls(
                id=str(wire["id"]), source=str(wire["source"]), type=str(wire["type"]),
                subject=str(wire.get("subject", "")), time=time,
                office_id=str(wire.get("office_id", "")), aggregate_id=str(wire.get("aggregate_id", "")),
                aggregate_version=int(wire.get("aggregate_version", 0)),
                traceparent=str(wire.get("traceparent", "")), data=dict(wire.get("data") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedEvent(f"malformed event envelope: {exc}") from exc


class MalformedEvent(ValueError):
    pass


class OutboxMixin:
    """Events waiting for the relay. `id` orders publication."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    @declared_attr.directive
    def __table_args__(cls):
        unsent = text("sent_at IS NULL")
        return (Index("ix_outbox_unsent", "id", sqlite_where=unsent, postgresql_where=unsent),)


class InboxMixin:
    """Events this service has applied, by id: a redelivery finds its id and does nothing."""

    __tablename__ = "inbox"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AppliedVersionMixin:
    """The newest version applied per foreign aggregate: an older event is ignored."""

    __tablename__ = "applied_versions"

    aggregate: Mapped[str] = mapped_column(String(160), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class RequestKeyMixin:
    """request_id of each Create: a retry with the same id returns the first result. The column holds
    the caller's subject and the request_id hashed together (idempotency.stored_key)."""

    __tablename__ = "request_keys"

    request_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    method: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class EventWriter:
    """Writes events of one service into its outbox within the caller's transaction."""

    def __init__(self, source: str, outbox_model: type[OutboxMixin]):
        self.source = source
        self.outbox_model = outbox_model

    def record(self, session: Session, event_type: str, *, aggregate_type: str, aggregate_id: str,
               version: int, office_id: str = "", data: dict[str, Any] | None = None) -> Envelope:
        envelope = Envelope(
            id=str(uuid.uuid4()), source=self.source, type=event_type,
            subject=f"{aggregate_type}/{aggregate_id}", time=utcnow(), office_id=office_id,
            aggregate_id=aggregate_id, aggregate_version=version, traceparent=traceparent_var.get(),
            data=data or {},
        )
        session.add(self.outbox_model(event_id=envelope.id, event_type=event_type,
                                      envelope=envelope.to_wire(), created_at=envelope.time, attempts=0))
        session.info["events_written"] = True
        return envelope
