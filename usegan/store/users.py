"""Users and roles, argon2id password hashes, the password policy and the first-start admin.

Roles: ``admin`` (users, models, everything), ``clinician`` (review, sign, amend, report), ``researcher``
(export, training) and ``viewer`` (read-only, for teaching). There is no default password anywhere: on first
start with no users, :meth:`UsersMixin.ensure_first_admin` creates ``admin`` with a random password and returns
it so the caller prints it once. Sign-in, throttling and sessions live in :mod:`.auth`; a user's
``failed_attempts`` / ``locked_until`` are read from the account's throttle entry there.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from usegan.store.errors import AuthError, NotFoundError
from usegan.store.passwords import MIN_PASSWORD_LENGTH, check_password  # noqa: F401  (re-exported)
from usegan.store.rows import columns, record
from usegan.vocab import Role, values

ROLES = values(Role)
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
    failed_attempts: int  # recent failed sign-ins on the account name (from the throttle table)
    locked_until: dt.datetime | None  # sign-in backs off until then (from the throttle table)
    created_at: dt.datetime
    last_login_at: dt.datetime | None


_COLUMNS = columns(User)
# failed_attempts / locked_until come from the account's throttle entry (usegan.store.auth), by the same names.
_SELECT = (
    "SELECT u.username, u.role, u.disabled, coalesce(t.failures, 0) AS failed_attempts, "
    "t.blocked_until AS locked_until, u.created_at, u.last_login_at "
    "FROM users u LEFT JOIN login_throttle t ON t.scope = 'account' AND t.key = u.username"
)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")


class UsersMixin:
    def add_user(
        self, username: str, password: str | None, role: str, *, created_by: str, password_hash: str | None = None
    ) -> User:
        """Create a user; ``role`` is one of :data:`ROLES`. Raises ``ValueError`` if the name is taken.

        ``password_hash`` instead of ``password``: an argon2 hash made (after :func:`check_password`) by the CLI,
        which hands commands to the running app without sending the password in clear."""
        if not isinstance(username, str) or not _USERNAME.match(username):
            raise ValueError(f"user name must be 2-64 letters, digits or _.@-, got {str(username)[:80]!r}")
        _check_role(role)
        password_hash = _new_hash(password, username, password_hash)
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
        row = self._cursor().execute(f"{_SELECT} WHERE u.username = ?", [username]).fetchone()
        if row is None:
            raise NotFoundError(f"no user {username!r}")
        return record(User, _COLUMNS, row)

    def list_users(self) -> list[User]:
        rows = self._cursor().execute(f"{_SELECT} ORDER BY u.username").fetchall()
        return [record(User, _COLUMNS, row) for row in rows]

    def set_password(
        self, username: str, password: str | None, *, changed_by: str, password_hash: str | None = None
    ) -> None:
        """Set a new password (or a ready ``password_hash``, see :meth:`add_user`); lifts any back-off on the
        account and ends its sessions (sign in again)."""
        password_hash = _new_hash(password, username, password_hash)
        with self.transaction() as cur:
            self._user_row(cur, username)
            cur.execute("UPDATE users SET password_hash = ? WHERE username = ?", [password_hash, username])
            cur.execute("DELETE FROM login_throttle WHERE scope = 'account' AND key = ?", [username])
            self.audit(changed_by, "user.passwd", "user", username, None, {"password": "changed"})
        self.end_user_sessions(username, by=changed_by, reason="password changed")

    def change_own_password(self, username: str, current: str, new: str) -> None:
        """A signed-in user's own change: the current password must be right (ASVS 2.1.6)."""
        row = self._cursor().execute("SELECT password_hash FROM users WHERE username = ?", [username]).fetchone()
        if row is None or not verify_password(row[0], current):
            raise AuthError("the current password is wrong")
        if new == current:
            raise ValueError("the new password must differ from the current one")
        self.set_password(username, new, changed_by=username)

    def set_role(self, username: str, role: str, *, changed_by: str) -> None:
        """Change a user's role; the user's sessions end so the new role applies from the next sign-in."""
        _check_role(role)
        with self.transaction() as cur:
            before = self._user_row(cur, username)
            if before[1] == "admin" and role != "admin":
                self._keep_an_admin(cur, username)
            cur.execute("UPDATE users SET role = ? WHERE username = ?", [role, username])
            self.audit(changed_by, "user.role", "user", username, {"role": before[1]}, {"role": role})
        self.end_user_sessions(username, by=changed_by, reason="role changed")

    def set_disabled(self, username: str, disabled: bool = True, *, changed_by: str) -> None:
        """Disable (or re-enable) an account; a disabled user cannot sign in, sign or amend, and is signed out."""
        with self.transaction() as cur:
            before = self._user_row(cur, username)
            if disabled and before[1] == "admin":
                self._keep_an_admin(cur, username)
            cur.execute("UPDATE users SET disabled = ? WHERE username = ?", [bool(disabled), username])
            self.audit(
                changed_by,
                "user.disable" if disabled else "user.enable",
                "user",
                username,
                {"disabled": before[2]},
                {"disabled": bool(disabled)},
            )
        if disabled:
            self.end_user_sessions(username, by=changed_by, reason="account disabled")

    def _keep_an_admin(self, cur, username: str) -> None:
        others = cur.execute(
            "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled AND username <> ?", [username]
        ).fetchone()[0]
        if not others:
            raise ValueError(f"{username!r} is the last enabled administrator: make another admin first")

    def _user_row(self, cur, username: str) -> tuple:
        row = cur.execute(
            "SELECT username, role, disabled, password_hash FROM users WHERE username = ?", [username]
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no user {username!r}")
        return row

    def _maybe_rehash(self, username: str, password_hash: str, password: str) -> None:
        if HASHER.check_needs_rehash(password_hash):
            with self.transaction() as cur:
                cur.execute("UPDATE users SET password_hash = ? WHERE username = ?", [HASHER.hash(password), username])

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


def _new_hash(password: str | None, username: str, password_hash: str | None) -> str:
    if password_hash is not None:
        if not isinstance(password_hash, str) or not password_hash.startswith("$argon2id$") or len(password_hash) > 200:
            raise ValueError("not an argon2id password hash")
        return password_hash
    check_password(password, username)  # refuses anything but acceptable text
    return HASHER.hash(cast(str, password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """argon2 check; with no hash (unknown user) it verifies against a dummy so the time taken is the same."""
    if password_hash is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(HASHER.hash(secrets.token_hex(16)))
        password_hash = _DUMMY_HASH[0]
        try:
            HASHER.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            pass
        return False
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
