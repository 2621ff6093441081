"""Atomic writes into the DICOM spool folder (``settings.inbox_dir``).

A received object is first written to a hidden temporary file in the *same* folder, flushed and ``fsync``-ed,
then renamed onto its final name and the folder entry ``fsync``-ed. A rename within one file system is atomic,
so a reader (the importer) sees either no file or the whole file, never a half-written one, even when the
process is killed or the machine loses power mid-write. Temporary files start with ``.`` and end with
``.part``; the importer skips them and :func:`remove_stale_parts` clears what a crash left behind.

Spool names are ``<SOP Instance UID>.dcm``: a duplicate send of the same instance replaces the waiting copy
atomically instead of piling up, and the importer de-duplicates against the case store.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

PART_PREFIX = "."
PART_SUFFIX = ".part"
SPOOL_SUFFIX = ".dcm"
_UID_RE = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def spool_name(sop_instance_uid: str) -> str:
    """File name for an instance, ``<uid>.dcm``; refuses anything but a dotted-digits UID (path safety)."""
    uid = str(sop_instance_uid).strip().rstrip("\x00")
    if not uid or len(uid) > 64 or not _UID_RE.match(uid):
        raise ValueError(f"not a valid SOP Instance UID for a spool name, got {sop_instance_uid!r}")
    return uid + SPOOL_SUFFIX


def _fsync_dir(directory: Path) -> None:
    # The rename is only durable once the directory entry itself reaches the disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. platforms that cannot open directories; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(directory: str | Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``directory/name`` atomically (temp file + fsync + rename + directory fsync).

    Creates ``directory`` if needed. Raises ``OSError`` (e.g. read-only or full disk) with no file left
    behind, or ``ValueError`` for a ``name`` that is not a plain file name. Returns the final path.
    """
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"spool file name must be a plain, non-hidden file name, got {name!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / name
    part = directory / f"{PART_PREFIX}{name}.{uuid.uuid4().hex}{PART_SUFFIX}"
    try:
        with open(part, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(part, final)
    except BaseException:
        # Never leave a partial file, whatever interrupted us (disk full, KeyboardInterrupt, ...).
        try:
            part.unlink()
        except OSError:
            pass
        raise
    _fsync_dir(directory)
    return final


def is_spool_file(path: Path) -> bool:
    """True for a complete spooled object (not a temporary ``.part`` file, not a hidden file)."""
    return path.is_file() and not path.name.startswith(PART_PREFIX) and path.suffix == SPOOL_SUFFIX


def list_spool(directory: str | Path) -> list[Path]:
    """Complete spool files in ``directory``, oldest first (modification time, then name); [] if absent."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        try:
            if is_spool_file(path):
                found.append((path.stat().st_mtime_ns, path.name, path))
        except FileNotFoundError:  # moved away by an importer between listing and stat
            continue
    return [path for _, _, path in sorted(found)]


def remove_stale_parts(directory: str | Path, older_than_s: float = 3600.0) -> int:
    """Delete temporary ``.part`` files older than ``older_than_s`` seconds (a crash's leftovers).

    Young ones are kept because a listener may be writing them right now. Returns how many were removed.
    """
    if older_than_s < 0:
        raise ValueError(f"older_than_s must be >= 0, got {older_than_s!r}")
    directory = Path(directory)
    if not directory.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    removed = 0
    for path in directory.iterdir():
        if path.name.startswith(PART_PREFIX) and path.name.endswith(PART_SUFFIX):
            try:
                if path.stat().st_mtime <= cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
    return removed
