"""The gateway's own store. It holds no source of truth: the live index is in memory, built from
the other services; stored here are what outlives a process (the index history for trend charts,
the schemes assessment sent), the event bookkeeping of monolithic mode (inbox, versions) and the
deliveries no process could apply (dead letters)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Date, Float, Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.db import UTCDateTime
from services.common.events import AppliedVersionMixin, DeadLetterMixin, InboxMixin, OutboxMixin
from services.common.leases import LeaseMixin


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    """Required by the relay every host runs; the gateway publishes no events of its own."""


class Inbox(InboxMixin, Base):
    pass


class AppliedVersion(AppliedVersionMixin, Base):
    pass


class DeadLetter(DeadLetterMixin, Base):
    pass


class Lease(LeaseMixin, Base):
    pass


class HistoryPoint(Base):
    """One value of one series (the index, a dimension, an indicator) of one scope (an office, or
    the district) in one bucket (a minute, or a day in Asia/Shanghai). Written when the value
    changes, so a series is a step function: the value holds until the next point."""

    __tablename__ = "index_history"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    series: Mapped[str] = mapped_column(String(96), primary_key=True)
    resolution: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket: Mapped[dt.datetime] = mapped_column(UTCDateTime(), primary_key=True)
    # None when the series had no data (an index without any dimension, a missing indicator).
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    scheme_version: Mapped[int] = mapped_column(BigInteger)

    # Retention deletes by resolution and age.
    __table_args__ = (Index("ix_index_history_age", "resolution", "bucket"),)


class KnownScheme(Base):
    """A scheme version assessment published, kept so that a restarted gateway scores with it even
    while assessment does not answer."""

    __tablename__ = "schemes"

    version: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    # scoring.Scheme.to_dict() plus "names": indicator key -> name.
    body: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
