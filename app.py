"""USE-GAN review dashboard: `streamlit run app.py` (or `make run`).

Signed-out browsers only see the sign-in page; signed-in users see the pages their role allows (pages/_common.py).
"""

import streamlit as st

from pages._common import ROLE_PAGES, STYLE, current_user, get_store, show_error, sidebar
from usegan.web import guard

st.set_page_config(page_title="USE-GAN virtual elastography", page_icon=":material/monitor_heart:", layout="wide")
st.markdown(STYLE, unsafe_allow_html=True)

PAGES = {
    "worklist": ("pages/worklist.py", "Worklist", ":material/list_alt:"),
    "new_case": ("pages/new_case.py", "New case", ":material/add_photo_alternate:"),
    "review": ("pages/review.py", "Review", ":material/rate_review:"),
    "blinded": ("pages/blinded.py", "Blinded reading", ":material/visibility_off:"),
    "audit": ("pages/audit.py", "Research audit", ":material/query_stats:"),
    "teaching": ("pages/teaching.py", "Teaching lab", ":material/school:"),
    "models": ("pages/models.py", "Models", ":material/model_training:"),
    "users": ("pages/users.py", "Users", ":material/manage_accounts:"),
    "account": ("pages/account.py", "My account", ":material/key:"),
}

if not guard.ACTIVE and st.context.headers.get("host"):
    # A browser reached `streamlit run app.py` directly: Streamlit would serve patient images and reports from
    # /media to anyone. Only the guarded entry point may show clinical pages.
    st.error("This app must be started with `make run` (`streamlit run serve.py`), which guards patient images.")
    st.stop()

try:
    get_store()  # open the database (and create the first admin) before anything else
except Exception as exc:  # the store's errors already say what to do (e.g. the file is locked by another process)
    show_error("The case database cannot be opened", exc, "Check the server console, then reload.")
    st.stop()

user = current_user()
if user is None:
    pages = [st.Page("pages/login.py", title="Sign in", icon=":material/login:", default=True)]
else:
    allowed = ROLE_PAGES.get(user["role"], ())
    pages = [st.Page(path, title=title, icon=icon) for key, (path, title, icon) in PAGES.items() if key in allowed]
sidebar(user)
st.navigation(pages).run()
