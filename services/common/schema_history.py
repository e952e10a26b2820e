"""Schema steps every service's migrations take alike, each as it was first written.

A migration is history: what it creates must not change when the code does. So each function here
is frozen once a migration calls it; a later change to the same table is a new function, called
by a new revision of each service.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.common.db import UTCDateTime


def create_dead_letters() -> None:
    """The dead_letters table (services.common.events.DeadLetterMixin) as first introduced."""
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("subscription", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("parked_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("replayed_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("replay_outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index("ux_dead_letters_delivery", ["subscription", "event_id"], unique=True)


def drop_dead_letters() -> None:
    """Undoes create_dead_letters."""
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.drop_index("ux_dead_letters_delivery")
    op.drop_table("dead_letters")


def add_request_key_payload_hash() -> None:
    """request_keys.payload_hash (services.common.events.RequestKeyMixin) as first introduced: ''
    on the keys stored before, which keep answering as retries."""
    with op.batch_alter_table("request_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload_hash", sa.String(length=64), server_default="", nullable=False))


def drop_request_key_payload_hash() -> None:
    """Undoes add_request_key_payload_hash."""
    with op.batch_alter_table("request_keys", schema=None) as batch_op:
        batch_op.drop_column("payload_hash")


def add_trail_key_ids(table: str, owners: list[tuple[str, str]]) -> None:
    """<table>.key_id (services.common.hash_chain.HashChainMixin) as first introduced, then the
    records written before it sealed once with the active trail key (hash_chain.seal_legacy_records;
    `owners` as it documents). The keys come from this process's environment (TRAIL_KEYS, or the key
    file under DATA_DIR) and are read only when there are records to seal."""
    from services.common import hash_chain
    from services.common.config import Settings

    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=32), nullable=True))
    if op.get_context().as_sql:
        return  # offline SQL: no rows to read; sealing happens when the migration runs for real
    hash_chain.seal_legacy_records(op.get_bind(), table, owners,
                                   lambda: hash_chain.TrailKeys.from_settings(Settings.from_env()))


def drop_trail_key_ids(table: str) -> None:
    """Undoes add_trail_key_ids' column. The sealed hashes stay keyed: code from before reads them as
    altered, so a downgrade is for a database that is to be restored from a backup anyway."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_column("key_id")


def add_retention_indexes() -> None:
    """outbox.sent_at and inbox.applied_at indexes (services.common.events) as first introduced, for
    retention to find old rows without reading the whole table. On PostgreSQL they are built
    CONCURRENTLY, outside the migration's transaction: a grown outbox keeps taking writes meanwhile."""
    for table, index, column in _RETENTION_INDEXES:
        if op.get_context().dialect.name == "postgresql":
            with op.get_context().autocommit_block():
                # Before this revision is stamped, an index of that name can only be what a concurrent
                # build interrupted half-way left behind (invalid): dropped, then built again.
                op.drop_index(index, table_name=table, postgresql_concurrently=True, if_exists=True)
                op.create_index(index, table, [column], postgresql_concurrently=True)
        else:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.create_index(index, [column], unique=False)


def drop_retention_indexes() -> None:
    """Undoes add_retention_indexes."""
    for table, index, _column in _RETENTION_INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index)


_RETENTION_INDEXES = (("outbox", "ix_outbox_sent_at", "sent_at"), ("inbox", "ix_inbox_applied_at", "applied_at"))


def create_leases() -> None:
    """The leases table (services.common.leases.LeaseMixin) as first introduced."""
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def drop_leases() -> None:
    """Undoes create_leases."""
    op.drop_table("leases")


def create_demo_loads() -> None:
    """The demo_loads table (services.common.demo.DemoLoadMixin) as first introduced."""
    op.create_table(
        "demo_loads",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def drop_demo_loads() -> None:
    """Undoes create_demo_loads."""
    op.drop_table("demo_loads")
