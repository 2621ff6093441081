"""What the Users page shows about accounts: one row per user with its sign-in state, and which name an unlock
lifts (the store does the work: :mod:`usegan.store.users`, :mod:`usegan.store.auth`)."""

from __future__ import annotations

import pandas as pd


def user_state(user, now) -> str:
    """``"disabled"``, ``"backing off"`` (sign-in throttled until later than ``now``) or ``"active"``."""
    if user.disabled:
        return "disabled"
    return "backing off" if user.locked_until and user.locked_until > now else "active"


def users_table(store) -> pd.DataFrame:
    """Every user: name, role, state, recent failed sign-ins and last sign-in (UTC)."""
    now = store.clock()
    rows = [
        {
            "user": u.username,
            "role": u.role,
            "state": user_state(u, now),
            "recent failed sign-ins": u.failed_attempts,
            "last sign-in (UTC)": u.last_login_at,
        }
        for u in store.list_users()
    ]
    return pd.DataFrame(rows)


def unlock_name(entry) -> str:
    """The account name an unlock of a throttle ``entry`` lifts (a device entry's key is ``"name device-id"``)."""
    return entry.key.split(" ", 1)[0] if entry.scope == "device" else entry.key
