"""Users: argon2 hashes, roles, lockout after repeated failures, first-start admin, and the `usegan user` CLI."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from tests.store_fixtures import PASSWORD, fast_hasher_fixture  # noqa: F401
from usegan.cli import main
from usegan.store import AuthError, NotFoundError, Store, open_store
from usegan.store.auth import WRONG_CREDENTIALS, ThrottledError


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2025, 1, 1, 8, 0)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clocked(fast_hasher, tmp_path):
    clock = Clock()
    with Store(tmp_path / "db.duckdb", tmp_path / "images", clock=clock) as s:
        s.add_user("dr_a", PASSWORD, "clinician", created_by="test")
        yield s, clock


def test_passwords_are_argon2_hashes_never_plain(clocked):
    store, _ = clocked
    stored = store.query("SELECT password_hash FROM users WHERE username = 'dr_a'")["password_hash"][0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert PASSWORD not in store.audit_log(limit=100).to_string()
    assert store.authenticate("dr_a", PASSWORD).last_login_at is not None


def test_unknown_disabled_and_wrong_password_read_the_same(clocked):
    store, _ = clocked
    store.add_user("dr_off", PASSWORD, "clinician", created_by="test")
    store.set_disabled("dr_off", changed_by="test")
    answers = set()
    for name, password in (("dr_a", "nope-nope-nope"), ("ghost", "nope-nope-nope"), ("dr_off", PASSWORD)):
        with pytest.raises(AuthError) as info:
            store.authenticate(name, password)
        answers.add(str(info.value))
    assert answers == {WRONG_CREDENTIALS}


def test_back_off_after_the_free_failures_then_expiry(clocked):
    store, clock = clocked
    free = store.auth_policy.free_failures
    for _ in range(free):
        with pytest.raises(AuthError, match="^wrong user name or password$"):
            store.authenticate("dr_a", "wrong-password")
    # The right password is not even checked while the name backs off; the answer names no account.
    with pytest.raises(ThrottledError, match="too many failed sign-ins for this name or from this computer"):
        store.authenticate("dr_a", PASSWORD)
    assert "auth.throttled" in set(store.audit_log(entity_id="dr_a")["action"])
    assert store.get_user("dr_a").locked_until is not None
    clock.now += dt.timedelta(seconds=store.auth_policy.backoff_s + 1)
    assert store.authenticate("dr_a", PASSWORD).failed_attempts == 0


def test_success_resets_the_failure_count(clocked):
    store, _ = clocked
    for _ in range(store.auth_policy.free_failures - 1):
        with pytest.raises(AuthError):
            store.authenticate("dr_a", "wrong-password")
    store.authenticate("dr_a", PASSWORD)
    with pytest.raises(AuthError, match="^wrong user name or password$"):  # count restarted, no back-off
        store.authenticate("dr_a", "wrong-password")


def test_admin_reset_lifts_back_off_and_disable_blocks(clocked):
    store, _ = clocked
    for _ in range(store.auth_policy.free_failures):
        with pytest.raises(AuthError):
            store.authenticate("dr_a", "wrong-password")
    store.set_password("dr_a", "brand-new-pass-2", changed_by="admin")
    assert store.authenticate("dr_a", "brand-new-pass-2").username == "dr_a"
    store.set_disabled("dr_a", changed_by="admin")
    with pytest.raises(AuthError, match="^wrong user name or password$"):
        store.authenticate("dr_a", "brand-new-pass-2")


def test_user_validation(clocked):
    store, _ = clocked
    with pytest.raises(ValueError, match="'nurse'"):
        store.add_user("x1", PASSWORD, "nurse", created_by="t")
    with pytest.raises(ValueError, match="at least 12"):
        store.add_user("x1", "short", "viewer", created_by="t")
    with pytest.raises(ValueError, match="already exists"):
        store.add_user("dr_a", PASSWORD, "viewer", created_by="t")
    with pytest.raises(NotFoundError):
        store.set_password("ghost", PASSWORD, changed_by="t")


def test_first_start_creates_admin_with_random_password_once(fast_hasher):
    with open_store() as s1:
        password = s1.ensure_first_admin()
        assert password and len(password) >= 12
        assert s1.authenticate("admin", password).role == "admin"
        assert s1.ensure_first_admin() is None  # only once
    with open_store() as s2:
        other = s2.ensure_first_admin()
    assert other is None
    # Random, not a default: a fresh data directory gets a different password.


def test_first_admin_passwords_differ_between_installations(fast_hasher, tmp_path):
    passwords = set()
    for i in range(2):
        with Store(tmp_path / f"{i}.duckdb", tmp_path / "img") as s:
            passwords.add(s.ensure_first_admin())
    assert len(passwords) == 2


def test_user_cli_add_list_passwd_disable(fast_hasher, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("cli-Pa55word-one\n"))
    assert main(["user", "add", "dr_c", "--role", "clinician", "--password-stdin"]) == 0
    assert main(["user", "list"]) == 0
    out = capsys.readouterr().out
    assert "dr_c" in out and "clinician" in out and "active" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("cli-Pa55word-two\n"))
    assert main(["user", "passwd", "dr_c", "--password-stdin"]) == 0
    assert main(["user", "disable", "dr_c"]) == 0
    capsys.readouterr()
    assert main(["user", "list"]) == 0
    assert "disabled" in capsys.readouterr().out
    with open_store() as s:
        with pytest.raises(AuthError, match="^wrong user name or password$"):
            s.authenticate("dr_c", "cli-Pa55word-two")
        s.set_disabled("dr_c", False, changed_by="t")
        assert s.authenticate("dr_c", "cli-Pa55word-two").role == "clinician"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "add", "dr_d", "--role", "viewer", "--password-stdin"]) == 2
    assert "at least 12" in capsys.readouterr().err
