"""`supervision …`: the operator's command line against a running center (gRPC) and its stores."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# The gRPC stubs (package `supervision`) are generated into the checkout after `pip install -e .`
# has run (make's order), so the editable install does not map them: the installed `supervision`
# script starts outside the checkout and would not find them. They sit beside `services`.
if importlib.util.find_spec("supervision") is None:
    sys.path.append(str(Path(__file__).resolve().parents[2]))
