"""Every service's migrations build, from empty, exactly the schema its models declare."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from services.common import migrate, registry
from services.common.db import Store


@pytest.fixture(params=["sqlite", "postgres"])
def empty_store_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("postgres_database")


@pytest.mark.parametrize("service", registry.names())
def test_migrations_match_the_models(service, empty_store_url):
    models = importlib.import_module(f"services.{service}.models")
    store = Store(empty_store_url)
    try:
        migrations = Path(models.__file__).with_name("migrations")
        migrate.upgrade(service, migrations, store.url)
        migrate.upgrade(service, migrations, store.url)  # a second run is a no-op
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": migrate.version_table(service)})
            assert compare_metadata(context, models.Base.metadata) == []
            assert migrate.version_table(service) in inspect(connection).get_table_names()
    finally:
        store.dispose()
