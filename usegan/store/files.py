"""File-system care for the data directory: private permissions, and recognising a full disk.

The database, images and backups hold patient data: files are 0600 and folders 0700 (owner only), whatever the
process umask. A full disk is reported as one sentence saying where and what to do, never a raw DuckDB error.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_files(*paths: Path) -> None:
    """Make files 0600 and folders 0700 (best effort: a file owned by someone else is left as it is)."""
    for path in paths:
        for p in (path, path.with_name(path.name + ".wal")):
            try:
                os.chmod(p, DIR_MODE if p.is_dir() else FILE_MODE)
            except (FileNotFoundError, PermissionError):
                pass


def private_umask() -> None:
    """New files of this process are owner-only (called once by the app and the CLI)."""
    os.umask(0o077)


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "no space left" in text or "disk quota" in text or "not enough space" in text


def disk_full_message(where: Path) -> str:
    return (
        f"the disk holding {where} is full: nothing was saved (the change was rolled back); "
        "free some space, then try again"
    )
