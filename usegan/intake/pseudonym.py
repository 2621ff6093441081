"""Keyed pseudonyms: one patient, one ``P-...`` id on every way into the archive.

A Patient ID becomes ``P-`` + the first 10 hex digits of HMAC-SHA256 keyed with a random per-installation secret
(``<data_dir>/pseudonym.key``, made on first use, backed up and restored with the database), so all images of a
patient share a pseudonym but the id cannot be reversed or guessed without the key. Every intake path (upload,
DICOM upload, DICOM network, folder import, samples) calls :func:`pseudonym`; the raw id is kept only when
``settings.store_patient_ids`` is on.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

KEY_FILE = "pseudonym.key"
_PSEUDONYM_RE = re.compile(r"^P-[0-9a-f]{10}$")


def pseudonym(patient_id: str | None, key: bytes) -> str | None:
    """``P-`` + 10 hex digits of HMAC-SHA256(key, patient_id); ``None`` for an empty id (the store makes one).

    An id that already is a pseudonym (``P-`` + 10 lowercase hex digits) is returned unchanged, so re-entering a
    pseudonym shown on the worklist finds the same patient."""
    value = str(patient_id or "").strip()
    if not value:
        return None
    if is_pseudonym(value):
        return value
    return "P-" + hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:10]


def is_pseudonym(value: str) -> bool:
    return bool(_PSEUDONYM_RE.match(str(value)))


def pseudonym_key(data_dir: str | Path) -> bytes:
    """The installation's pseudonym secret, created (32 random bytes, mode 0600) on first use."""
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(32))
                handle.flush()
                os.fsync(handle.fileno())
    key = path.read_bytes()
    if len(key) < 16:
        raise ValueError(f"pseudonym key {path} is too short ({len(key)} bytes); restore it from a backup")
    return key
