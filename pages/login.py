"""Sign-in page: the only page a signed-out browser can reach. The form itself is served by usegan's HTTP guard
(usegan/web/guard.py) so that it can set an HttpOnly session cookie; this page links there, keeping the page and
case the browser asked for."""

import html
from urllib.parse import quote, urlencode

import streamlit as st

from usegan.web.guard import PREFIX

st.title("USE-GAN virtual elastography")
if st.session_state.pop("common_signed_out", False):
    st.info("You are signed out (signed out elsewhere, idle for too long, or your account changed).")
st.caption("Sign in to review cases. Generated elastograms are virtual: a model's estimate, not a measurement.")
url = st.context.url or ""
path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
query = urlencode(st.query_params.to_dict())
target = f"{PREFIX}/signin?" + urlencode({"next": path + (f"?{query}" if query else "")}, quote_via=quote)
st.html(f'<a href="{html.escape(target)}" target="_self" class="usegan-signin">Sign in</a>')
