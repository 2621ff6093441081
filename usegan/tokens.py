"""Signed browser tokens (session and trusted-device cookies) with itsdangerous, keyed by a per-install secret.

The secret is 32 random bytes in ``<data dir>/secret.key`` (mode 0600), created on first use; deleting it signs
every browser out. A token only carries a random id (a session id, a device id): what it means is decided by the
store (``sessions`` table), so signing out, disabling a user or an idle timeout revoke it at once.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SECRET_NAME = "secret.key"


def load_secret(data_dir: str | Path) -> bytes:
    """The install's signing secret, created (0600, atomically) if missing."""
    path = Path(data_dir) / SECRET_NAME
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{SECRET_NAME}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(32))
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(tmp, path)  # first writer wins; a concurrent one reads the winner's key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes()


class TokenSigner:
    """``sign(kind, value) -> str`` and ``unsign(kind, token, max_age_s) -> value | None`` for one secret."""

    def __init__(self, secret: bytes) -> None:
        self._serializer = URLSafeTimedSerializer(secret)

    def sign(self, kind: str, value: str) -> str:
        return self._serializer.dumps(value, salt=f"usegan.{kind}")

    def unsign(self, kind: str, token: str | None, max_age_s: float) -> str | None:
        """The signed value, or ``None`` when the token is missing, forged, of another kind or too old."""
        if not token or len(token) > 512:
            return None
        try:
            value = self._serializer.loads(token, salt=f"usegan.{kind}", max_age=max_age_s)  # type: ignore[arg-type]
        except (BadSignature, SignatureExpired):
            return None
        return value if isinstance(value, str) else None
