"""The operator's check of a service's evidence trails.

`python -m services.<service> verify-trails [--chain KEY]` recomputes every trail the service keeps
(or the one named), with DATABASE_URL or the monolith's SQLite file under DATA_DIR and the trail keys
of the environment (TRAIL_KEYS, or the key file under DATA_DIR), and prints each broken one with the
first record that does not verify and why. Exit status 1 when any trail is broken (or the named one
does not exist), 0 when all are intact: a scheduled job can alert on it.
"""

from __future__ import annotations

import sys
from typing import TextIO

from services.common import hash_chain
from services.common.runtime import ServiceRuntime


def run(runtime: ServiceRuntime, chain_key: str | None = None, out: TextIO = sys.stdout) -> int:
    """Verifies the service's trails and reports the broken ones. Returns the exit status."""
    if not runtime.trails or runtime.trail_keys is None:
        print(f"{runtime.name}: keeps no evidence trails", file=out)
        return 2
    checked, broken = 0, 0
    with runtime.store.read() as session:
        for trail in runtime.trails:
            for result in hash_chain.verify_trails(session, trail, runtime.trail_keys, chain_key):
                checked += 1
                found = result.first_break
                if found is None:  # intact
                    continue
                broken += 1
                row = f" (row {found.record_id})" if found.record_id else ""
                print(f"  {trail.model.__tablename__} {result.chain_key}: broken at record {found.sequence}{row}: "
                      f"{found.problem}: {found.detail}", file=out)
    if chain_key is not None and checked == 0:
        print(f"{runtime.name}: no evidence trail {chain_key!r}", file=out)
        return 1
    print(f"{runtime.name}: {checked} trail(s) checked, {broken} broken", file=out)
    return 1 if broken else 0
