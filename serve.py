"""The served app: ``streamlit run serve.py`` (``make run``) starts app.py behind usegan's HTTP guard.

The guard (usegan/web/guard.py) adds the sign-in form and session cookie and refuses ``/media`` (patient images,
PDF reports) to any request without a live session. ``streamlit run app.py`` alone would serve them to anyone:
app.py refuses to show clinical pages in a browser when this guard is not in front.
"""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from usegan.web import guard

guard.activate()
app = st.App(
    Path(__file__).with_name("app.py"),
    routes=guard.routes(),
    middleware=[Middleware(guard.ClinicalGuard)],
)
