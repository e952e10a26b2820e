"""`make release-manifests`: an overlay rendered for a release, every image pinned to its digest.

    .venv/bin/python tools/release_manifests.py --overlay prod --digests digests.txt
    .venv/bin/python tools/release_manifests.py --overlay prod          # asks the registry

A tag can be pushed again; a digest names one image for ever, so what was tested is what runs. Every
image reference of the render (containers, init containers, and an operator's image fields such as
CloudNativePG's imageName) becomes `<repository>@sha256:<digest>`. Digests come from the file given
with --digests (lines `<image> <sha256:...>` or `<image>@sha256:...`; CI writes it from its own
push, and it works without registry access), else from the registry through the first of crane,
skopeo and `docker buildx imagetools` found on PATH. The manifest is written only when no image is
left pinned by tag alone; otherwise the tool names the images it could not resolve and exits 1.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OVERLAYS = ROOT / "deploy" / "k8s" / "overlays"
KUBECTL = ROOT / ".venv" / "bin" / "kubectl"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
# Fields that hold an image reference: a container's image, an operator's (CloudNativePG's Cluster).
IMAGE_FIELDS = ("image", "imageName")

Resolver = Callable[[str], "str | None"]
Run = Callable[..., subprocess.CompletedProcess]


class ReleaseError(Exception):
    """The release manifest cannot be written (an image without digest, a bad digest file)."""


def image_fields(node: object) -> Iterator[tuple[dict, str]]:
    """(the mapping, its key) of every image reference in a document, at any depth."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in IMAGE_FIELDS and isinstance(value, str):
                yield node, key
            else:
                yield from image_fields(value)
    elif isinstance(node, list):
        for item in node:
            yield from image_fields(item)


def repository_of(image: str) -> str:
    """The image's repository, without tag or digest."""
    rest = image.partition("@")[0]
    slash, colon = rest.rfind("/"), rest.rfind(":")
    return rest[:colon] if colon > slash else rest


def is_pinned(image: str) -> bool:
    """Whether the reference names a digest."""
    return "@" in image and bool(DIGEST.match(image.partition("@")[2]))


def read_digests(path: Path) -> dict[str, str]:
    """image -> digest from a file of `<image> <digest>` or `<image>@<digest>` lines ('#' comments)."""
    digests = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        image, _, digest = line.partition("@") if "@" in line and " " not in line else line.partition(" ")
        image, digest = image.strip(), digest.strip()
        if not image or not DIGEST.match(digest):
            raise ReleaseError(f"{path}:{number}: expected '<image> sha256:<64 hex>', got {line!r}")
        digests[image] = digest
    return digests


def file_resolver(digests: dict[str, str]) -> Resolver:
    """Looks an image up in a digest file: its exact reference, else its repository (a line without
    tag, as `<repository>@sha256:...` from a push, pins every tag of it)."""
    return lambda image: digests.get(image) or digests.get(repository_of(image))


def registry_resolver(run: Run = subprocess.run, which: Callable[[str], str | None] = shutil.which) -> Resolver:
    """Asks the registry through crane, skopeo or docker buildx, whichever is installed first."""
    def crane(image: str) -> str:
        return run(["crane", "digest", image], capture_output=True, text=True, check=True).stdout.strip()

    def skopeo(image: str) -> str:
        return run(["skopeo", "inspect", "--format", "{{.Digest}}", f"docker://{image}"],
                   capture_output=True, text=True, check=True).stdout.strip()

    def buildx(image: str) -> str:
        out = run(["docker", "buildx", "imagetools", "inspect", image, "--format", "{{json .Manifest}}"],
                  capture_output=True, text=True, check=True).stdout
        return json.loads(out)["digest"]

    tools = [(name, ask) for name, ask in (("crane", crane), ("skopeo", skopeo), ("docker", buildx)) if which(name)]

    def resolve(image: str) -> str | None:
        for name, ask in tools:
            try:
                digest = ask(image)
            except (subprocess.CalledProcessError, json.JSONDecodeError, KeyError) as exc:
                print(f"release-manifests: {name} could not resolve {image}: {exc}", file=sys.stderr)
                continue
            if DIGEST.match(digest):
                return digest
        return None

    return resolve


def pin(docs: list[dict], resolvers: list[Resolver]) -> list[dict]:
    """The documents with every image replaced by `<repository>@<digest>`; raises ReleaseError naming
    every image that no resolver knows."""
    unresolved, cache = set(), {}
    for doc in docs:
        for holder, key in image_fields(doc):
            image = holder[key]
            if is_pinned(image):
                holder[key] = f"{repository_of(image)}@{image.partition('@')[2]}"
                continue
            if image not in cache:
                cache[image] = next((d for d in (resolve(image) for resolve in resolvers) if d), None)
            if cache[image] is None:
                unresolved.add(image)
            else:
                holder[key] = f"{repository_of(image)}@{cache[image]}"
    if unresolved:
        raise ReleaseError("no digest for " + ", ".join(sorted(unresolved)) + ": pass them in --digests, or "
                           "run where crane, skopeo or docker buildx reaches the registry")
    left = [holder[key] for doc in docs for holder, key in image_fields(doc) if not is_pinned(holder[key])]
    if left:  # a safeguard: pin() must never hand back a tag
        raise ReleaseError("still pinned by tag: " + ", ".join(left))
    return docs


def render(overlay: Path) -> list[dict]:
    """`kubectl kustomize` of the overlay."""
    kubectl = str(KUBECTL) if KUBECTL.exists() else (shutil.which("kubectl") or "kubectl")
    result = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ReleaseError(f"kubectl kustomize {overlay}: {result.stderr.strip()}")
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def release(overlay: Path, output: Path, resolvers: list[Resolver]) -> list[str]:
    """Renders, pins and writes the overlay; the images written."""
    docs = pin(render(overlay), resolvers)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True, width=200), encoding="utf-8")
    return sorted({holder[key] for doc in docs for holder, key in image_fields(doc)})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/release_manifests.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--overlay", default="prod", help="an overlay under deploy/k8s/overlays (default prod)")
    parser.add_argument("--digests", type=Path, help="a file of '<image> sha256:...' lines (no registry asked)")
    parser.add_argument("--output", type=Path, help="default build/release/<overlay>.yaml")
    args = parser.parse_args(argv)
    output = args.output or ROOT / "build" / "release" / f"{args.overlay}.yaml"
    try:
        resolvers = [file_resolver(read_digests(args.digests))] if args.digests else [registry_resolver()]
        written = release(OVERLAYS / args.overlay, output, resolvers)
    except ReleaseError as exc:
        # A manifest of an earlier run must not pass for this release's.
        output.unlink(missing_ok=True)
        print(f"release-manifests: {exc}; nothing written", file=sys.stderr)
        return 1
    print(f"release-manifests: wrote {output}")
    for image in written:
        print(f"  {image}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
