"""Users and roles, argon2id password hashes, lockout after repeated failures, and the first-start admin.

Roles: ``admin`` (users, models, everything), ``clinician`` (review, sign, amend, report), ``researcher``
(export, training) and ``viewer`` (read-only, for teaching). There is no default password anywhere: on first
start with no users, :meth:`UsersMixin.ensure_first_admin` creates ``admin`` with a random password and returns
it so the caller prints it once. Failed sign-ins are counted; after ``MAX_FAILED_LOGINS`` in a row the account is
locked for ``LOCKOUT`` (an admin can lift it at once by setting a new password).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from usegan.store.errors import AuthError, NotFoundError
from usegan.store.rows import columns, record
from usegan.vocab import Role, values

ROLES = values(Role)
MAX_FAILED_LOGINS = 5  # consecutive failures before the account locks
LOCKOUT = dt.timedelta(minutes=15)  # how long a locked account stays locked
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")

# argon2-cffi's defaults (argon2id, 64 MiB, t=3) are its maintainers' recommendation; tests may swap in a
# cheaper hasher by monkeypatching this name.
HASHER = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH: list[str] = []


@dataclass(frozen=True)
class User:
    username: str
    role: str  # admin / clinician / researcher / viewer
    disabled: bool
    failed_attempts: int
    locked_until: dt.datetime | None
    created_at: dt.datetime
    last_login_at: dt.datetime | None


_COLUMNS = columns(User)
_SELECT = ", ".join(_COLUMNS)


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


class UsersMixin:
    def add_user(self, username: str, password: str, role: str, *, created_by: str) -> User:
        """Create a user; ``role`` is one of :data:`ROLES`. Raises ``ValueError`` if the name is taken."""
        if not isinstance(username, str) or not _USERNAME.match(username):
            raise ValueError(f"user name must be 2-64 letters, digits or _.@-, got {username!r}")
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        _check_password(password)
        password_hash = HASHER.hash(password)
        now = self.clock()
        with self.transaction() as cur:
            if cur.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
                raise ValueError(f"user {username!r} already exists")
            cur.execute(
                "INSERT INTO users (username, password_hash, role, created_at) VALUES (?, ?, ?, ?)",
                [username, password_hash, role, now],
            )
            self.audit(created_by, "user.add", "user", username, None, {"role": role})
        return self.get_user(username)

    def get_user(self, username: str) -> User:
        row = self._cursor().execute(f"SELECT {_SELECT} FROM users WHERE username = ?", [username]).fetchone()
        if row is None:
            raise NotFoundError(f"no user {username!r}")
        return record(User, _COLUMNS, row)

    def list_users(self) -> list[User]:
        rows = self._cursor().execute(f"SELECT {_SELECT} FROM users ORDER BY username").fetchall()
        return [record(User, _COLUMNS, row) for row in rows]

    def set_password(self, username: str, password: str, *, changed_by: str) -> None:
        """Set a new password; also clears failed attempts and any lockout."""
        _check_password(password)
        password_hash = HASHER.hash(password)
        with self.transaction() as cur:
            self._user_row(cur, username)
            cur.execute(
                "UPDATE users SET password_hash = ?, failed_attempts = 0, locked_until = NULL WHERE username = ?",
                [password_hash, username],
            )
            self.audit(changed_by, "user.passwd", "user", username, None, {"password": "changed"})

    def set_disabled(self, username: str, disabled: bool = True, *, changed_by: str) -> None:
        """Disable (or re-enable) an account; a disabled user cannot sign in, sign or amend."""
        with self.transaction() as cur:
            before = self._user_row(cur, username)
            cur.execute("UPDATE users SET disabled = ? WHERE username = ?", [bool(disabled), username])
            self.audit(
                changed_by,
                "user.disable" if disabled else "user.enable",
                "user",
                username,
                {"disabled": before[2]},
                {"disabled": bool(disabled)},
            )

    def _user_row(self, cur, username: str) -> tuple:
        row = cur.execute(
            "SELECT username, role, disabled, failed_attempts, locked_until, password_hash FROM users "
            "WHERE username = ?",
            [username],
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no user {username!r}")
        return row

    def authenticate(self, username: str, password: str) -> User:
        """Check a sign-in; return the user, or raise :class:`AuthError` (wrong credentials, disabled, locked)."""
        now = self.clock()
        with self.transaction() as cur:
            row = cur.execute(
                "SELECT role, disabled, failed_attempts, locked_until, password_hash FROM users WHERE username = ?",
                [username],
            ).fetchone()
        if row is None:
            if not _DUMMY_HASH:
                _DUMMY_HASH.append(HASHER.hash(secrets.token_hex(16)))
            _verify(_DUMMY_HASH[0], password)
            raise AuthError("wrong user name or password")
        _, disabled, failed, locked_until, password_hash = row
        if disabled:
            raise AuthError(f"the account {username!r} is disabled: ask an administrator")
        if locked_until is not None and locked_until > now:
            raise AuthError(
                f"the account {username!r} is locked after {MAX_FAILED_LOGINS} failed sign-ins until "
                f"{locked_until:%Y-%m-%d %H:%M} UTC (an administrator can reset it with `usegan user passwd`)"
            )
        if not _verify(password_hash, password):
            failed = (0 if locked_until is not None else failed) + 1  # an expired lockout starts a fresh count
            lock = now + LOCKOUT if failed >= MAX_FAILED_LOGINS else None
            with self.transaction() as cur:
                cur.execute(
                    "UPDATE users SET failed_attempts = ?, locked_until = ? WHERE username = ?",
                    [failed, lock, username],
                )
                self.audit(
                    username,
                    "user.locked" if lock else "user.login_failed",
                    "user",
                    username,
                    None,
                    {"failed_attempts": failed, "locked_until": lock},
                )
            raise AuthError(
                "wrong user name or password"
                + (f"; the account is now locked for {int(LOCKOUT.total_seconds() // 60)} minutes" if lock else "")
            )
        with self.transaction() as cur:
            cur.execute(
                "UPDATE users SET failed_attempts = 0, locked_until = NULL, last_login_at = ? WHERE username = ?",
                [now, username],
            )
            if HASHER.check_needs_rehash(password_hash):
                cur.execute("UPDATE users SET password_hash = ? WHERE username = ?", [HASHER.hash(password), username])
            self.audit(username, "user.login", "user", username)
        return self.get_user(username)

    def require_role(self, username: str, roles: tuple[str, ...]) -> User:
        """The enabled user ``username`` if their role is in ``roles``; else :class:`AuthError`."""
        try:
            user = self.get_user(username)
        except NotFoundError:
            raise AuthError(f"unknown user {username!r}: only {', '.join(roles)} users may do this") from None
        if user.disabled:
            raise AuthError(f"the account {username!r} is disabled")
        if user.role not in roles:
            raise AuthError(f"user {username!r} is a {user.role}; only {', '.join(roles)} users may do this")
        return user

    def ensure_first_admin(self) -> str | None:
        """If there are no users, create ``admin`` with a random password and return it (print it once);
        otherwise return ``None``."""
        with self._write_lock:
            if self._cursor().execute("SELECT count(*) FROM users").fetchone()[0]:
                return None
            password = secrets.token_urlsafe(12)
            self.add_user("admin", password, Role.ADMIN, created_by="system")
            return password


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
