"""Init container of every API and worker pod: waits until the service's database schema is at the
migration head this image carries, i.e. until the migrate Job of the same release has finished.

    python deploy/image/wait_for_schema.py <service> [--timeout SECONDS]

It reads DATABASE_URL like the service itself and needs nothing but the database: no Kubernetes
API access, no RBAC. A database whose revision this image does not know is newer than the image
(a rollback to a previous image): the pod starts with a warning, which is why migrations stay
backward compatible for one release (expand, then contract; docs/operations.md "Migrations").
Exit status: 0 when the schema is ready, 1 on timeout, 2 on a configuration error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))


def current_heads(url: str, service: str) -> set[str]:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from services.common.db import normalise_url
    from services.common.migrate import version_table

    engine = create_engine(normalise_url(url), poolclass=NullPool, connect_args=_connect_args(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": version_table(service)})
            return set(context.get_current_heads())
    finally:
        engine.dispose()


def _connect_args(url: str) -> dict[str, int]:
    return {"connect_timeout": 5} if url.startswith("postgresql") else {}


def main() -> int:
    parser = argparse.ArgumentParser(prog="wait_for_schema.py")
    parser.add_argument("service")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--interval", type=float, default=3.0)
    args = parser.parse_args()

    from alembic.script import ScriptDirectory

    from services.common.config import ConfigError, Settings
    from services.common.migrate import alembic_config

    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    if not settings.database_url:
        print("configuration error: DATABASE_URL is required", file=sys.stderr)
        return 2
    migrations = ROOT / "services" / args.service / "migrations"
    if not migrations.is_dir():
        print(f"wait_for_schema: {args.service} has no migrations; nothing to wait for", flush=True)
        return 0
    script = ScriptDirectory.from_config(alembic_config(args.service, migrations, settings.database_url))
    heads = set(script.get_heads())
    known = {revision.revision for revision in script.walk_revisions()}
    deadline = time.monotonic() + args.timeout
    last = ""
    while True:
        try:
            current = current_heads(settings.database_url, args.service)
            state = f"database at {sorted(current) or 'nothing'}, image expects {sorted(heads)}"
        except Exception as exc:  # noqa: BLE001 - any failure to read is retried until the deadline
            current, state = None, f"database not readable yet: {type(exc).__name__}: {str(exc)[:200]}"
        if current == heads:
            print(f"wait_for_schema: {args.service}: schema ready ({sorted(heads)})", flush=True)
            return 0
        if current and not current <= known:
            print(f"wait_for_schema: {args.service}: WARNING {state}: the database is newer than this image "
                  "(rollback?); starting anyway", flush=True)
            return 0
        if state != last:
            print(f"wait_for_schema: {args.service}: waiting for the migrate Job: {state}", flush=True)
            last = state
        if time.monotonic() > deadline:
            print(f"wait_for_schema: {args.service}: timed out after {args.timeout:.0f}s: {state}", flush=True)
            return 1
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
