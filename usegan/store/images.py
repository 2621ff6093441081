"""Content-addressed image files under ``settings.images_dir``.

Every file is named by the sha256 of its bytes (``images/ab/abcdef...``), written to a temporary file in the same
folder, fsynced and then hard-linked into place, so a file either exists whole or not at all and an existing file
is never overwritten (a second ``put`` of the same bytes is a no-op). The database only holds the sha256.
Arrays are stored as PNG (lossless; gray ``(H, W)`` or RGB ``(H, W, 3)`` uint8).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from usegan.store.errors import ImageStoreError, StoreFullError
from usegan.store.files import disk_full_message, is_disk_full

_HEX = set("0123456789abcdef")


def sha256_bytes(data: bytes) -> str:
    """Lower-case hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def encode_png(array: np.ndarray) -> bytes:
    """``(H, W)`` or ``(H, W, 3|4)`` uint8 -> PNG bytes (deterministic for equal arrays)."""
    arr = np.asarray(array)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(f"expected a uint8 (H, W) or (H, W, 3|4) image, got {arr.dtype} {arr.shape}")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


@dataclass(frozen=True)
class ImageProblem:
    sha256: str  # the referenced name
    problem: str  # "missing" or "corrupt (hashes to ...)"


class ImageStore:
    """Immutable, content-addressed files in ``root`` (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha: str) -> Path:
        """Where the file named ``sha`` lives (whether or not it exists)."""
        if len(sha) != 64 or not set(sha) <= _HEX:
            raise ValueError(f"not a lower-case sha256 hex digest: {sha!r}")
        return self.root / sha[:2] / sha

    def exists(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def put(self, data: bytes | np.ndarray) -> str:
        """Store raw bytes, or an image array as PNG; return the sha256 name. Never overwrites a good file."""
        payload = encode_png(data) if isinstance(data, np.ndarray) else bytes(data)
        sha = sha256_bytes(payload)
        final = self.path(sha)
        if final.is_file() and sha256_bytes(final.read_bytes()) == sha:
            return sha
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
        except OSError as exc:
            if is_disk_full(exc):
                raise StoreFullError(disk_full_message(self.root)) from exc
            raise
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            if final.exists():
                # A corrupt file with this name is repaired: the right bytes are by definition the same content.
                os.replace(tmp_name, final)
            else:
                try:
                    os.link(tmp_name, final)  # fails rather than overwrite if another writer got there first
                except FileExistsError:
                    pass
                os.unlink(tmp_name)
        except BaseException as exc:
            Path(tmp_name).unlink(missing_ok=True)
            if isinstance(exc, OSError) and is_disk_full(exc):
                raise StoreFullError(disk_full_message(self.root)) from exc
            raise
        _fsync_dir(final.parent)
        return sha

    def read_bytes(self, sha: str, verify: bool = True) -> bytes:
        """The bytes named ``sha``; :class:`ImageStoreError` if missing or (with ``verify``) corrupt."""
        path = self.path(sha)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ImageStoreError(f"image {sha} is missing from {self.root} (run `usegan store check`)") from None
        if verify and sha256_bytes(data) != sha:
            raise ImageStoreError(f"image {path} is corrupt: its content does not hash to its name")
        return data

    def get(self, sha: str) -> np.ndarray:
        """Decode an image file to an array: ``(H, W)`` gray or ``(H, W, 3)`` RGB uint8."""
        image = Image.open(io.BytesIO(self.read_bytes(sha)))
        return np.asarray(image.convert("L" if image.mode in ("L", "1", "I;16") else "RGB"))

    def check(self, shas: Iterable[str]) -> list[ImageProblem]:
        """Hash every referenced file; report the missing and corrupt ones (empty list = all good)."""
        problems = []
        for sha in sorted(set(shas)):
            path = self.path(sha)
            if not path.is_file():
                problems.append(ImageProblem(sha, "missing"))
                continue
            actual = _hash_file(path)
            if actual != sha:
                problems.append(ImageProblem(sha, f"corrupt (hashes to {actual[:12]}...)"))
        return problems

    def all_names(self) -> list[str]:
        """Every sha256-named file present under the root (temporary files excluded)."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.glob("??/*") if len(p.name) == 64 and not p.name.startswith("."))


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    # The rename/link is only durable once the directory entry is on disk.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
