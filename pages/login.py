"""Sign-in page: the only page a signed-out browser can reach."""

import streamlit as st

from pages._common import get_store, show_error
from usegan.store import AuthError

st.title("USE-GAN virtual elastography")
st.caption("Sign in to review cases. Generated elastograms are virtual: a model's estimate, not a measurement.")

with st.form("login_form", clear_on_submit=False, border=True, width=420):
    username = st.text_input("User name", key="login_username")
    password = st.text_input("Password", type="password", key="login_password")
    submitted = st.form_submit_button("Sign in", type="primary")

if submitted:
    try:
        user = get_store().authenticate(username.strip(), password)
    except AuthError as exc:
        st.error(str(exc))
    except Exception as exc:  # a database problem must not show a traceback on the sign-in page
        show_error("Signing in failed", exc, "Try again; if it persists, check the server console.")
    else:
        st.session_state["auth_user"] = {"username": user.username, "role": user.role}
        st.rerun()

st.caption(
    "First start: an `admin` account is created and its random password printed once in the server console. "
    "Administrators add users with `usegan user add`."
)
