"""`make release-manifests` (tools/release_manifests.py): every image of a rendered overlay replaced
by its digest, from a digest file or a registry tool, and nothing written while an image is left
pinned by tag. No registry is reachable here: the registry tools are faked at the subprocess
boundary only (their command lines and outputs), the rest runs for real, the prod overlay included."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("release_manifests", ROOT / "tools" / "release_manifests.py")
release_manifests = importlib.util.module_from_spec(spec)
sys.modules.setdefault("release_manifests", release_manifests)
spec.loader.exec_module(release_manifests)

OURS = "registry.example.gov.cn/supervision/supervision-cloud"
DIGEST = "sha256:" + "1f" * 32
OTHER = "sha256:" + "2e" * 32


def pod(*images: str) -> dict:
    return {"kind": "Deployment", "metadata": {"name": "a"}, "spec": {"template": {"spec": {
        "initContainers": [{"name": "wait", "image": images[0]}],
        "containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]}}}}


def all_images(docs: list[dict]) -> list[str]:
    return [holder[key] for d in docs for holder, key in release_manifests.image_fields(d)]


def test_every_image_field_is_pinned_from_the_digest_file(tmp_path):
    digests = tmp_path / "digests.txt"
    digests.write_text(f"# pushed by CI\n{OURS}:0.1.0 {DIGEST}\nghcr.io/cloudnative-pg/postgresql@{OTHER}\n")
    cluster = {"kind": "Cluster", "metadata": {"name": "pg"},
               "spec": {"imageName": "ghcr.io/cloudnative-pg/postgresql:16.4"}}
    docs = release_manifests.pin([pod(f"{OURS}:0.1.0"), cluster],
                                 [release_manifests.file_resolver(release_manifests.read_digests(digests))])
    assert all_images(docs) == [f"{OURS}@{DIGEST}"] * 2 + [f"ghcr.io/cloudnative-pg/postgresql@{OTHER}"]


def test_an_image_without_digest_is_refused_naming_it():
    resolver = release_manifests.file_resolver({f"{OURS}:0.1.0": DIGEST})
    with pytest.raises(release_manifests.ReleaseError, match=r"no digest for rabbitmq:4\.1-management"):
        release_manifests.pin([pod(f"{OURS}:0.1.0", "rabbitmq:4.1-management")], [resolver])


def test_an_image_pinned_already_keeps_its_digest_and_loses_its_tag():
    docs = release_manifests.pin([pod(f"{OURS}:0.1.0@{DIGEST}")], [lambda image: None])
    assert all_images(docs) == [f"{OURS}@{DIGEST}"] * 2


@pytest.mark.parametrize("line", [f"{OURS}:0.1.0 sha256:abc", f"{OURS}:0.1.0", f"{OURS}:0.1.0 md5:{'a' * 64}"])
def test_a_malformed_digest_file_is_refused(tmp_path, line):
    digests = tmp_path / "digests.txt"
    digests.write_text(line + "\n")
    with pytest.raises(release_manifests.ReleaseError, match=r"digests\.txt:1"):
        release_manifests.read_digests(digests)


class FakeRegistryTools:
    """Stands in for crane / skopeo / docker at the subprocess boundary: records the command lines
    and answers as the tools print (crane and skopeo the digest, buildx the manifest's JSON)."""

    def __init__(self, installed: set[str], answers: dict[str, str]):
        self.installed, self.answers, self.calls = installed, answers, []

    def which(self, name: str) -> str | None:
        return f"/usr/bin/{name}" if name in self.installed else None

    def run(self, command: list[str], **kwargs) -> subprocess.CompletedProcess:
        self.calls.append(command)
        image = next(arg.removeprefix("docker://") for arg in command if ":" in arg and "{" not in arg)
        if image not in self.answers:
            raise subprocess.CalledProcessError(1, command, "", "MANIFEST_UNKNOWN")
        digest = self.answers[image]
        out = json.dumps({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest}) \
            if command[0] == "docker" else digest + "\n"
        return subprocess.CompletedProcess(command, 0, out, "")


@pytest.mark.parametrize(("tool", "command"), [
    ("crane", ["crane", "digest", f"{OURS}:0.1.0"]),
    ("skopeo", ["skopeo", "inspect", "--format", "{{.Digest}}", f"docker://{OURS}:0.1.0"]),
    ("docker", ["docker", "buildx", "imagetools", "inspect", f"{OURS}:0.1.0", "--format", "{{json .Manifest}}"]),
])
def test_the_registry_is_asked_through_the_first_tool_installed(tool, command):
    fake = FakeRegistryTools({tool}, {f"{OURS}:0.1.0": DIGEST})
    resolve = release_manifests.registry_resolver(run=fake.run, which=fake.which)
    assert resolve(f"{OURS}:0.1.0") == DIGEST
    assert fake.calls == [command]


def test_no_registry_tool_resolves_nothing():
    fake = FakeRegistryTools(set(), {f"{OURS}:0.1.0": DIGEST})
    assert release_manifests.registry_resolver(run=fake.run, which=fake.which)(f"{OURS}:0.1.0") is None
    assert fake.calls == []


def test_a_tool_that_fails_passes_to_the_next():
    fake = FakeRegistryTools({"crane", "skopeo"}, {f"{OURS}:0.1.0": DIGEST})
    fake.answers = {}
    resolve = release_manifests.registry_resolver(run=fake.run, which=fake.which)
    assert resolve(f"{OURS}:0.1.0") is None and [c[0] for c in fake.calls] == ["crane", "skopeo"]


def test_the_prod_overlay_is_released_with_digests_only(tmp_path):
    digests = tmp_path / "digests.txt"
    digests.write_text(f"{OURS}:0.1.0 {DIGEST}\n")
    output = tmp_path / "prod.yaml"
    assert release_manifests.main(["--overlay", "prod", "--digests", str(digests), "--output", str(output)]) == 0
    docs = [d for d in yaml.safe_load_all(output.read_text()) if d]
    images = all_images(docs)
    assert images and set(images) == {f"{OURS}@{DIGEST}"}
    assert len([d for d in docs if d["kind"] == "Deployment"]) == 14


def test_the_prod_overlay_is_not_written_without_a_digest_and_a_stale_one_is_removed(tmp_path, capsys):
    digests = tmp_path / "digests.txt"
    digests.write_text(f"{OURS}:0.0.9 {DIGEST}\n")  # an older release's
    output = tmp_path / "prod.yaml"
    output.write_text("an earlier release\n")
    assert release_manifests.main(["--overlay", "prod", "--digests", str(digests), "--output", str(output)]) == 1
    assert not output.exists()
    assert f"no digest for {OURS}:0.1.0" in capsys.readouterr().err
