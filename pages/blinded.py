"""Blinded reading: score a case before the proposal and the virtual elastogram are revealed, then again after.

Both scores and their reading times go to the research audit (how much the proposal moves readers). Signing the
case stays on the Review page.
"""

import time

import streamlit as st

from pages._common import (
    MODE_NAMES,
    available_modes,
    get_elastographer,
    get_store,
    open_review,
    require_role,
    virtual_badge,
)
from usegan.scoring.systems import headline_scale
from usegan.services import blinded


def pick_case(reader: str, mode: str) -> None:
    """The queue of cases not yet read blinded by this reader; starting one opens the blinded phase."""
    cases = blinded.queue(store, reader, mode)
    if cases.empty:
        st.info("No case left to read blinded in this mode: every case has been read blinded or reviewed by you.")
        st.stop()
    labels = {r.case_id: f"{r.case_id} · {r.organ} · exam {r.exam_at:%Y-%m-%d}" for r in cases.itertuples()}
    case_id = st.selectbox("Case", list(labels), format_func=labels.get, key="blinded_case")
    if st.button("Start blinded reading", type="primary", key="blinded_start"):
        st.session_state["blinded_session"] = {"case_id": case_id, "mode": mode, "started": time.monotonic()}
        st.rerun()


def score_picker(label: str, organ: str, key: str):
    """A score on the organ's headline scale (the scale the blinded session's proposed score is stored on)."""
    names = headline_scale(organ).wording
    return st.radio(label, list(names), index=None, horizontal=True, key=key, format_func=lambda s: f"{s}: {names[s]}")


user = require_role("blinded")
store = get_store()
st.title("Blinded reading")
st.caption(
    "Score from the B-mode (and the real elastogram, where attached) first. The algorithm's proposal and the VIRTUAL "
    "elastogram are revealed only after you commit; then score again. Both scores and their reading times go to the "
    "research audit. Sign the case on the Review page as usual."
)
modes = available_modes()
if not modes:
    st.warning("No USE-GAN model is installed: the virtual elastogram cannot be revealed.")
    st.stop()
session = st.session_state.get("blinded_session")
if session is None:
    mode = st.segmented_control("Mode", modes, default=modes[0], key="blinded_mode", format_func=MODE_NAMES.get)
    pick_case(user["username"], mode or modes[0])
    st.stop()

view = blinded.open_blinded(store, session["case_id"], session["mode"])
scale = headline_scale(view.organ).name
st.subheader(f"Case {view.case_id} · {view.organ} · {MODE_NAMES[view.mode]}")
bmode_col, real_col, virtual_col = st.columns(3)
bmode_col.image(view.bmode, caption="B-mode (yellow: lesion ROI, where drawn)", width="stretch")
if view.real is not None:
    real_col.image(view.real, caption=f"Real {view.mode.upper()} elastogram: {view.real_source}", width="stretch")

if "session_id" not in session:  # phase 1: blinded
    virtual_col.info("The VIRTUAL elastogram and the proposal appear after you commit your blinded score.")
    score = score_picker(f"Your score before the reveal ({scale})", view.organ, "blinded_before")
    if st.button("Commit and reveal", type="primary", disabled=score is None, key="blinded_commit"):
        seconds = time.monotonic() - session["started"]
        session |= {"session_id": blinded.record_blinded(store, view, user["username"], score, seconds),
                    "before": score, "revealed": time.monotonic()}  # fmt: skip
        st.rerun()
    st.stop()

shown = blinded.reveal(store, view, get_elastographer(view.mode), user["username"])
virtual_col.image(shown.elasto, caption=shown.caption, width="stretch")
with virtual_col:
    virtual_badge(shown.caption)
c1, c2 = st.columns(2)
c1.metric("Algorithm's proposal", shown.proposed_score if shown.proposed_score is not None else "-")
c1.caption(shown.proposal.label if shown.proposal.scored else f"No proposal: {shown.proposal.reason}")
c2.metric("Your blinded score", session["before"])
if "after" not in session:  # phase 2: unblinded
    after = score_picker(f"Your score after the reveal ({scale})", view.organ, "blinded_after")
    if st.button("Record", type="primary", disabled=after is None, key="blinded_record"):
        seconds = time.monotonic() - session["revealed"]
        blinded.record_unblinded(store, session["session_id"], user["username"], after, seconds, shown)
        session["after"] = after
        st.rerun()
    st.stop()

st.success(f"Recorded: {session['before']} before the reveal, {session['after']} after.")
b1, b2 = st.columns(2)
if b1.button("Open in review to sign", key="blinded_open_review"):
    st.session_state.pop("blinded_session")
    open_review(view.case_id)
if b2.button("Next case", type="primary", key="blinded_next"):
    st.session_state.pop("blinded_session")
    for key in ("blinded_before", "blinded_after"):
        st.session_state.pop(key, None)
    st.rerun()
