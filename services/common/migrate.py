"""Alembic per service: its own migrations folder and its own version table.

The version table carries the service's name so that services sharing one database in a small
deployment (or a test) never read each other's migration state.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import Engine, MetaData


def alembic_config(service: str, migrations_dir: Path, url: str) -> Config:
    """Alembic's configuration for a service's migrations against the store at `url`."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["service"] = service
    return config


def version_table(service: str) -> str:
    """The table that records a service's schema revision (one per service: stores may share a database)."""
    return f"alembic_version_{service}"


def upgrade(service: str, migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Migrates a service's store at `url` to `revision` (the newest by default)."""
    command.upgrade(alembic_config(service, migrations_dir, url), revision)


def run_env(context: EnvironmentContext, metadata: MetaData, service: str) -> None:
    """The body of every service's migrations/env.py."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url") or ""  # alembic_config always sets it
    connectable: Engine | None = config.attributes.get("connection")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, version_table=version_table(service),
                          literal_binds=True, render_as_batch=url.startswith("sqlite"))
        with context.begin_transaction():
            context.run_migrations()
        return
    from services.common.db import make_engine

    engine = connectable or make_engine(url, pool_size=1)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, version_table=version_table(service),
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    if connectable is None:
        engine.dispose()
