"""python -m services.gateway serve | worker | migrate"""

import sys

if sys.argv[1:2] == ["worker"]:
    # nameko needs a patched standard library, before anything else is imported; threads stay
    # unpatched, as in every service's worker (see services/command_center/__main__.py).
    import eventlet

    eventlet.monkey_patch(thread=False)

from services.gateway.process import main

main()
