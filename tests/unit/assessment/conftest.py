"""assessment's unit tests: a real SQLite store with the service's tables."""

from __future__ import annotations

import pytest

from services.assessment.models import Base
from services.common.db import Store


@pytest.fixture
def store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'assessment.db'}")
    Base.metadata.create_all(store.engine)
    yield store
    store.dispose()
