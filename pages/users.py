"""Users and operations (admins): add users, change roles, disable, reset passwords, lift sign-in back-offs, and
take a backup or a health check while everyone keeps working."""

import streamlit as st

from pages._common import get_store, plain, require_role, show_error
from usegan.operations import backup_now, health
from usegan.services import accounts
from usegan.settings import get_settings
from usegan.store import ROLES, StoreError

user = require_role("users")
store, settings = get_store(), get_settings()
st.title("Users")


def run(action, done: str, *args, **kwargs) -> None:
    try:
        action(*args, **kwargs)
    except (StoreError, ValueError) as exc:
        show_error("Not done", exc)
    else:
        st.success(plain(done))


table = accounts.users_table(store)
st.dataframe(table, hide_index=True, width="stretch")

blocked = store.throttled()
if blocked:
    st.subheader("Sign-in back-offs")
    st.caption("Failed sign-ins slow down further attempts for a name or a computer; lift one here.")
    for entry in blocked:
        left, right = st.columns([4, 1])
        left.text(f"{entry.scope} {entry.key}: {entry.failures} failures, until {entry.blocked_until:%H:%M:%S} UTC")
        if right.button("Unlock", key=f"users_unlock_{entry.scope}_{entry.key}"):
            name = accounts.unlock_name(entry)
            run(store.unlock, f"Unlocked {name}.", name, by=user["username"])
            st.rerun()

names = table["user"].tolist() if not table.empty else []
add, change, ops = st.tabs(["Add user", "Change user", "Backup and health"])
with add, st.form("users_add", clear_on_submit=False):
    name = st.text_input("User name", max_chars=64, key="users_add_name")
    role = st.selectbox("Role", ROLES, index=1, key="users_add_role")
    password = st.text_input("Initial password", type="password", max_chars=128, key="users_add_password")
    st.caption("At least 12 characters, not the user name, not a common password. Tell it to the user in person.")
    if st.form_submit_button("Add user", type="primary"):
        run(store.add_user, f"Added {name} ({role}).", name.strip(), password, role, created_by=user["username"])

with change:
    target = st.selectbox("User", names, key="users_change_target")
    new_role = st.selectbox("Role", ROLES, key="users_change_role", index=ROLES.index(store.get_user(target).role))
    c1, c2, c3 = st.columns(3)
    if c1.button("Set role", key="users_set_role"):
        run(store.set_role, f"{target} is now {new_role}.", target, new_role, changed_by=user["username"])
    disabled = store.get_user(target).disabled
    if c2.button("Enable" if disabled else "Disable", key="users_toggle"):
        run(store.set_disabled, f"{target} {'enabled' if disabled else 'disabled'}.", target, not disabled,
            changed_by=user["username"])  # fmt: skip
    if c3.button("Unlock", key="users_unlock_user"):
        run(store.unlock, f"Sign-in back-offs of {target} lifted.", target, by=user["username"])
    with st.form("users_reset", clear_on_submit=True):
        new_password = st.text_input("New password", type="password", max_chars=128, key="users_reset_password")
        if st.form_submit_button("Reset password"):
            run(store.set_password, f"Password of {target} reset; their sessions ended.", target, new_password,
                changed_by=user["username"])  # fmt: skip

with ops:
    if st.button("Take a backup now", key="users_backup"):
        try:
            with st.spinner("Backing up..."):
                folder, manifest = backup_now(store, settings.data_dir / "backups", by=user["username"])
        except Exception as exc:
            show_error("The backup failed; nothing half-written was kept", exc)
        else:
            st.success(f"Backed up {manifest.cases} cases and {manifest.images} files.")
            st.text(str(folder))
    if st.button("Health check", key="users_health"):
        try:
            report = health(store, settings.data_dir)
        except Exception as exc:
            show_error("The health check failed", exc)
        else:
            (st.success if report.ok else st.warning)("Healthy." if report.ok else "Needs attention.")
            st.text("\n".join(report.lines()))
