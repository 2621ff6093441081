"""My account: change your own password (every user)."""

import streamlit as st

from pages._common import get_store, require_role, show_error
from usegan.store import StoreError

user = require_role("account")
st.title("My account")
st.text(f"Signed in as {user['username']} ({user['role']}).")
with st.form("account_password", clear_on_submit=True, width=480):
    current = st.text_input("Current password", type="password", max_chars=128, key="account_current")
    new = st.text_input("New password", type="password", max_chars=128, key="account_new")
    again = st.text_input("New password again", type="password", max_chars=128, key="account_again")
    st.caption("At least 12 characters, not your user name, not a common password.")
    submitted = st.form_submit_button("Change password", type="primary")
if submitted:
    if new != again:
        st.error("The two new passwords differ.")
    else:
        try:
            get_store().change_own_password(user["username"], current, new)
        except (StoreError, ValueError) as exc:
            show_error("Password not changed", exc)
        else:
            st.success("Password changed. Every session ended: sign in again with the new password.")
            st.session_state.pop("auth_user", None)
