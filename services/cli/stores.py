"""The stores of the local commands (demo loading, the trails check), found as the center finds them.

Each service's store: <SERVICE>_DATABASE_URL when set; else DATABASE_URL when the command works on
one service (a microservices deployment sets it per process); else the monolith's SQLite file
<service>.db under DATA_DIR (default var). These commands need the store, not a running center.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from services.cli.connection import CommandFailed, UsageError
from services.common import registry
from services.common.config import ConfigError, Settings
from services.common.db import Store, sqlite_url
from services.common.runtime import ServiceRuntime


def settings_from_env() -> Settings:
    """The center's settings; a bad value is a usage error naming the variable (exit 2)."""
    try:
        return Settings.from_env()
    except ConfigError as error:
        raise UsageError(str(error)) from None


def store_url(service: str, settings: Settings, *, one_service: bool, env: Mapping[str, str] | None = None) -> str:
    """Where `service`'s store is (see the module's docstring)."""
    env = os.environ if env is None else env
    own = env.get(f"{service.upper()}_DATABASE_URL", "").strip()
    if own:
        return own
    if settings.database_url:
        if not one_service:
            raise UsageError("DATABASE_URL 只指向一个服务的库，请用 --service 选一个服务，或为每个服务设置 "
                             "<SERVICE>_DATABASE_URL · DATABASE_URL names one service's store: choose it with "
                             "--service, or set <SERVICE>_DATABASE_URL for each")
        return settings.database_url
    return f"sqlite:///{Path(settings.data_dir) / (service + '.db')}"


def existing_store(url: str, service: str) -> Store:
    """The store at `url`; a SQLite file that does not exist is an error, never created empty."""
    path = _sqlite_path(url)
    if path is not None and not path.is_file():
        raise CommandFailed(f"{service}: 找不到库文件 · no store at {path} (DATA_DIR, DATABASE_URL, "
                            f"{service.upper()}_DATABASE_URL)")
    return Store(url)


def new_or_existing_store(url: str) -> Store:
    """The store at `url`; a SQLite file is created (with its folder) when missing, as the monolith does."""
    path = _sqlite_path(url)
    if path is not None:
        sqlite_url(str(path.parent), path.stem)  # makes the folder
    return Store(url)


def build_runtime(service: str, settings: Settings, store: Store) -> ServiceRuntime:
    """The service's runtime over `store`, as its own processes build it."""
    return registry.builder(service)(settings, store)


def _sqlite_path(url: str) -> Path | None:
    for prefix in ("sqlite+pysqlite:///", "sqlite:///"):
        if url.startswith(prefix):
            return Path(url[len(prefix):].split("?", 1)[0])
    return None
