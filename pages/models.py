"""Models (admin): registered and bundled checkpoints per mode, their metrics and cards, which one is in use."""

import streamlit as st

from pages._common import get_store, require_role, show_error
from usegan.dashboard.models import list_models, register_and_activate
from usegan.settings import get_settings

user = require_role("models")
store = get_store()
settings = get_settings()
st.title("Models")
st.caption(
    f"Model folder: `{settings.model_dir}`. The app uses the registry's active version of each mode, "
    "else the newest bundled checkpoint. Fine-tuning controls arrive with the optimisation work (issue S7)."
)
entries = list_models(store, settings.model_dir)
if not entries:
    st.warning("No checkpoint found. Train one with `make model` or copy a `*.pt` file into the model folder.")
    st.stop()
for mode in ("strain", "swe"):
    st.subheader({"strain": "Strain elastography", "swe": "Shear-wave elastography"}[mode])
    rows = [e for e in entries if e.mode == mode]
    if not rows:
        st.info(f"No {mode} model.")
    for entry in rows:
        with st.container(border=True):
            c1, c2 = st.columns([4, 1], vertical_alignment="center")
            badge = " · **in use**" if entry.in_use else ""
            c1.markdown(f"**{entry.version}** · {entry.origin} · status `{entry.status}`{badge}  \n`{entry.path}`")
            if not entry.in_use or entry.status != "active":
                if c2.button("Make active", key=f"models_activate_{entry.version}"):
                    try:
                        register_and_activate(store, entry, user["username"])
                    except Exception as exc:
                        show_error(f"Could not activate {entry.version}", exc, "Check the checkpoint file.")
                    else:
                        st.rerun()
            with st.expander("Metrics and model card"):
                st.json({"metrics": entry.metrics, "card": entry.card}, expanded=True)
