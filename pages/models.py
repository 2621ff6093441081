"""Models (admin): checkpoints per mode, fine-tuning on the store's signed pairs, promote / rollback."""

import streamlit as st

from pages._common import get_store, require_role, show_error
from usegan.finetune.jobs import JobRunner, JobRunningError
from usegan.finetune.pairs import pair_counts
from usegan.finetune.promotion import PromotionRefused, promote, rollback
from usegan.finetune.run import FinetuneConfig
from usegan.services.model_catalog import list_models, pairs_summary, register_and_activate, validation_summary
from usegan.settings import get_settings
from usegan.vocab import Mode, ModelStatus, values

user = require_role("models")
store = get_store()
settings = get_settings()
runner = JobRunner(settings.jobs_dir)
st.title("Models")
st.caption(
    f"Model folder: `{settings.model_dir}`. The app uses the registry's active version of each mode, "
    "else the newest bundled checkpoint; a promotion or rollback is picked up without a restart."
)

st.subheader("Fine-tune on signed cases")
counts = pair_counts(store)
st.caption(
    "Training pairs (signed cases with a real elastogram; the split is fixed when a pair is created): "
    + pairs_summary(counts)
)
c1, c2, c3 = st.columns([1, 1, 1], vertical_alignment="bottom")
ft_mode = c1.selectbox("Mode", values(Mode), key="models_ft_mode")
ft_steps = c2.number_input("Steps", 1, 100_000, 200, key="models_ft_steps")
if c3.button("Start fine-tune", key="models_ft_start", type="primary"):
    try:
        runner.start(store, FinetuneConfig(mode=ft_mode, steps=int(ft_steps)), by=user["username"])
    except JobRunningError as exc:
        st.warning(str(exc))
    except ValueError as exc:
        show_error("Cannot start the fine-tune", exc)


@st.fragment(run_every=3)
def job_panel() -> None:
    # Job state lives in files under settings.jobs_dir, so a browser refresh (or another admin) sees the same job.
    status = runner.status(store)
    if status is None:
        st.info("No fine-tune has run yet.")
        return
    label = f"{status.job_id} · {status.state} · started by {status.started_by} at {status.started_at}"
    st.progress(status.fraction, text=f"{label} — {status.message}")
    if not status.running and status.state == "done" and not status.registered:
        if runner.collect(store, by=user["username"]) is not None:
            st.rerun(scope="app")  # the new candidate appears in the list below
    with st.expander("Log", expanded=status.running or status.state == "failed"):
        st.code(runner.log_tail(30) or "(empty)", language=None)


job_panel()

entries = list_models(store, settings.model_dir)
if not entries:
    st.warning("No checkpoint found. Train one with `make model` or copy a `*.pt` file into the model folder.")
    st.stop()
for mode in Mode:
    st.subheader({Mode.STRAIN: "Strain elastography", Mode.SWE: "Shear-wave elastography"}[mode])
    rows = [e for e in entries if e.mode == mode]
    if not rows:
        st.info(f"No {mode} model.")
    if any(e.status == ModelStatus.RETIRED for e in rows) and st.button("Roll back", key=f"models_rollback_{mode}"):
        try:
            rollback(store, mode, by=user["username"], reason="rollback from the Models page")
        except ValueError as exc:
            show_error("Cannot roll back", exc)
        else:
            st.rerun()
    for entry in rows:
        with st.container(border=True):
            c1, c2 = st.columns([4, 1], vertical_alignment="center")
            badge = " · **in use**" if entry.in_use else ""
            c1.markdown(f"**{entry.version}** · {entry.origin} · status `{entry.status}`{badge}  \n`{entry.path}`")
            if summary := validation_summary(entry):
                c1.caption(summary)
            if entry.origin == "bundled":
                if c2.button("Make active", key=f"models_activate_{entry.version}"):
                    try:
                        register_and_activate(store, entry, user["username"])
                    except Exception as exc:
                        show_error(f"Could not activate {entry.version}", exc, "Check the checkpoint file.")
                    else:
                        st.rerun()
            elif entry.status != ModelStatus.ACTIVE:
                force = c2.checkbox("Force", key=f"models_force_{entry.version}")
                reason = c2.text_input("Reason", key=f"models_reason_{entry.version}", disabled=not force)
                if c2.button("Promote", key=f"models_promote_{entry.version}"):
                    try:
                        promote(store, entry.version, by=user["username"], force=force, reason=reason)
                    except PromotionRefused as exc:
                        st.error(f"{exc}.")
                    except ValueError as exc:
                        show_error(f"Could not promote {entry.version}", exc)
                    else:
                        st.rerun()
            with st.expander("Metrics and model card"):
                st.json({"metrics": entry.metrics, "card": entry.card}, expanded=True)
