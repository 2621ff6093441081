"""Users page (admins) and My account page (everyone), through AppTest: user administration while the app runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_fixtures import PASSWORD, app_session, make_environment
from usegan.store import AuthError

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def page(tmp_path, monkeypatch):
    for key, value in make_environment(tmp_path, n_samples=0).items():
        monkeypatch.setenv(key, value)

    def open_page(user: str, path: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["auth_user"] = app_session(user)
        at.run()
        return at.switch_page(path).run()

    return open_page


def store():
    from usegan.web.process import get_store

    return get_store(maintain=False)


def test_admin_adds_a_user_changes_role_disables_and_unlocks(page):
    at = page("admin", "pages/users.py")
    assert not at.exception and [t.value for t in at.title] == ["Users"]
    at.text_input(key="users_add_name").input("nurse_b")
    at.selectbox(key="users_add_role").set_value("viewer")
    at.text_input(key="users_add_password").input("password1234")  # refused: common
    at.get("form_submit_button")[0].click().run()
    assert any("too common" in e.value for e in at.error)
    at.text_input(key="users_add_password").input("Night-shift-Pa55phrase")
    at.get("form_submit_button")[0].click().run()
    assert any("Added nurse" in s.value for s in at.success), [e.value for e in at.error]
    assert store().get_user("nurse_b").role == "viewer"

    for _ in range(5):
        with pytest.raises(AuthError):
            store().authenticate("doc", "wrong-guess-xyz", client="10.1.1.1")
    at.run()
    assert [t.value for t in at.subheader] == ["Sign-in back-offs"]  # the admin is told
    at.button(key="users_unlock_account_doc").click().run()
    assert store().authenticate("doc", PASSWORD, client="10.1.1.2").username == "doc"

    at.selectbox(key="users_change_target").set_value("doc").run()
    at.selectbox(key="users_change_role").set_value("researcher")
    at.button(key="users_set_role").click().run()
    assert store().get_user("doc").role == "researcher"
    at.button(key="users_toggle").click().run()
    assert store().get_user("doc").disabled


def test_backup_and_health_check_from_the_page(page, tmp_path):
    at = page("admin", "pages/users.py")
    at.button(key="users_health").click().run()
    assert any("all files present and intact" in t.value for t in at.text)
    at.button(key="users_backup").click().run()
    assert any("Backed up" in s.value for s in at.success)
    assert list((Path(store().db_path).parent / "backups").glob("usegan-*/manifest.json"))


def test_a_clinician_changes_their_password_and_cannot_open_users(page):
    at = page("doc", "pages/account.py")
    assert [t.value for t in at.title] == ["My account"]
    at.text_input(key="account_current").input(PASSWORD)
    at.text_input(key="account_new").input("Another-Pa55phrase-9")
    at.text_input(key="account_again").input("Another-Pa55phrase-9")
    at.get("form_submit_button")[0].click().run()
    assert any("Password changed" in s.value for s in at.success), [e.value for e in at.error]
    assert store().authenticate("doc", "Another-Pa55phrase-9").username == "doc"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        page("doc", "pages/users.py")
