"""Review: B-mode and virtual elastogram side by side, ROIs, the algorithm's proposal, the clinician's score."""

import time

import streamlit as st

from pages import _confirm as confirm_ui
from pages import _reading as reading_ui
from pages._common import (
    MODE_NAMES,
    available_modes,
    clicked,
    drop_pending_click,
    get_elastographer,
    get_store,
    plain,
    require_role,
    show_error,
    virtual_badge,
)
from usegan.scoring import ScoreResult
from usegan.scoring.systems import proposal_scale
from usegan.services import reading, service, signing
from usegan.services.compare import compare
from usegan.services.dicom import SendBackFailed, send_back, sendback_availability
from usegan.services.templates import qbox_summary
from usegan.settings import get_settings
from usegan.store import StoreError
from usegan.ui import figures, overlay, roi_canvas
from usegan.ui.roi_canvas import Marks
from usegan.vocab import Mode


def case_id_control() -> str:
    """The open case's id (from the worklist or the URL); stops the page when there is none or it is not an id."""
    case_id = st.session_state.get("review_case_id") or st.query_params.get("case")
    if not case_id:
        st.info("No case is open. Pick one on the **Worklist** or create one on the **New case** page.")
        st.stop()
    if not service.is_case_id(case_id):  # it may come from the URL: only an id's characters reach the title
        st.error(f"{plain(case_id)[:200]} is not a case id. Pick a case on the **Worklist**.")
        st.stop()
    if st.query_params.get("case") != case_id:  # in the address, so a reload or a bookmark opens this case again
        st.query_params["case"] = case_id
    return str(case_id)


def mode_control() -> str:
    """The elastography mode to read in (one with an installed model); stops the page when there is none."""
    modes = available_modes()
    if not modes:
        st.warning(
            "No USE-GAN model is installed: put a checkpoint (`*.pt`) in the model folder or ask an administrator."
        )
        st.stop()
    mode = st.segmented_control(
        "Elastography mode", modes, default=modes[0], key="review_mode", format_func=MODE_NAMES.get
    )
    return mode or modes[0]


def open_view(store, case_id: str, mode: str, user: dict) -> service.CaseView:
    """The case in ``mode`` with its virtual elastogram (generated on first view); stops the page on an error."""
    try:
        view = service.open_for_review(store, case_id, mode, get_elastographer(mode), user["username"])
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
    return view


def images(store, view: service.CaseView, mode: str) -> tuple[reading.Reading, ScoreResult, Marks]:
    """B-mode canvas (ROIs, caliper) | virtual elastogram or quality map | real elastogram; returns the reading of
    the drawn marks, the algorithm's proposal for them and the marks."""
    case = view.case
    spacing = reading.spacing_of(case)
    choice = reading_ui.toolbar(mode, spacing)
    columns = 3 if view.real is not None else 2
    scale = overlay.display_scale(view.bmode.shape[0], view.bmode.shape[1], 1200 // columns - 20, 480)
    canvas_view = roi_canvas.viewport(view.bmode.shape[:2], scale, choice.zoom, choice.pan)
    signed = view.review is not None and view.review.is_signed
    canvas_key, marks = reading_ui.current_marks(case, mode, view.rois, canvas_view, carry=not signed)
    uncertainty = reading.model_uncertainty(case, view.generation, get_elastographer(mode))
    read = reading.read(
        view.elasto, mode, view.generation.colour_scale, marks, spacing, choice.fat_diameter_mm,
        choice.qbox_diameter_mm, uncertainty,
    )  # fmt: skip

    image_cols = st.columns(columns)
    with image_cols[0]:
        st.markdown("**B-mode**: draw here (one lesion ROI at a time; a new one replaces the old)")
        reading_ui.carried_lesion_note(case, mode, marks, view.bmode.shape[:2], signed)
        background = overlay.overlay(view.bmode, view.elasto, choice.opacity) if choice.opacity else view.bmode
        reading_ui.bmode_canvas(
            choice, canvas_view, canvas_view.background(reading.guide_line(background, read.guide_row)), marks,
            canvas_key, reading_ui.circle_radius_px(choice, spacing, canvas_view),
        )  # fmt: skip
    rois, masks = read.rois, read.masks
    with image_cols[1]:
        if choice.quality:
            st.markdown(f"**Quality map** ({read.quality.source}): white = model sure, magenta = unsure")
            st.caption(reading_ui.QUALITY_MAP_LIMIT)
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
    return read, result, marks


def measurements(store, view: service.CaseView, mode: str, read: reading.Reading, marks: Marks, user: dict) -> None:
    """Strain ratio or Q-box, lesion size and the pixel spacing; the cine loop; the colour distribution."""
    case_id = view.case.case_id
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
            reading_ui.spacing_panel(store, case_id, read.spacing, marks, user["username"])

    reading_ui.cine_panel(view.case)
    plot_col, bar_col = st.columns([3, 2])
    dist = figures.distribution(view.elasto, mode, view.generation.colour_scale, read.masks.get("lesion"))
    plot_col.plotly_chart(figures.distribution_figure(dist), key="review_distribution")
    bar_col.plotly_chart(figures.colour_bar_figure(mode, view.generation.colour_scale), key="review_colour_bar")


def proposal_panel(result: ScoreResult, read: reading.Reading, mode: str) -> None:
    """The algorithm's proposal, kept visibly apart from the clinician's confirmed score."""
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


def sendback_panel(store, case, mode: str, signed: bool) -> None:
    """Send to the PACS / scanner: only for cases that came over DICOM, when a destination is configured."""
    sendback = sendback_availability(case, get_settings())
    if sendback.shown:
        with st.container(border=True):
            c1, c2 = st.columns([3, 1], vertical_alignment="center")
            what = "the virtual elastogram" + (
                " and the signed report" if signed else " (the report follows once signed)"
            )
            c1.markdown(
                f"**Send to PACS** · {what} into the original study"
                + (f" at `{sendback.destination}`" if sendback.usable else "")
            )
            if sendback.note:
                c1.warning(sendback.note)
            target = (case.case_id, mode, case.bmode_sha, signed)  # a click sends what it was made on only
            if clicked(c2, "Send to PACS", key="review_send_back", page="review", target=target,
                       disabled=not sendback.usable):  # fmt: skip
                with st.spinner(f"Sending to {sendback.destination}..."):
                    try:
                        summary = send_back(store, case.case_id, get_settings(), mode=mode)
                    except SendBackFailed as exc:
                        show_error("Not sent", exc, "Nothing was changed in the case; try again later.")
                    else:
                        c1.success(f"Sent: {summary}.")


def main() -> None:
    started = time.perf_counter()  # server time of this run, shown at the bottom (bench/dashboard_speed.py reads it)
    user = require_role("review")
    store = get_store()
    case_id = case_id_control()
    st.title(f"Case {case_id}")  # first: the reader sees which case this is before any control
    reading_ui.case_navigation(case_id)
    mode = mode_control()
    view = open_view(store, case_id, mode, user)
    reading_ui.image_notes(view.case)
    read, result, marks = images(store, view, mode)
    measurements(store, view, mode, read, marks, user)
    proposal_col, review_col = st.columns(2, border=True)
    with proposal_col:
        proposal_panel(result, read, mode)
        reading_ui.framed_panel(store, view, mode, read, result, user)
    reading_ui.remember_framing(view.case, read)
    with review_col:
        signed = confirm_ui.confirmed_panel(store, view, mode, read.rois, result, user)
    sendback_panel(store, view.case, mode, signed)
    drop_pending_click()  # this run got to the end: a click (Sign, Re-crop, ...) it did not carry out is not kept
    st.caption(f"Server time for this view: {(time.perf_counter() - started) * 1000:.0f} ms")


main()
