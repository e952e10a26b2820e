"""The store of the benchmark's event consumer: inbox, versions, and one row per event received."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from services.common.events import AppliedVersionMixin, DeadLetterMixin, Event, InboxMixin, OutboxMixin


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
    pass


class AppliedVersion(AppliedVersionMixin, Base):
    pass


class DeadLetter(DeadLetterMixin, Base):
    pass


class Delay(Base):
    __tablename__ = "delays"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))
    delay_ms: Mapped[float] = mapped_column(Float)


def record_delay(session: Session, event: Event) -> None:
    """From the event's time (set inside the publishing transaction) to this handler."""
    delay = (dt.datetime.now(dt.UTC) - event.time).total_seconds() * 1000
    session.add(Delay(event_id=event.id, delay_ms=delay))
