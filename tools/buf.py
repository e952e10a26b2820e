"""`buf lint` and `buf breaking` on protos/, offline.

buf resolves google/type and google/rpc imports from a workspace module made of the
googleapis-common-protos package's .proto files (linked under build/, never committed), so no
registry is contacted. `breaking` compares against the protos on the main branch when it has any.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import google.type.date_pb2

ROOT = Path(__file__).resolve().parent.parent
DEPS = ROOT / "build" / "proto-deps"
BUF = str(Path(sys.executable).with_name("buf"))


def link_dependencies() -> None:
    googleapis = Path(google.type.date_pb2.__file__).resolve().parent.parent
    if DEPS.exists():
        shutil.rmtree(DEPS)
    for package in ("type", "rpc"):
        target = DEPS / "google" / package
        target.mkdir(parents=True)
        for proto in (googleapis / package).glob("*.proto"):
            (target / proto.name).symlink_to(proto)


def build_main_image() -> Path:
    """main's protos built into an image beside the same googleapis module, so imports resolve."""
    workspace = ROOT / "build" / "against"
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "main", "protos"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(workspace)], input=archive.stdout, check=True)
    (workspace / "proto-deps").symlink_to(DEPS)
    (workspace / "buf.yaml").write_text("version: v2\nmodules:\n  - path: protos\n  - path: proto-deps\n")
    image = ROOT / "build" / "main.binpb"
    subprocess.run([BUF, "build", str(workspace / "protos"), "-o", str(image)], check=True)
    return image


def main(command: str) -> int:
    link_dependencies()
    if command == "lint":
        return subprocess.call([BUF, "lint", "protos"], cwd=ROOT)
    if command == "breaking":
        has_main = subprocess.run(["git", "cat-file", "-e", "main:protos"], cwd=ROOT,
                                  capture_output=True).returncode == 0
        if not has_main:
            print("buf breaking: main has no protos yet; nothing to compare")
            return 0
        against = build_main_image()
        return subprocess.call([BUF, "breaking", "protos", "--exclude-imports", "--against", str(against)], cwd=ROOT)
    print(f"usage: {sys.argv[0]} lint|breaking", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
