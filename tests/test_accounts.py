"""usegan.services.accounts: the Users page's table of accounts and which name an unlock lifts."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from usegan.services.accounts import unlock_name, user_state, users_table
from usegan.store import Store

NOW = dt.datetime(2026, 11, 26, 12, 0)


def _user(disabled=False, locked_until=None):
    return SimpleNamespace(disabled=disabled, locked_until=locked_until)


def test_user_state_disabled_wins_then_back_off_then_active():
    assert user_state(_user(disabled=True, locked_until=NOW + dt.timedelta(minutes=5)), NOW) == "disabled"
    assert user_state(_user(locked_until=NOW + dt.timedelta(seconds=1)), NOW) == "backing off"
    assert user_state(_user(locked_until=NOW - dt.timedelta(seconds=1)), NOW) == "active"  # the back-off is over
    assert user_state(_user(), NOW) == "active"


def test_unlock_name_of_a_device_entry_is_its_account():
    assert unlock_name(SimpleNamespace(scope="device", key="doc 3f2a")) == "doc"
    assert unlock_name(SimpleNamespace(scope="account", key="dr smith")) == "dr smith"  # a name may have a space
    assert unlock_name(SimpleNamespace(scope="client", key="10.0.0.7")) == "10.0.0.7"


def test_users_table_lists_every_user_with_its_state(tmp_path):
    store = Store(tmp_path / "db.duckdb", tmp_path / "images")
    try:
        store.add_user("clara", "correct horse battery 17", "clinician", created_by="test")
        store.add_user("rob", "another long passphrase 9", "researcher", created_by="test")
        store.set_disabled("rob", True, changed_by="test")
        table = users_table(store)
        assert list(table.columns) == ["user", "role", "state", "recent failed sign-ins", "last sign-in (UTC)"]
        rows = table.set_index("user")
        assert rows.loc["clara", "role"] == "clinician" and rows.loc["clara", "state"] == "active"
        assert rows.loc["rob", "state"] == "disabled"
    finally:
        store.close()
