"""Small file utilities written once: atomic writes, SHA-256, the UTC clock and JSON-safe values.

* :func:`atomic_write_bytes` / :func:`atomic_write_text` / :func:`write_json_atomic`: a reader sees the old file
  or the new one, never half of one. The data goes to a uniquely named temporary file in the same folder
  (``mkstemp``: two writers never share it), is flushed and ``fsync``-ed, then renamed over the target; the
  folder is ``fsync``-ed too, so the rename survives a power cut.
* :func:`file_sha256` / :func:`sha256_bytes`: hex digests.
* :func:`utc_now`: naive UTC, the convention of every stored timestamp.
* :func:`json_safe`: numpy scalars -> Python numbers, NaN/inf -> ``None``, tuples -> lists, datetimes -> ISO text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some file systems do not open folders; the rename itself is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring); creates the folder; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """:func:`atomic_write_bytes` for text."""
    return atomic_write_bytes(path, text.encode(encoding))


def write_json_atomic(path: str | Path, data: Any) -> Path:
    """``data`` as indented JSON (made :func:`json_safe` first; other objects as their text), written atomically."""
    return atomic_write_text(path, json.dumps(json_safe(data), indent=2, default=str) + "\n")


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def utc_now() -> dt.datetime:
    """The current time as a naive UTC ``datetime`` (how every timestamp is stored)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def json_safe(value: Any) -> Any:
    """A copy of ``value`` that ``json.dumps`` accepts and that reads back the same: dict keys as text, tuples and
    sets as lists, numpy scalars and arrays as Python numbers / lists, NaN and infinities as ``None``, datetimes
    and dates as ISO text, paths as text."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):  # numpy scalars and arrays
        return json_safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
