"""Events: the envelope, the outbox, inbox and dead-letter tables, and writing an event with its
state change.

The outbox row is written in the same transaction as the change that causes it, so an event
exists if and only if its change does; the relay publishes it afterwards. What an event carries is
a typed protobuf message of its publisher (protos/supervision/<publisher>/v1/events.proto); the
envelope holds its full name and its proto3 JSON form (services/common/contracts.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from google.protobuf.message import Message
from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, insert, text
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from services.common import contracts
from services.common.context import traceparent_var
from services.common.db import TableMixin, UTCDateTime, table_of, utcnow

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class Envelope:
    """CloudEvents attributes plus office, aggregate version and trace context.

    On the wire it is a JSON object with the field names of supervision.common.v1.EventEnvelope;
    `data` is the event's message in its proto3 JSON form (or, for an event written before the
    contracts were typed, the publisher's own dictionary).
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
        """The JSON object published on the wire and kept in the outbox row."""
        return {
            "id": self.id, "source": self.source, "type": self.type, "subject": self.subject,
            "time": self.time.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "office_id": self.office_id, "aggregate_id": self.aggregate_id,
            "aggregate_version": self.aggregate_version, "traceparent": self.traceparent,
            "data": self.data,
        }

    @classmethod
    def from_wire(cls, wire: dict[str, Any]) -> Envelope:
        """The envelope of a delivery; MalformedEvent when its attributes are missing or wrong."""
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


    @property
    def routing_key(self) -> str:
        """nameko's event type for this event: the message's short name ("OfficeRegistered"), which
        is also what events written before the contracts were typed used, so queues keep their names."""
        return contracts.routing_key(self.type)


class MalformedEvent(ValueError):
    """A delivery whose envelope cannot be read: parked as a dead letter, never applied."""


@dataclass(frozen=True)
class Event(Generic[M]):
    """A consumed event: its envelope's attributes and its decoded, typed message."""

    envelope: Envelope
    message: M

    @property
    def id(self) -> str:
        """Unique per event: the key of the consumer's inbox."""
        return self.envelope.id

    @property
    def source(self) -> str:
        """The publishing service."""
        return self.envelope.source

    @property
    def type(self) -> str:
        """The full name of the event's message (e.g. supervision.command_center.v1.OfficeRegistered)."""
        return self.envelope.type

    @property
    def time(self) -> dt.datetime:
        """When the publisher wrote the event (UTC)."""
        return self.envelope.time

    @property
    def office_id(self) -> str:
        """The office (所) the event concerns, "" for a district-wide one."""
        return self.envelope.office_id

    @property
    def aggregate_id(self) -> str:
        """The publisher's record the event is about."""
        return self.envelope.aggregate_id

    @property
    def aggregate_version(self) -> int:
        """That record's version after the change: an older one than already applied is ignored."""
        return self.envelope.aggregate_version


class OutboxMixin(TableMixin):
    """Events waiting for the relay. `id` orders publication."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, ...]:
        unsent = text("sent_at IS NULL")
        # Retention deletes published rows by age (services.common.retention).
        return (Index("ix_outbox_unsent", "id", sqlite_where=unsent, postgresql_where=unsent),
                Index("ix_outbox_sent_at", "sent_at"))


class InboxMixin(TableMixin):
    """Events this service has applied, by id: a redelivery finds its id and does nothing."""

    __tablename__ = "inbox"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(64))
    applied_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, ...]:
        # Retention deletes rows by age (services.common.retention).
        return (Index("ix_inbox_applied_at", "applied_at"),)


class AppliedVersionMixin(TableMixin):
    """The newest version applied per foreign aggregate: an older event is ignored. One row per
    aggregate, updated in place, never pruned: without it an older event of that aggregate would
    apply again."""

    __tablename__ = "applied_versions"

    aggregate: Mapped[str] = mapped_column(String(160), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class DeadLetterMixin(TableMixin):
    """Deliveries a consumer could not apply (a type it does not know, data that does not decode, a
    refusal by its rules, its handler's own failure): kept with the whole envelope for an operator to read and replay
    (`python -m services.<service> dead-letters`), never dropped in silence."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    # The subscription that could not apply it (e.g. "on_command_center_OfficeRegistered").
    subscription: Mapped[str] = mapped_column(String(128))
    # The event's id, or a digest of the delivery when it has none.
    event_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(128))
    # malformed, unknown_type, undecodable, refused (by the rules or the store) or failed (the handler).
    reason: Mapped[str] = mapped_column(String(16))
    error: Mapped[str] = mapped_column(Text)
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    parked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    replayed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # What the replay did: applied, duplicate or stale.
    replay_outcome: Mapped[str] = mapped_column(String(16), default="")

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, ...]:
        return (Index("ux_dead_letters_delivery", "subscription", "event_id", unique=True),)


class RequestKeyMixin(TableMixin):
    """request_id of each Create: a retry with the same id returns the first result. The column holds
    the caller's subject and the request_id hashed together (idempotency.stored_key); payload_hash
    the first request's message without its request_id (idempotency.payload_hash), '' for a key
    stored outside a gRPC call or before payloads were kept."""

    __tablename__ = "request_keys"

    request_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    method: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    payload_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")


class EventWriter:
    """Writes events of one service into its outbox within the caller's transaction."""

    def __init__(self, source: str, outbox_model: type[OutboxMixin]):
        self.source = source
        self.outbox_model = outbox_model
        # A Core insert on the session's connection: the ORM unit of work cost some 300 µs per event
        # (an object, a flush, its bookkeeping) against some 40 µs for the statement, and nothing
        # reads the row back as an object in the transaction that writes it.
        self._insert = insert(table_of(outbox_model))

    def record(self, session: Session, message: Message, *, aggregate_type: str, aggregate_id: str,
               version: int, office_id: str = "") -> Envelope:
        """Writes `message` (one of the publisher's event messages) into the outbox; its type is the
        message's full name."""
        if not isinstance(message, Message):
            raise TypeError(f"an event is a protobuf message of its publisher, not {type(message).__name__}")
        event_type = contracts.type_name(message)
        envelope = Envelope(
            id=str(uuid.uuid4()), source=self.source, type=event_type,
            subject=f"{aggregate_type}/{aggregate_id}", time=utcnow(), office_id=office_id,
            aggregate_id=aggregate_id, aggregate_version=version, traceparent=traceparent_var.get(),
            data=contracts.encode(message),
        )
        # Executed at once, in the caller's transaction: the row commits or rolls back with the
        # change, and the outbox id (the publication order) follows the order events are recorded.
        session.connection().execute(self._insert, {
            "event_id": envelope.id, "event_type": event_type, "envelope": envelope.to_wire(),
            "created_at": envelope.time, "attempts": 0})
        session.info["events_written"] = True
        return envelope
