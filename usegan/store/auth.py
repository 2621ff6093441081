"""Sign-in with throttling that cannot be turned against users, and server-side sessions.

Throttling (OWASP ASVS 2.2.1; "device cookies" from the OWASP guide on slowing online guessing):

* Every attempt first *reserves* a failure on its keys in one transaction, under the store's single write lock,
  and only then checks the password; success gives the reservation back. So however many guesses arrive at once,
  at most ``free_failures`` passwords are checked before the key is blocked (no read-check-write race).
* Keys: the account name as typed (known or not, so the answers cannot tell which names exist) and the client
  address. A browser in which the user signed in before carries a signed trusted-device cookie; its attempts
  count on their own (account, device) key only, so an attacker guessing an account's password from elsewhere
  blocks only himself: the real user, admin included, still signs in from his usual browser.
* Past the free failures a key backs off exponentially (``backoff_s`` doubling, at most ``backoff_max_s``); a
  quiet ``reset_after_s`` forgets old failures. When a key becomes blocked an ``auth.throttled`` audit row is
  written: administrators see it in the app (Users page, sidebar warning) and can unlock at once.
* Unknown name, disabled account and wrong password give one answer (:data:`WRONG_CREDENTIALS`) after the same
  argon2 work; a blocked key gives :data:`THROTTLED`, also the same for every name.

Sessions: a random id per sign-in; the table keeps only its sha256. A session ends on sign-out (every session of
the user), an idle timeout, an absolute lifetime, a password change or when the account is disabled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from usegan.store.errors import AuthError
from usegan.store.rows import columns, record

WRONG_CREDENTIALS = "wrong user name or password"
THROTTLED = (
    "too many failed sign-ins for this name or from this computer: wait {wait} and try again, or ask an administrator"
)
MAX_USERNAME_LENGTH = 64


@dataclass(frozen=True)
class AuthPolicy:
    free_failures: int = 5  # failed sign-ins per account (or per trusted device) before back-off starts
    client_free_failures: int = 20  # failed sign-ins per client address before back-off starts
    backoff_s: int = 30  # first back-off; doubles with each further failure
    backoff_max_s: int = 900  # longest back-off
    reset_after_s: int = 3600  # failures older than this (and not blocked) are forgotten
    session_idle_s: int = 1800  # a session unused this long ends (USEGAN_SESSION_IDLE_S)
    session_max_s: int = 43_200  # a session ends this long after sign-in whatever happens (USEGAN_SESSION_MAX_S)
    device_max_age_s: int = 90 * 86_400  # how long a browser stays a trusted device for its user


class ThrottledError(AuthError):
    """Sign-in refused without checking the password: the name, client or device is backing off."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        wait = f"{int(wait_s // 60) + 1} minute(s)" if wait_s >= 60 else f"{int(wait_s) + 1} seconds"
        super().__init__(THROTTLED.format(wait=wait))


@dataclass(frozen=True)
class ThrottleEntry:
    scope: str  # account / client / device
    key: str  # the name as typed, the client address, or "name device-id"
    failures: int
    last_failure_at: dt.datetime | None
    blocked_until: dt.datetime | None


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class AuthMixin:
    auth_policy: AuthPolicy

    # -- throttling ----------------------------------------------------------------------------------------
    def _throttle_keys(self, username: str, client: str, device: str | None) -> list[tuple[str, str, int]]:
        p = self.auth_policy
        if device:
            return [("device", f"{username} {device}", p.free_failures)]
        return [("account", username, p.free_failures), ("client", client or "unknown", p.client_free_failures)]

    def _reserve_attempt(self, keys: list[tuple[str, str, int]], now: dt.datetime) -> None:
        """One transaction: refuse if any key is blocked, else count a (provisional) failure on every key."""
        p = self.auth_policy
        with self.transaction() as cur:
            rows = {}
            for scope, key, _ in keys:
                row = cur.execute(
                    "SELECT failures, last_failure_at, blocked_until FROM login_throttle WHERE scope = ? AND key = ?",
                    [scope, key],
                ).fetchone()
                rows[(scope, key)] = row
                if row is not None and row[2] is not None and row[2] > now:
                    wait = (row[2] - now).total_seconds()
                    raise ThrottledError(wait)
            for scope, key, free in keys:
                row = rows[(scope, key)]
                stale = row is None or row[1] is None or (now - row[1]).total_seconds() > p.reset_after_s
                failures = (0 if stale else row[0]) + 1
                blocked = None
                if failures >= free:
                    blocked = now + dt.timedelta(seconds=min(p.backoff_s * 2 ** (failures - free), p.backoff_max_s))
                cur.execute(
                    "INSERT INTO login_throttle (scope, key, failures, last_failure_at, blocked_until) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET failures = excluded.failures, "
                    "last_failure_at = excluded.last_failure_at, blocked_until = excluded.blocked_until",
                    [scope, key, failures, now, blocked],
                )
                if blocked is not None:
                    # The audit row is the administrator's notice (Users page and sidebar show blocked keys).
                    self.audit("system", "auth.throttled", scope, key, None,
                        {"failures": failures, "blocked_until": blocked},
                    )  # fmt: skip

    def _release_attempt(self, keys: list[tuple[str, str, int]]) -> None:
        """A successful sign-in: forget the account's (device's) failures, give the client its reservation back."""
        with self.transaction() as cur:
            for scope, key, _ in keys:
                if scope == "client":
                    cur.execute(
                        "UPDATE login_throttle SET failures = greatest(failures - 1, 0) WHERE scope = ? AND key = ?",
                        [scope, key],
                    )
                else:
                    cur.execute("DELETE FROM login_throttle WHERE scope = ? AND key = ?", [scope, key])

    def throttled(self, *, blocked_only: bool = True) -> list[ThrottleEntry]:
        """Throttle entries (newest failure first); by default only those blocked now."""
        sql = f"SELECT {', '.join(columns(ThrottleEntry))} FROM login_throttle"
        params: list = []
        if blocked_only:
            sql += " WHERE blocked_until > ?"
            params.append(self.clock())
        rows = self._cursor().execute(sql + " ORDER BY last_failure_at DESC", params).fetchall()
        return [record(ThrottleEntry, columns(ThrottleEntry), row) for row in rows]

    def unlock(self, name: str, *, by: str) -> int:
        """Lift every back-off on the account ``name`` (its trusted devices too) or on the client address
        ``name``; returns how many entries were cleared."""
        with self.transaction() as cur:
            rows = cur.execute(
                "SELECT scope, key FROM login_throttle WHERE (scope IN ('account', 'client') AND key = ?) "
                "OR (scope = 'device' AND key LIKE ? ESCAPE '\\')",
                [name, name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " %"],
            ).fetchall()
            for scope, key in rows:
                cur.execute("DELETE FROM login_throttle WHERE scope = ? AND key = ?", [scope, key])
            self.audit(by, "auth.unlock", "user", name, None, {"cleared": len(rows)})
        return len(rows)

    def forget_old_failures(self) -> int:
        """Drop throttle rows that are neither blocked nor recent (periodic housekeeping)."""
        now = self.clock()
        cutoff = now - dt.timedelta(seconds=self.auth_policy.reset_after_s)
        with self.transaction() as cur:
            n = cur.execute(
                "SELECT count(*) FROM login_throttle WHERE (blocked_until IS NULL OR blocked_until < ?) "
                "AND last_failure_at < ?",
                [now, cutoff],
            ).fetchone()[0]
            cur.execute(
                "DELETE FROM login_throttle WHERE (blocked_until IS NULL OR blocked_until < ?) AND last_failure_at < ?",
                [now, cutoff],
            )
        return int(n)

    # -- sign-in -------------------------------------------------------------------------------------------
    def authenticate(self, username: str, password: str, *, client: str = "", device: str | None = None):
        """Check a sign-in and return the :class:`~usegan.store.users.User`; else raise :class:`AuthError` with
        :data:`WRONG_CREDENTIALS` (unknown, disabled or wrong password alike) or :class:`ThrottledError`.

        ``client`` is the caller's network address; ``device`` the id from a verified trusted-device cookie *of
        this user name* (the caller checks the signature and that the cookie names ``username``)."""
        from usegan.store.users import verify_password

        if not isinstance(username, str) or not isinstance(password, str):
            raise AuthError(WRONG_CREDENTIALS)
        username = username.strip()[: MAX_USERNAME_LENGTH + 1]
        password = password[:1024]  # argon2 cost must not depend on an attacker's megabytes
        keys = self._throttle_keys(username, client, device)
        now = self.clock()
        self._reserve_attempt(keys, now)
        row = (
            self._cursor()
            .execute("SELECT disabled, password_hash FROM users WHERE username = ?", [username])
            .fetchone()
        )
        ok = verify_password(row[1] if row else None, password)  # same argon2 work for an unknown name
        if row is None or row[0] or not ok:
            with self.transaction() as cur:
                reason = "unknown" if row is None else ("disabled" if row[0] else "wrong password")
                self.audit("system", "user.login_failed", "user", username, None,
                            {"reason": reason, "client": client or None})  # fmt: skip
            raise AuthError(WRONG_CREDENTIALS)
        self._release_attempt(keys)
        with self.transaction() as cur:
            cur.execute("UPDATE users SET last_login_at = ? WHERE username = ?", [now, username])
            self.audit(username, "user.login", "user", username, None, {"client": client or None})
        self._maybe_rehash(username, row[1], password)
        return self.get_user(username)

    # -- sessions ------------------------------------------------------------------------------------------
    def start_session(self, username: str, *, client: str = "") -> str:
        """A new session for ``username``; returns its random id (only the sha256 is stored)."""
        session_id = secrets.token_urlsafe(32)
        now = self.clock()
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO sessions (session_hash, username, client, created_at, last_seen_at) VALUES (?,?,?,?,?)",
                [_sha(session_id), username, client or None, now, now],
            )
        return session_id

    def session_user(self, session_id: str | None, *, touch: bool = True):
        """The :class:`~usegan.store.users.User` of a live session, or ``None`` (unknown, ended, idle, too old,
        user disabled or gone). ``touch`` records activity (the idle clock restarts)."""
        if not session_id or not isinstance(session_id, str):
            return None
        p = self.auth_policy
        now = self.clock()
        row = (
            self._cursor()
            .execute(
                "SELECT s.username, s.created_at, s.last_seen_at, s.ended_at, u.disabled FROM sessions s "
                "LEFT JOIN users u ON u.username = s.username WHERE s.session_hash = ?",
                [_sha(session_id)],
            )
            .fetchone()
        )
        if row is None or row[3] is not None:
            return None
        username, created_at, last_seen_at, _, disabled = row
        reason = None
        if disabled is None or disabled:
            reason = "account disabled"
        elif (now - last_seen_at).total_seconds() > p.session_idle_s:
            reason = "idle timeout"
        elif (now - created_at).total_seconds() > p.session_max_s:
            reason = "lifetime"
        if reason:
            self._end_sessions("session_hash = ?", [_sha(session_id)], reason)
            return None
        # Activity is written at most every few seconds, so a busy page does not write on every rerun.
        if touch and (now - last_seen_at).total_seconds() > min(30.0, p.session_idle_s / 4):
            with self.transaction() as cur:
                cur.execute("UPDATE sessions SET last_seen_at = ? WHERE session_hash = ?", [now, _sha(session_id)])
        return self.get_user(username)

    def end_session(self, session_id: str, *, reason: str = "sign-out") -> None:
        self._end_sessions("session_hash = ?", [_sha(session_id)], reason)

    def end_user_sessions(self, username: str, *, by: str, reason: str = "sign-out everywhere") -> int:
        """End every live session of ``username`` (sign-out everywhere, password change, disable, role change)."""
        with self.transaction():
            n = self._end_sessions("username = ?", [username], reason)
            self.audit(by, "session.end_all", "user", username, None, {"sessions": n, "reason": reason})
        return n

    def _end_sessions(self, where: str, params: list, reason: str) -> int:
        with self.transaction() as cur:
            n = cur.execute(f"SELECT count(*) FROM sessions WHERE ended_at IS NULL AND {where}", params).fetchone()[0]
            cur.execute(
                f"UPDATE sessions SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL AND {where}",
                [self.clock(), reason, *params],
            )
        return int(n)

    def live_sessions(self, username: str | None = None) -> int:
        """How many sessions are live (not ended; idle ones end when next looked at)."""
        sql, params = "SELECT count(*) FROM sessions WHERE ended_at IS NULL", []
        if username is not None:
            sql, params = sql + " AND username = ?", [username]
        return int(self._cursor().execute(sql, params).fetchone()[0])
