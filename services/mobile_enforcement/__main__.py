"""python -m services.mobile_enforcement serve | worker | migrate | import-entities FILE"""

import sys

if sys.argv[1:2] == ["worker"]:
    # nameko needs a patched standard library, before anything else is imported. Threads stay
    # unpatched: handlers run the store through eventlet.tpool's real threads, and SQLAlchemy's
    # pool locks must be real locks there (green ones deadlock across threads, as measured).
    import eventlet

    eventlet.monkey_patch(thread=False)

if sys.argv[1:2] == ["import-entities"]:
    from services.mobile_enforcement.entity_import_command import main as import_entities

    raise SystemExit(import_entities(sys.argv[2:]))

from services.common.runner import main
from services.mobile_enforcement.service import build

main("mobile_enforcement", build)
