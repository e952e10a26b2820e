"""python -m services.command_center serve | worker | migrate | dead-letters"""

import sys

if sys.argv[1:2] == ["worker"]:
    # nameko needs a patched standard library, before anything else is imported. Threads stay
    # unpatched: handlers run the store through eventlet.tpool's real threads, and SQLAlchemy's
    # pool locks must be real locks there (green ones deadlock across threads, as measured).
    import eventlet

    eventlet.monkey_patch(thread=False)

from services.command_center.service import build
from services.common.runner import main

main("command_center", build)
