"""The registry generation every GetOffice reads: a driver-level query whose failures reach the
caller as SQLAlchemy's errors (a store that is away is UNAVAILABLE, never an unknown failure)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from services.command_center.domain.offices import registry_generation
from services.common.db import make_engine


def test_an_unreachable_store_raises_sqlalchemys_operational_error():
    engine = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(OperationalError):
            registry_generation(engine)
    finally:
        engine.dispose()


def test_a_store_without_the_table_raises_sqlalchemys_error_and_gives_the_connection_back(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(OperationalError, match="registry_generation"):
            registry_generation(engine)
        assert engine.pool.checkedout() == 0
    finally:
        engine.dispose()
