"""The review page's reading tools as small Streamlit functions: controls return values, panels render a
:class:`usegan.services.reading.Reading`. No maths here: it lives in :mod:`usegan.services.reading` and
:mod:`usegan.scoring.measurements`.

Session-state keys start with ``review_`` (the page that owns them).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from pages._common import FRAME_SUGGESTIONS, MODE_NAMES, SHOWN_IMAGES, clicked, get_elastographer, show_error
from usegan.scoring.confidence import NO_CAUTION_EVIDENCE
from usegan.scoring.geometry import PixelSpacing, calibrate
from usegan.scoring.measurements import MeasurementSeries
from usegan.scoring.roi import roi_iou
from usegan.services import cine, framed, reading, signing
from usegan.services.intake import RECROPPABLE, recrop_to_box
from usegan.settings import get_settings
from usegan.store import StoreError
from usegan.ui import pictograms, roi_canvas
from usegan.ui.roi_canvas import Marks
from usegan.vocab import Mode, Organ

TOOLS = {
    "lesion": "Lesion ROI (yellow)",
    "reference": "Fat reference (cyan circle)",
    "qbox": "Q-box (magenta circle)",
    "caliper": "Caliper (distance)",
    "calibration": "Calibrate (known length)",
}
SHAPES = {"rect": "Rectangle", "polygon": "Polygon", "freedraw": "Free-hand"}
UNKNOWN_CIRCLE_PX = 16  # circle diameter in pixels while the spacing is unknown


@dataclass(frozen=True)
class ToolChoice:
    """What the reader picked in the tool bar."""

    tool: str  # a key of TOOLS
    shape: str  # lesion shape: rect / polygon / freedraw
    fat_diameter_mm: float
    qbox_diameter_mm: float
    zoom: float
    pan: tuple[float, float]  # centre of the view, fractions of width / height
    opacity: float
    quality: bool  # show the quality map instead of the elastogram

    @property
    def drawing_mode(self) -> str:
        if self.tool == "lesion":
            return self.shape
        return "point" if self.tool in ("reference", "qbox") else "line"


def toolbar(mode: str, spacing: PixelSpacing | None) -> ToolChoice:
    """The reading tool bar: tool, lesion shape, circle diameters in mm, zoom/pan, overlay, quality map."""
    tools = [t for t in TOOLS if t != "qbox" or mode == Mode.SWE]
    row = st.columns([3.2, 1.6, 1.2, 1.2])
    tool = row[0].radio("Tool", tools, horizontal=True, key="review_tool", format_func=TOOLS.get)
    shape = row[1].radio(
        "Lesion shape", list(SHAPES), horizontal=True, key="review_shape", format_func=SHAPES.get,
        disabled=tool != "lesion",
    )  # fmt: skip
    no_mm = spacing is None
    fat = row[2].number_input("Fat circle (mm)", 1.0, 20.0, 3.0, 0.5, key="review_fat_mm", disabled=no_mm)
    qbox = 2.0
    if mode == Mode.SWE:
        qbox = row[3].number_input("Q-box (mm)", 1.0, 20.0, 2.0, 0.5, key="review_qbox_mm", disabled=no_mm)
    view_row = st.columns([1.4, 1.3, 1.3, 2, 1.2])
    zoom = view_row[0].segmented_control("Zoom", [1, 2, 4], default=1, key="review_zoom", format_func="{}x".format)
    zoom = zoom or 1
    pan_x = view_row[1].slider("Pan across", 0.0, 1.0, 0.5, 0.05, key="review_pan_x", disabled=zoom == 1)
    pan_y = view_row[2].slider("Pan down", 0.0, 1.0, 0.5, 0.05, key="review_pan_y", disabled=zoom == 1)
    opacity = view_row[3].slider("Elastogram over the B-mode", 0.0, 1.0, 0.0, 0.05, key="review_opacity")
    quality = view_row[4].toggle("Quality map", key="review_quality", help="Where the model is unsure (magenta)")
    return ToolChoice(tool, shape, float(fat), float(qbox), float(zoom), (pan_x, pan_y), opacity, quality)


def circle_radius_px(choice: ToolChoice, spacing: PixelSpacing | None, view: roi_canvas.Viewport) -> int:
    """Radius on the canvas of the circle the point tool drops."""
    if choice.tool not in ("reference", "qbox"):
        return 3
    if spacing is None:
        return max(2, round(UNKNOWN_CIRCLE_PX / 2 * view.scale))
    diameter = choice.fat_diameter_mm if choice.tool == "reference" else choice.qbox_diameter_mm
    return max(2, round(diameter / 2 / spacing.col_mm * view.scale))


def _pending_drawing(key: str) -> dict | None:
    """The drawing the canvas ``key`` sent since the last run (None before it sent one)."""
    try:
        return st.session_state[key]["drawing"]["raw"]
    except (KeyError, TypeError):
        return None


def current_marks(
    case, mode: str, saved_rois: dict, view: roi_canvas.Viewport, carry: bool = True
) -> tuple[str, Marks]:
    """The canvas key to draw with and the reader's marks as they are now, the canvas's latest edits included.

    The newest ROI and line of each role is kept. When an older shape is still on the canvas (a second lesion was
    drawn), the canvas is drawn anew under a new key from the kept marks, in this same run: the new ROI visibly
    replaces the old one. Zoom and pan are part of the key (a new view starts from the kept marks too). With
    ``carry`` (not for a signed reading) a lesion outlined in the other mode on this image starts this one's marks
    when it has none.
    """
    state_key, rev_key, prefix = signing.marks_keys("review", case.case_id, mode, case.bmode_sha)
    marks = st.session_state.get(state_key) or Marks(rois=dict(saved_rois))
    if carry and state_key not in st.session_state:
        marks = _with_carried_lesion(case, mode, marks)
    rev = st.session_state.get(rev_key, 0)
    where = f"{view.scale:.4f}_{view.x0:.1f}_{view.y0:.1f}"
    key = f"{prefix}_{where}_{rev}"
    pending = _pending_drawing(key)
    if pending is not None and f"review_initial_{key}" in st.session_state:
        now = roi_canvas.marks_from_canvas(pending, view)
        if now.stale:
            st.session_state[rev_key] = rev + 1
            key = f"{prefix}_{where}_{rev + 1}"
        marks = Marks(now.rois, now.lines, {role: 1 for role in (*now.rois, *now.lines)})
    st.session_state[state_key] = marks
    return key, marks


CARRIED_LESIONS = "review_carried_lesions"  # session key: (case, mode, image) -> (mode it came from, the ROI)


def _with_carried_lesion(case, mode: str, marks: Marks) -> Marks:
    """``marks`` with the lesion ROI this session drew on the same image in the other mode, when ``marks`` has
    none: both virtual elastograms are generated from one B-mode, so the lesion is where the reader outlined it."""
    if "lesion" in marks.rois:
        return marks
    for other in Mode:
        theirs = st.session_state.get(signing.marks_keys("review", case.case_id, other, case.bmode_sha).marks)
        if other != mode and theirs is not None and "lesion" in theirs.rois:
            lesion = theirs.rois["lesion"]
            st.session_state.setdefault(CARRIED_LESIONS, {})[(case.case_id, mode, case.bmode_sha)] = (other, lesion)
            return Marks(rois={**marks.rois, "lesion": lesion}, lines=dict(marks.lines))
    return marks


def carried_lesion_note(case, mode: str, marks: Marks, shape: tuple[int, int], signed: bool) -> None:
    """Say that the lesion ROI was carried over from the other mode, while it is (within a pixel or so, after the
    canvas's round trip) the ROI carried and the reading is not signed."""
    carried = st.session_state.get(CARRIED_LESIONS, {})
    came_from, lesion = carried.get((case.case_id, mode, case.bmode_sha), (None, None))
    now = marks.rois.get("lesion")
    if signed or came_from is None or now is None:
        return
    if roi_iou(lesion, now, shape) >= 0.9:
        st.info(
            f"Lesion ROI carried over from the {MODE_NAMES[Mode(came_from)]} reading of this image: check it "
            "here before you sign (redraw it to change it; the other reading keeps its own ROI)."
        )


def bmode_canvas(choice: ToolChoice, view: roi_canvas.Viewport, background, marks: Marks, key: str, radius: int):
    """The drawing canvas over the (zoomed) B-mode. Its initial drawing is made from the kept marks whenever the
    canvas has no value of its own: when it is first built, and when Streamlit dropped its value on a page switch
    (an initial drawing kept from before would come back from the remounted canvas as an edit and erase the marks).
    While the canvas holds a value it holds the truth: redrawing it from the server then would fight the mouse."""
    initial_key = f"review_initial_{key}"
    if key not in st.session_state or initial_key not in st.session_state:
        st.session_state[initial_key] = roi_canvas.rois_to_drawing(marks.rois, view, lines=marks.lines)
    initial = st.session_state[initial_key]
    st_canvas(
        fill_color=roi_canvas.ROI_FILL,
        stroke_width=2,
        background_image=background,
        stroke_color=roi_canvas.COLOURS[choice.tool],
        height=view.height,
        width=view.width,
        drawing_mode=choice.drawing_mode,
        point_display_radius=radius,
        initial_drawing=initial,
        key=key,
    )


def spacing_panel(store, case_id: str, spacing: PixelSpacing | None, marks: Marks, user: str) -> None:
    """Say which spacing the millimetres use, and calibrate it from a line over a known length (kept with the
    case)."""
    if spacing is not None:
        st.caption(f"Pixel spacing {spacing.describe()}.")
    else:
        st.warning(
            "Pixel spacing unknown: lengths are in pixels. Calibrate: pick **Calibrate**, draw a line over a known "
            "length (e.g. 10 mm on the depth ruler) and enter it below."
        )
    line = marks.lines.get("calibration")
    cols = st.columns([2, 1], vertical_alignment="bottom")
    known = cols[0].number_input("Known length of the orange line (mm)", 0.5, 500.0, 10.0, 0.5, key="review_known_mm")
    if clicked(cols[1], "Calibrate", key="review_calibrate", page="review", target=case_id, disabled=line is None):
        try:
            reading.save_calibration(store, case_id, calibrate(line.start, line.end, float(known)), user)
        except (StoreError, ValueError) as exc:
            st.error(f"Not calibrated: {exc}")
        else:
            st.rerun()


def _mm(value_mm: float | None, value_px: float | None) -> str:
    return f"{value_mm:.1f} mm" if value_mm is not None else f"{value_px:.0f} px (spacing unknown)"


def _record(series_key: str, current_key: str) -> None:
    # A callback: it runs before the script, so the count, the table and the mean include the new measurement in
    # this very run, and it records the measurement the reader saw when clicking (not a newer one).
    measurement = st.session_state.get(current_key)
    if measurement is not None and measurement.ratio is not None and not st.session_state[series_key].full:
        st.session_state[series_key] = st.session_state[series_key].add(measurement)


def _clear(series_key: str) -> None:
    st.session_state[series_key] = MeasurementSeries(max_n=st.session_state[series_key].max_n)


def strain_ratio_panel(result: reading.Reading, case_id: str) -> None:
    """The strain-ratio tool: this measurement (both means, ratio, depth check), the series with mean and SD."""
    key, current_key = f"review_sr_series_{case_id}", f"review_sr_current_{case_id}"
    if key not in st.session_state:
        st.session_state[key] = MeasurementSeries(max_n=reading.MAX_MEASUREMENTS)
    series: MeasurementSeries = st.session_state[key]
    m = st.session_state[current_key] = result.strain_ratio
    st.markdown("**Strain ratio** (fat / lesion; lesion ROI + fat circle at the same depth)")
    if m is None:
        st.caption(result.problems.get("strain_ratio", ""))
    else:
        if m.ratio is None:
            st.warning(f"No ratio: {m.reason}.")
        else:
            st.markdown(
                f"Lesion mean strain **{m.lesion_mean_strain:.2f}** · fat mean strain **{m.reference_mean_strain:.2f}**"
                f" · ratio **{m.ratio:.2f}**"
            )
        offset = _mm(m.depth_offset_mm, m.depth_offset_px)
        if m.same_depth:
            st.caption(f"Fat reference at the lesion's depth (centre offset {offset}).")
        else:
            st.warning(f"The fat reference is not at the lesion's depth ({offset}): move it onto the dashed line.")
    cols = st.columns(2)
    cols[0].button(
        f"Record measurement ({len(series.items)}/{series.max_n})", key="review_sr_record",
        disabled=m is None or m.ratio is None or series.full, on_click=_record, args=(key, current_key),
    )  # fmt: skip
    cols[1].button("Clear measurements", key="review_sr_clear", disabled=not series.items, on_click=_clear, args=(key,))
    if series.items:
        rows = [
            {"#": i, "ratio": f"{x.ratio:.2f}", "lesion strain": f"{x.lesion_mean_strain:.2f}",
             "fat strain": f"{x.reference_mean_strain:.2f}"}
            for i, x in enumerate(series.items, start=1)
        ]  # fmt: skip
        st.dataframe(rows, hide_index=True, key="review_sr_table")
        sd = f" ± SD {series.sd:.2f}" if series.sd is not None else ""
        st.markdown(f"Strain ratio mean **{series.mean:.2f}**{sd} (n = {len(series.items)})")


def qbox_panel(result: reading.Reading) -> None:
    """The SWE Q-box: Emean/Emax/Emin/SD in kPa and m/s, where Emax is, and the ratio against the fat circle."""
    q = result.qbox
    st.markdown("**Q-box**")
    if q is None:
        st.caption(result.problems.get("qbox", ""))
        return
    if q.emean_kpa is None:
        st.warning(f"No Q-box figures: {q.reason}.")
        return
    size = f"{q.diameter_mm:g} mm circle" if q.diameter_mm is not None else f"{UNKNOWN_CIRCLE_PX} px circle"
    top, bottom = " (scale top)" if q.at_scale_max else "", " (scale bottom)" if q.at_scale_min else ""
    rows = [
        {"": "Emean", "kPa": f"{q.emean_kpa:.1f}", "m/s": f"{q.mean_ms:.2f}"},
        {"": "Emax", "kPa": f"{q.emax_kpa:.1f}{top}", "m/s": f"{q.max_ms:.2f}"},
        {"": "Emin", "kPa": f"{q.emin_kpa:.1f}{bottom}", "m/s": f"{q.min_ms:.2f}"},
        {"": "SD", "kPa": f"{q.sd_kpa:.1f}", "m/s": f"{q.sd_ms:.2f}"},
    ]
    st.caption(f"{size}, {q.pixels} pixels · Emax at x {q.emax_at[0]}, y {q.emax_at[1]} (white cross)")
    st.dataframe(rows, hide_index=True, key="review_qbox_table")
    if q.ratio is not None:
        st.markdown(f"Q-box ratio (lesion / fat) **{q.ratio:.2f}** · fat Emean {q.reference_emean_kpa:.1f} kPa")
    else:
        st.caption("Click a fat circle (cyan) for the Q-box ratio.")


def lesion_panel(result: reading.Reading) -> None:
    """Lesion size (two axes), the E/B ratio and the caliper's distance."""
    st.markdown("**Lesion and caliper**")
    if result.size is not None:
        st.markdown(f"Lesion size (scored region) **{result.size.describe()}**")
    if result.eb is not None:
        if result.eb.ratio is None:
            st.caption(f"E/B ratio: {result.eb.reason}.")
        else:
            lengths = (
                f"{_mm(result.eb.elasto_length_mm, result.eb.elasto_length_px)} on the elastogram / "
                f"{_mm(result.eb.bmode_length_mm, result.eb.bmode_length_px)} on the B-mode"
            )
            st.markdown(f"E/B ratio **{result.eb.ratio:.2f}** ({lengths}; > 1 favours malignancy)")
    if result.caliper_px is not None:
        st.markdown(f"Caliper distance **{_mm(result.caliper_mm, result.caliper_px)}**")
    else:
        st.caption("Caliper: pick **Caliper** and drag a line on the B-mode.")


def remember_framing(case, result: reading.Reading) -> None:
    """Hand a lesion that is small in the frame to the re-crop tab (New case), which offers a box around it while
    the case's image is the one it was measured on."""
    suggestions = st.session_state.setdefault(FRAME_SUGGESTIONS, {})
    case_id = case.case_id
    if result.framing is not None and result.framing.caution:
        suggestions[case_id] = (case.bmode_sha, result.framing)
    else:
        suggestions.pop(case_id, None)


FRAMED_EVIDENCE = (
    "Why: on the second simulator (docs/fidelity.md, lesions under a quarter of the frame, seeds 0-4) the bundled "
    "models (usegan-strain-v6, usegan-swe-v5) read 56 and 74 of 107 carcinomas hard in the whole image and 106 and "
    "106 framed like this, while 15 and 15 of 183 fibroadenomas more read hard framed (cysts soft either way): "
    "weigh it with the B-mode."
)
QUALITY_MAP_LIMIT = f"White is no reassurance: {NO_CAUTION_EVIDENCE} (docs/fidelity.md)."
IMAGE_NOTES = "review_image_notes"  # session key: case id -> (B-mode sha, kind, text), shown while that image is up


def framed_panel(store, view, mode: str, read: reading.Reading, whole: object, user: dict) -> None:
    """For a lesion small in the frame: the lesion read on a box about 3x its size (a preview, labelled, not
    stored; the proposal stays the whole image's), and one click to re-crop the case to that box."""
    if read.framing is None or not read.framing.caution or "lesion" not in read.rois or view.generation is None:
        return
    version, engine = view.generation.model_version, get_elastographer(mode)
    if engine is None or engine.info.version != version:
        loaded = "no model" if engine is None else f"model {engine.info.version}"
        st.caption(f"Framed reading: needs the model that made this elastogram ({version}); {loaded} is loaded.")
        return
    try:
        look = framed.framed_reading(
            view.bmode, read.rois["lesion"], mode, view.case.organ, engine, extent=read.framing,
            image_key=view.case.bmode_sha,
        )  # fmt: skip
    except Exception as exc:  # a model that fails on the box must not take the signing panel with it
        show_error("The framed reading could not be generated", exc, "The whole image's reading is unaffected.")
        return
    if look is None:  # an ROI that is not a shape, or outside the image: nothing to frame
        return
    with st.container(border=True):
        st.markdown(f"**Framed reading** (preview): the lesion in a box {look.factor:g}x its size")
        bmode, elasto = framed.display_images(look)
        left, right = st.columns(2)
        left.image(bmode, caption="B-mode in the box", width="stretch")
        right.image(elasto, caption=look.elastogram.caption, width="stretch")
        whole_score = getattr(whole, "score", None)
        st.markdown(
            f"Proposed on the framed box: **{look.proposal.score if look.proposal.score is not None else '-'}** "
            f"({look.proposal.label}) · on the whole image: **{whole_score if whole_score is not None else '-'}**"
        )
        st.caption(FRAMED_EVIDENCE)
        case = view.case
        if case.status not in RECROPPABLE:
            st.caption(f"This case has a {case.status} reading on the whole image; the framed reading stays a preview.")
            return
        st.caption(
            "Re-cropping reads the same area from the original file's pixels, so the new image's proposal can "
            "differ slightly from this preview."
        )
        target = (case.case_id, mode, case.bmode_sha, look.box)  # a click counts for the box it was made on only
        if clicked(st, "Re-crop the case to this box", key=f"review_frame_{case.case_id}_{mode}", page="review",
                   target=target):  # fmt: skip
            adopt_framing(store, view, mode, read, look, user)


def adopt_framing(store, view, mode: str, read: reading.Reading, look: framed.FramedReading, user: dict) -> None:
    """Re-crop the case to the framed box (audited), carry the reader's ROIs onto the new image and run again."""
    case = view.case
    reason = (
        f"framed on the lesion from the review page: the lesion spanned {read.framing.fraction:.0%} of the earlier "
        "image's shorter side"
    )
    try:
        sha = recrop_to_box(store, case, look.box, user=user["username"], reason=reason, settings=get_settings())
    except (StoreError, ValueError) as exc:  # the store says why (re-cropped or read meanwhile, an unreadable file)
        show_error("The case could not be re-cropped", exc, "Nothing was changed; the re-crop tab of New case can.")
        return
    new = store.get_case(case.case_id)
    keys = signing.marks_keys("review", case.case_id, mode, sha)
    st.session_state[keys.marks] = Marks(rois=framed.carried_rois(read.rois, look.box, (new.height, new.width)))
    st.session_state.get(FRAME_SUGGESTIONS, {}).pop(case.case_id, None)  # it measured the earlier image
    notes = st.session_state.setdefault(IMAGE_NOTES, {})
    notes[case.case_id] = (sha, "success", f"Case {case.case_id} re-cropped to the framed box; the earlier image is "
                           "kept (audited).")  # fmt: skip
    st.session_state.setdefault(SHOWN_IMAGES, {})[case.case_id] = sha  # this tab made the change
    st.rerun()


def image_notes(case) -> None:
    """Say so when the case's image changed: re-cropped here to the framed box, or in another tab or by another
    user since this session last showed it (what was drawn on the earlier image stays with it). The note stays
    while that image is shown: a rerun the reader did not ask for (the canvas reporting its drawing) must not
    wipe it."""
    shown = st.session_state.setdefault(SHOWN_IMAGES, {})
    notes = st.session_state.setdefault(IMAGE_NOTES, {})
    before = shown.get(case.case_id)
    if before is not None and before != case.bmode_sha:
        notes[case.case_id] = (case.bmode_sha, "warning", (
            f"Case {case.case_id} was re-cropped elsewhere (another tab or user) since this page showed it: this is "
            "the new image; what was drawn on the earlier one stays with that image."
        ))  # fmt: skip
    shown[case.case_id] = case.bmode_sha
    sha, kind, text = notes.get(case.case_id, (None, "", ""))
    if sha == case.bmode_sha:
        (st.success if kind == "success" else st.warning)(text)


def confidence_line(result: reading.Reading) -> None:
    """The ROI's confidence and the lesion's framing beside the proposal, each a caution where it fails."""
    for check in (result.confidence, result.framing):
        if check is None:
            continue
        if check.caution:
            st.warning(check.describe())
        else:
            st.caption(check.describe())


@st.cache_data(show_spinner="Reading the frames...", max_entries=4)
def _cine(case_id: str, _case) -> tuple[list, bytes]:
    frames = cine.cine_frames(_case)
    return frames, cine.cine_gif(frames)


@st.cache_data(show_spinner=False, max_entries=64)
def _frame_count(case_id: str, _case) -> int:
    return cine.frame_count(_case)


def cine_panel(case) -> None:
    """For a multi-frame original: the loop playing, and any frame by its number (from 1)."""
    n = _frame_count(case.case_id, case)
    if n < 2:
        return
    shown = int((case.dicom_uids or {}).get("frame", 0) or 0) + 1
    with st.expander(f"Cine: {n} frames (frame {shown} is the one read)"):
        if not st.toggle("Play the loop", key=f"review_cine_{case.case_id}"):
            return
        frames, clip = _cine(case.case_id, case)
        left, right = st.columns(2)
        left.image(clip, caption=f"{len(frames)} frames, looping at 10 frames/s")
        number = right.slider("Frame", 1, len(frames), shown, key=f"review_cine_frame_{case.case_id}")
        right.image(frames[number - 1], caption=f"frame {number} of {n}")


def _go_to(case_id: str) -> None:
    st.session_state["review_case_id"] = case_id


def case_navigation(case_id: str) -> None:
    """Previous / next case in the worklist's current order (as filtered there)."""
    order = st.session_state.get("worklist_case_ids") or []
    if case_id not in order:
        return
    i = order.index(case_id)
    before, after = (order[i - 1] if i > 0 else None), (order[i + 1] if i + 1 < len(order) else None)
    cols = st.columns([1, 1, 4], vertical_alignment="center")
    cols[0].button("← Previous case", key="review_previous", disabled=before is None, on_click=_go_to, args=(before,))
    cols[1].button("Next case →", key="review_next", disabled=after is None, on_click=_go_to, args=(after,))
    cols[2].caption(f"Case {i + 1} of {len(order)} on the worklist")


def score_pictograms(organ: str) -> None:
    """Tsukuba (breast) or Rago (thyroid) pictograms above the score picker."""
    system = {Organ.BREAST: "tsukuba", Organ.THYROID: "rago"}.get(organ)
    if system is not None:
        st.image(pictograms.strip(system), caption=f"{system.capitalize()} score pictograms (drawn, schematic)")
