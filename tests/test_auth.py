"""Sign-in throttling (atomic, per account / client / trusted device), sessions, password policy, signed tokens."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from argon2 import PasswordHasher

import usegan.store.users as users_module
from tests.store_fixtures import PASSWORD, fast_hasher_fixture  # noqa: F401
from usegan.store import AuthError, Store
from usegan.store.auth import WRONG_CREDENTIALS, AuthPolicy, ThrottledError
from usegan.store.passwords import check_password
from usegan.tokens import TokenSigner, load_secret


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2025, 1, 1, 8, 0)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def auth_store(fast_hasher, tmp_path):
    clock = Clock()
    policy = AuthPolicy(free_failures=5, client_free_failures=8, session_idle_s=600, session_max_s=3600)
    with Store(tmp_path / "db.duckdb", tmp_path / "images", clock=clock, auth_policy=policy) as s:
        s.add_user("admin2", PASSWORD, "admin", created_by="test")
        s.add_user("dr_a", PASSWORD, "clinician", created_by="test")
        yield s, clock


def test_forty_parallel_wrong_guesses_check_at_most_the_configured_number(auth_store, monkeypatch):
    store, _ = auth_store
    checked = []

    class CountingHasher(PasswordHasher):
        def verify(self, password_hash, password):
            checked.append(password)
            return super().verify(password_hash, password)

    monkeypatch.setattr(users_module, "HASHER", CountingHasher(time_cost=1, memory_cost=8, parallelism=1))
    answers: list[str] = []
    start = threading.Barrier(40)

    def guess(i: int) -> None:
        start.wait()
        try:
            store.authenticate("admin2", f"guess-number-{i}", client=f"10.0.0.{i}")
        except AuthError as exc:
            answers.append(type(exc).__name__)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 40
    assert len(checked) <= store.auth_policy.free_failures
    assert answers.count("AuthError") == len(checked) and answers.count("ThrottledError") == 40 - len(checked)
    assert store.get_user("admin2").failed_attempts == store.auth_policy.free_failures


def test_an_attacker_cannot_lock_the_admin_out_of_a_trusted_browser(auth_store):
    store, clock = auth_store
    for _ in range(5):
        with pytest.raises(AuthError):
            store.authenticate("admin2", "attacker-guess-1", client="203.0.113.9")
    with pytest.raises(ThrottledError):  # an untrusted browser must wait
        store.authenticate("admin2", PASSWORD, client="192.168.1.20")
    # The admin's own browser carries a trusted-device id (from an earlier sign-in): it is not held back.
    assert store.authenticate("admin2", PASSWORD, client="192.168.1.20", device="dev-1").role == "admin"
    # The back-off is visible to administrators (audit + list) and lifted in one call.
    assert any(e.scope == "account" and e.key == "admin2" for e in store.throttled())
    assert store.unlock("admin2", by="dr_admin") >= 1
    assert store.authenticate("admin2", PASSWORD, client="192.168.1.20").username == "admin2"


def test_a_client_guessing_many_names_backs_off_and_unknown_names_throttle_like_known_ones(auth_store):
    store, _ = auth_store
    for i in range(8):  # client_free_failures: spread over names so no account backs off
        with pytest.raises(AuthError, match=f"^{WRONG_CREDENTIALS}$"):
            store.authenticate(f"name{i}", "some-guess-xyz", client="203.0.113.7")
    with pytest.raises(ThrottledError):
        store.authenticate("dr_a", PASSWORD, client="203.0.113.7")
    assert store.authenticate("dr_a", PASSWORD, client="192.168.1.5").username == "dr_a"  # others unaffected
    known, unknown = [], []
    for name, bucket in (("dr_a", known), ("nobody", unknown)):
        for _ in range(6):
            try:
                store.authenticate(name, "wrong-guess-xyz", client=f"c-{name}")
            except AuthError as exc:
                bucket.append(str(exc))
    assert known == unknown  # same answers, same point of back-off: names cannot be enumerated


def test_back_off_doubles_and_is_capped(auth_store):
    store, clock = auth_store
    waits = []
    for _ in range(4):
        while True:
            try:
                store.authenticate("dr_a", "wrong-guess-xyz", client="x")
            except ThrottledError as exc:
                waits.append(exc.wait_s)
                clock.now += dt.timedelta(seconds=exc.wait_s + 1)
                break
            except AuthError:
                pass
    assert waits[1] == pytest.approx(2 * waits[0], abs=2) and waits[2] == pytest.approx(2 * waits[1], abs=2)
    assert max(waits) <= store.auth_policy.backoff_max_s


def test_sessions_idle_timeout_sign_out_everywhere_and_disable(auth_store):
    store, clock = auth_store
    first, second = store.start_session("dr_a"), store.start_session("dr_a")
    assert store.session_user(first).username == "dr_a" and store.session_user(second).username == "dr_a"
    assert store.session_user("forged-id") is None
    clock.now += dt.timedelta(seconds=400)
    assert store.session_user(first) is not None  # activity restarts the idle clock of `first` only
    clock.now += dt.timedelta(seconds=400)
    assert store.session_user(second) is None  # idle 800 s > 600 s
    assert store.session_user(first) is not None
    assert store.end_user_sessions("dr_a", by="dr_a") == 1
    assert store.session_user(first) is None
    third = store.start_session("dr_a")
    store.set_disabled("dr_a", changed_by="admin2")
    assert store.session_user(third) is None


def test_session_absolute_lifetime_and_password_change_end_sessions(auth_store):
    store, clock = auth_store
    session = store.start_session("dr_a")
    for _ in range(7):  # active every 9 minutes, but the lifetime is an hour
        clock.now += dt.timedelta(minutes=9)
        store.session_user(session)
    assert store.session_user(session) is None
    session = store.start_session("dr_a")
    with pytest.raises(AuthError, match="current password is wrong"):
        store.change_own_password("dr_a", "not-my-password", "A-new-Pa55phrase")
    store.change_own_password("dr_a", PASSWORD, "A-new-Pa55phrase")
    assert store.session_user(session) is None
    assert store.authenticate("dr_a", "A-new-Pa55phrase").username == "dr_a"


def test_the_last_admin_cannot_be_disabled_or_demoted(auth_store):
    store, _ = auth_store
    admins = [u.username for u in store.list_users() if u.role == "admin"]
    assert admins == ["admin2"]
    with pytest.raises(ValueError, match="last enabled administrator"):
        store.set_disabled("admin2", changed_by="admin2")
    with pytest.raises(ValueError, match="last enabled administrator"):
        store.set_role("admin2", "viewer", changed_by="admin2")
    store.set_role("dr_a", "admin", changed_by="admin2")
    store.set_role("admin2", "viewer", changed_by="dr_a")
    assert store.get_user("admin2").role == "viewer"


@pytest.mark.parametrize(
    ("password", "username", "problem"),
    [
        ("          ", "dr_a", "at least 12"),
        (" " * 12, "dr_a", "only spaces"),
        ("x" * 129, "dr_a", "at most 128"),
        ("dr_a-dr_a-dr_a-1", "dr_a", "user name"),
        ("password1234", "dr_a", "too common"),
        ("qwertyuiop123", "dr_a", "too common"),
        (b"bytes-are-not-text", "dr_a", "must be text"),
    ],
)
def test_password_policy_refuses(password, username, problem):
    with pytest.raises(ValueError, match=problem):
        check_password(password, username)


def test_password_policy_accepts_a_passphrase():
    check_password("correct-horse-1", "dr_a")
    check_password("Tr0ub4dor&3xyz", "dr_a")


def test_signed_tokens_refuse_forgery_other_kinds_and_age(tmp_path):
    secret = load_secret(tmp_path)
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
    assert load_secret(tmp_path) == secret  # stable
    signer = TokenSigner(secret)
    token = signer.sign("session", "abc")
    assert signer.unsign("session", token, 60) == "abc"
    assert signer.unsign("device", token, 60) is None  # a session token is no device token
    # a forged signature: its first character changed (it carries the HMAC's top 6 bits; the last one's low bits are
    # base64 padding, so overwriting the end with "xx" left an equal signature about once in a thousand secrets)
    cut = token.rindex(".") + 1
    forged = token[:cut] + ("B" if token[cut] == "A" else "A") + token[cut + 1 :]
    assert signer.unsign("session", forged, 60) is None
    assert TokenSigner(b"another-secret-key-of-32-bytes!!").unsign("session", token, 60) is None
    assert signer.unsign("session", token, -1) is None  # expired
