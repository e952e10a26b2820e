"""Fixtures of complaints' unit tests: the service's tables on a real SQLite file."""

from __future__ import annotations

import pytest

from services.common.db import Store
from services.complaints.models import Base


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'complaints.db'}")
    Base.metadata.create_all(store.engine)
    yield store
    store.dispose()
