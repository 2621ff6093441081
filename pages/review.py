"""Review: B-mode and virtual elastogram side by side, ROIs, the algorithm's proposal, the clinician's score."""

import re
import time

import streamlit as st

from pages import _reading as reading_ui
from pages._common import available_modes, get_elastographer, get_store, plain, require_role, show_error, virtual_badge
from usegan.scoring.systems import confirmed_scale, proposal_scale
from usegan.services import reading, service, signing
from usegan.services.compare import compare
from usegan.services.dicom import SendBackFailed, send_back, sendback_availability
from usegan.services.templates import qbox_summary
from usegan.settings import get_settings
from usegan.store import SignBlockedError, StaleReviewError, StoreError
from usegan.store.limits import MAX_CONCLUSION, MAX_REASON
from usegan.ui import figures, overlay, roi_canvas
from usegan.vocab import Mode


def _insert_template(score_key: str, conclusion_key: str, view, force: bool = False) -> None:
    """Put the template of the chosen score in the conclusion; typed text is replaced only after asking."""
    st.session_state.pop("review_template_ask", None)
    if (chosen := st.session_state.get(score_key)) is None:
        return
    if not force and signing.replaces_typed_text(st.session_state.get(conclusion_key, ""), view):
        st.session_state["review_template_ask"] = True
        return
    st.session_state[conclusion_key] = signing.template_for(view, chosen)


def _reload(case_id: str, mode: str) -> None:
    """Drop this page's copy of the reading, so the next run shows what is stored now."""
    for key in signing.reload_keys("review", case_id, mode):
        st.session_state.pop(key, None)
    revision = f"review_canvas_rev_{case_id}_{mode}"  # a fresh canvas, drawn from the stored ROIs
    st.session_state[revision] = st.session_state.get(revision, 0) + 1


CASE_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
started = time.perf_counter()  # server time of this run, shown at the bottom (bench/dashboard_speed.py reads it)
user = require_role("review")
store = get_store()
case_id = st.session_state.get("review_case_id") or st.query_params.get("case")
if not case_id:
    st.info("No case is open. Pick one on the **Worklist** or create one on the **New case** page.")
    st.stop()

if not CASE_ID.fullmatch(str(case_id)):  # it may come from the URL: only an id's characters reach the title
    st.error(f"{plain(case_id)[:200]} is not a case id. Pick a case on the **Worklist**.")
    st.stop()
st.title(f"Case {case_id}")  # first: the reader sees which case this is before any control
reading_ui.case_navigation(case_id)
modes = available_modes()
if not modes:
    st.warning("No USE-GAN model is installed: put a checkpoint (`*.pt`) in the model folder or ask an administrator.")
    st.stop()
mode = (
    st.segmented_control(
        "Elastography mode",
        modes,
        default=modes[0],
        key="review_mode",
        format_func=lambda m: {Mode.STRAIN: "Strain (SE)", Mode.SWE: "Shear-wave (SWE)"}[m],
    )
    or modes[0]
)
try:
    service.generate_for_case(store, case_id, get_elastographer(mode), user["username"])
    view = service.open_case(store, case_id, mode)
except StoreError as exc:
    show_error(f"Case {case_id} cannot be opened", exc, "Go back to the worklist and pick another case.")
    st.stop()
except Exception as exc:  # a broken checkpoint or image must not show a traceback
    show_error("The virtual elastogram could not be generated", exc, "Ask an administrator to check the model.")
    st.stop()
case = view.case
st.caption(
    f"Patient {plain(case.patient_id)} · {plain(case.organ)}{' · ' + plain(case.side) if case.side else ''} "
    f"· status **{plain(case.status)}**"
    f" · source {case.source} · exam {case.exam_at:%Y-%m-%d %H:%M}"
)

# --- images: B-mode canvas (ROIs, caliper) | virtual elastogram or quality map | real elastogram --------------------
spacing = reading.spacing_of(case)
choice = reading_ui.toolbar(mode, spacing)
columns = 3 if view.real is not None else 2
scale = overlay.display_scale(view.bmode.shape[0], view.bmode.shape[1], 1200 // columns - 20, 480)
canvas_view = roi_canvas.viewport(view.bmode.shape[:2], scale, choice.zoom, choice.pan)
canvas_key, marks = reading_ui.current_marks(case_id, mode, view.rois, canvas_view)
uncertainty = reading.model_uncertainty(case, view.generation, get_elastographer(mode))
read = reading.read(
    view.elasto, mode, view.generation.colour_scale, marks, spacing, choice.fat_diameter_mm, choice.qbox_diameter_mm,
    uncertainty,
)  # fmt: skip

image_cols = st.columns(columns)
with image_cols[0]:
    st.markdown("**B-mode**: draw here (one lesion ROI at a time; a new one replaces the old)")
    background = overlay.overlay(view.bmode, view.elasto, choice.opacity) if choice.opacity else view.bmode
    reading_ui.bmode_canvas(
        choice, canvas_view, canvas_view.background(reading.guide_line(background, read.guide_row)), marks,
        canvas_key, reading_ui.circle_radius_px(choice, spacing, canvas_view),
    )  # fmt: skip
rois, masks = read.rois, read.masks
with image_cols[1]:
    if choice.quality:
        st.markdown(f"**Quality map** ({read.quality.source}): white = model sure, magenta = unsure")
        shown = reading.outlines(reading.quality_image(read.quality, view.bmode), masks)
        label = f"QUALITY MAP of the VIRTUAL elastogram - {view.generation.model_version}"
    else:
        st.markdown("**Virtual elastogram**")
        shown = reading.outlines(reading.guide_line(view.elasto, read.guide_row), masks)
        shown = reading.mark_point(shown, read.qbox.emax_at if read.qbox else None)
        label = f"VIRTUAL - {view.generation.model_version}"
    st.image(overlay.stamp(canvas_view.background(shown), label))
    virtual_badge(view.caption)
    st.caption(signing.provenance_note(store, view))
result = service.score_rois(view.elasto, mode, view.generation.colour_scale, rois, case.organ)
if view.real is not None:
    with image_cols[2]:
        st.markdown(f"**Real elastogram** ({plain(view.real_source)})")
        st.image(canvas_view.background(reading.outlines(view.real, masks)), caption="attached real image")
        both = compare(view.elasto, view.real, lambda rgb: service.score_rois(rgb, mode, None, rois, case.organ))
        st.caption(
            f"SSIM virtual vs real: **{both.ssim:.3f}** · score on virtual: {both.virtual.score or '-'} · "
            f"score on real: {both.real.score or '-'}"
        )

with st.container(border=True):
    measure_col, lesion_col, spacing_col = st.columns([3, 2, 2])
    with measure_col:
        if mode == Mode.SWE:
            reading_ui.qbox_panel(read)
        else:
            reading_ui.strain_ratio_panel(read, case_id)
    with lesion_col:
        reading_ui.lesion_panel(read)
    with spacing_col:
        reading_ui.spacing_panel(store, case_id, spacing, marks, user["username"])

reading_ui.cine_panel(case)
plot_col, bar_col = st.columns([3, 2])
dist = figures.distribution(view.elasto, mode, view.generation.colour_scale, masks.get("lesion"))
plot_col.plotly_chart(figures.distribution_figure(dist), key="review_distribution")
bar_col.plotly_chart(figures.colour_bar_figure(mode, view.generation.colour_scale), key="review_colour_bar")

# --- the algorithm's proposal and the clinician's confirmed score, kept visibly apart -----------------------------
proposal_col, review_col = st.columns(2, border=True)
with proposal_col:
    st.subheader("Algorithm's proposal")
    st.caption(f"{result.system} · {result.algorithm_version} · computed on the VIRTUAL elastogram")
    st.metric("Proposed score", result.score if result.score is not None else "-", border=False)
    st.caption(f"Scale: {proposal_scale(result.system)}")
    st.markdown(result.label if result.scored else f":orange[{result.label}]")
    if mode == Mode.SWE and (qbox := qbox_summary(result.figures)):
        st.markdown(f"Q-box: {qbox}")
    for extra in result.secondary:
        st.markdown(f"**{extra.system.replace('_', ' ')}**: {extra.label}")
    reading_ui.confidence_line(read)
    with st.expander("Every figure behind the proposal"):
        st.dataframe(reading.figures_table(result.to_dict()["figures"]), hide_index=True, width="stretch")

with review_col:
    st.subheader("Clinician's confirmed score")
    # The page works on the version it loaded (kept per case and mode); every write passes it back, so a save or
    # sign over someone else's newer version - another user, or this user's other tab - is refused, never silent.
    loaded_key = f"review_loaded_{case_id}_{mode}"
    if loaded_key not in st.session_state:
        st.session_state[loaded_key] = view.review
    loaded = st.session_state[loaded_key]
    signed = loaded is not None and loaded.is_signed
    scale = confirmed_scale(case.organ, mode)
    score_key, conclusion_key = f"review_score_{case_id}_{mode}", f"review_conclusion_{case_id}_{mode}"
    start = service.picker_start(view, result) if loaded == view.review else (loaded and loaded.confirmed_score)
    if mode == Mode.STRAIN:  # Tsukuba / Rago pictograms: strain scales only (an SWE reading has its own scale)
        reading_ui.score_pictograms(case.organ)
    if score_key not in st.session_state:  # set through the state, not `index=`: a keyed radio keeps what the
        st.session_state[score_key] = start if start in scale.scores else None  # browser shows; Reload resets it
    score = st.radio(f"Confirmed score ({scale.name})", list(scale.scores), index=None, horizontal=True, key=score_key)
    st.caption(scale.wording.get(score, "choose a score").capitalize())
    if conclusion_key not in st.session_state:
        st.session_state[conclusion_key] = loaded.conclusion if loaded else ""
    # A callback, not `if st.button(...)`: it runs before the script, so the text area is built with the template
    # in this very run; writing the key after a click and calling st.rerun() could be overwritten by the
    # browser's stale "" when another rerun request overtook it under load. The score is read when clicked.
    st.button(
        "Insert template for this score",
        key="review_template",
        disabled=score is None,
        on_click=_insert_template,
        args=(score_key, conclusion_key, view),
    )
    if st.session_state.get("review_template_ask"):
        with st.container(border=True):
            st.warning("Replace the conclusion you typed with the template for this score?")
            ask = st.columns(2)
            ask[0].button("Replace my text", key="review_template_replace", on_click=_insert_template,
                          args=(score_key, conclusion_key, view, True))  # fmt: skip
            ask[1].button("Keep my text", key="review_template_keep",
                          on_click=lambda: st.session_state.pop("review_template_ask", None))  # fmt: skip
    conclusion = st.text_area("Conclusion", key=conclusion_key, height=140, max_chars=MAX_CONCLUSION)
    reason = (
        st.text_input("Reason for the amendment", key="review_amend_reason", max_chars=MAX_REASON) if signed else ""
    )
    if not signed and (lacking := signing.missing(view, rois, score, conclusion, result)):
        st.caption("To sign, still needed: " + "; ".join(lacking) + ".")
    buttons = st.columns(3)
    action = None
    if not signed:
        if buttons[0].button("Save draft", key="review_save"):
            action = "draft"
        if buttons[1].button("Sign", type="primary", key="review_sign"):
            action = "sign"
    elif buttons[0].button("Amend", type="primary", key="review_amend"):
        action = "amend"
    expected = 0 if loaded is None else loaded.row_version
    if action:
        try:
            saved = service.save_review(
                store, view, user["username"], rois, score, conclusion, result, action, reason, expected
            )
        except SignBlockedError as exc:
            st.error("Not signed: missing " + "; ".join(exc.missing) + ".")
        except StaleReviewError as exc:
            st.error(f"Not saved: {exc}")
        except (StoreError, ValueError) as exc:
            show_error("Not saved", exc, "Reload the case to see the latest version, then try again.")
        else:
            st.session_state[loaded_key] = saved
            st.session_state["review_flash"] = f"Review {saved.status} (version {saved.version}) by {saved.reviewer}."
            st.rerun()
    if notice := signing.changed_since(loaded, view.review):
        st.warning(notice)
        st.button("Reload", key="review_reload", on_click=_reload, args=(case_id, mode))
    if msg := st.session_state.pop("review_flash", None):
        st.success(msg)
    if loaded is not None:
        st.caption(
            f"{mode.upper()} reading: version {loaded.version}, {loaded.status}, by {loaded.reviewer}"
            + (f", signed {loaded.signed_at:%Y-%m-%d %H:%M}" if loaded.signed_at else "")
            + f" · scale {scale.name if loaded.scale == scale.system else loaded.scale}"
        )
    if signed:
        try:
            pdf = signing.signed_pdf(store, loaded, user["username"])  # as archived at signing, byte for byte
        except Exception as exc:
            show_error("The PDF report could not be loaded", exc, "The signed reading is saved; try again later.")
        else:
            buttons[2].download_button(
                "PDF report",
                pdf,
                file_name=f"{case.case_id}-{mode}-v{loaded.version}.pdf",
                mime="application/pdf",
                key="review_pdf",
                type="secondary",
            )

# --- send-back to the PACS / scanner: only for cases that came over DICOM, when a destination is configured ------
sendback = sendback_availability(case, get_settings())
if sendback.shown:
    with st.container(border=True):
        c1, c2 = st.columns([3, 1], vertical_alignment="center")
        what = "the virtual elastogram" + (" and the signed report" if signed else " (the report follows once signed)")
        c1.markdown(
            f"**Send to PACS** · {what} into the original study"
            + (f" at `{sendback.destination}`" if sendback.usable else "")
        )
        if sendback.note:
            c1.warning(sendback.note)
        if c2.button("Send to PACS", key="review_send_back", disabled=not sendback.usable):
            with st.spinner(f"Sending to {sendback.destination}..."):
                try:
                    summary = send_back(store, case.case_id, get_settings(), mode=mode)
                except SendBackFailed as exc:
                    show_error("Not sent", exc, "Nothing was changed in the case; try again later.")
                else:
                    c1.success(f"Sent: {summary}.")

st.caption(f"Server time for this view: {(time.perf_counter() - started) * 1000:.0f} ms")
