"""Attachments as files under ATTACHMENT_DIR: <dir>/<office_id>/<sha256>, with the content type in a
sidecar <sha256>.type. Written to a temporary file in the same folder, flushed to disk and renamed
into place, so that a reader (or a crash) never sees half a file; the type is written first, so a
file that exists always has its type."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from services.gateway.attachments import StoreUnavailable
from services.gateway.attachments.keys import attachment_key


class DirectoryStore:
    """The attachment store as a directory of the local (or a mounted) file system."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def _path(self, office_id: str, sha256: str) -> Path:
        return self.root / attachment_key(office_id, sha256)

    def exists(self, office_id: str, sha256: str) -> bool:
        """Whether the file is stored."""
        return self._path(office_id, sha256).is_file()

    def put(self, office_id: str, sha256: str, content: bytes, content_type: str) -> bool:
        """Stores the file unless it is stored already; True when this call wrote it."""
        path = self._path(office_id, sha256)
        if path.is_file():
            return False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path.with_name(path.name + ".type"), content_type.encode())
            _write_atomically(path, content)
            _sync_directory(path.parent)
        except OSError as error:  # a full disk, a read-only or lost mount
            raise StoreUnavailable(error) from error
        return True

    def get(self, office_id: str, sha256: str) -> tuple[bytes, str] | None:
        """The file and its content type, or None when it is not stored."""
        path = self._path(office_id, sha256)
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StoreUnavailable(error) from error
        kind = path.with_name(path.name + ".type")
        return content, kind.read_text().strip() if kind.is_file() else "application/octet-stream"


def _write_atomically(path: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _sync_directory(folder: Path) -> None:
    """The renames themselves reach the disk (a crash right after does not lose the new name)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
