"""Generates the Python stubs of protos/ into ./supervision (imported as supervision.<service>.v1).

The googleapis protos (google/type, google/rpc) come from the googleapis-common-protos package
and the well-known types from grpcio-tools, so generation needs nothing from the network.
"""

from __future__ import annotations

import sys
from pathlib import Path

import google.type.date_pb2
import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    googleapis = Path(google.type.date_pb2.__file__).resolve().parent.parent.parent
    well_known = Path(grpc_tools.__file__).resolve().parent / "_proto"
    sources = sorted(str(p.relative_to(ROOT / "protos")) for p in (ROOT / "protos").rglob("*.proto"))
    args = ["protoc", f"-I{ROOT / 'protos'}", f"-I{googleapis}", f"-I{well_known}",
            f"--python_out={ROOT}", f"--pyi_out={ROOT}", f"--grpc_python_out={ROOT}", *sources]
    status = protoc.main(args)
    if status != 0:
        return status
    # Regular packages (not namespace packages), so `supervision` never merges with a stray copy.
    for directory in {(ROOT / s).parent for s in sources}:
        while directory != ROOT:
            (directory / "__init__.py").touch()
            directory = directory.parent
    (ROOT / "supervision" / ".generated").touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
