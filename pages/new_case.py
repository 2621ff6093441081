"""New case: upload a PNG/JPEG/DICOM (frame picker, crop preview redrawn as the crop is adjusted), open a bundled
sample, or upload a B-mode with the scanner's real elastogram; re-crop a case made with the wrong image area, or
withdraw one made by mistake."""

import hashlib

import streamlit as st

from pages._common import (
    FRAME_SUGGESTIONS,
    SHOWN_IMAGES,
    assign_widget_value,
    get_store,
    keyed_widget,
    open_review,
    plain,
    require_role,
    show_error,
)
from pages._intake import crop_controls, real_elastogram_tab, show_crop
from usegan.imageio import ImageLoadError
from usegan.screencrop import CropBox
from usegan.services.intake import (
    FRAME_FACTOR,
    correctable_cases,
    create_sample_case,
    create_upload_case,
    framed_crop,
    list_samples,
    open_for_recrop,
    read_upload,
    recrop_case,
    suggested_patient_id,
    withdraw_case,
    withdrawn_cases,
)
from usegan.services.templates import ORGANS, SIDES
from usegan.settings import get_settings
from usegan.store import StoreError
from usegan.store.limits import MAX_NOTES, MAX_REASON

user = require_role("new_case")
store = get_store()
settings = get_settings()
st.title("New case")


def upload_tab() -> None:
    upload = st.file_uploader(
        "B-mode image: PNG, JPEG or DICOM (multi-frame allowed)",
        type=["png", "jpg", "jpeg", "dcm", "dicom"],
        key="new_case_upload",
        max_upload_size=settings.max_upload_mb,
    )
    if upload is None:
        st.info("Choose a file, or open a bundled sample in the other tab.")
        return
    data = upload.getvalue()
    frame = int(st.session_state.get("new_case_frame", 1)) - 1  # the slider counts frames from 1, as readers do
    try:
        preview = read_upload(data, upload.name, frame=frame, max_pixels=settings.max_image_pixels)
    except (ImageLoadError, ValueError) as exc:
        todo = f"{plain(exc)}. Upload a PNG, JPEG or DICOM B-mode image."
        show_error(f"Cannot read {plain(upload.name)}", None, todo)
        return
    if preview.n_frames > 1:
        st.slider("Frame", 1, preview.n_frames, key="new_case_frame", help="Multi-frame DICOM: pick one")
    digest = hashlib.sha256(data).hexdigest()[:12]  # new defaults for a new file or frame
    image_col, form_col = st.columns([3, 2])
    with form_col:
        found = {"region": "the scanner's declared region", "screen": "detected", "whole": "whole image"}
        st.markdown(
            f"**Image area** ({found.get(preview.crop_source, preview.crop_source)}, "
            f"confidence {preview.crop_confidence:.0%}): adjust it and watch the orange box"
        )
        crop = crop_controls(f"new_case_crop_{digest}_{frame}", preview.width, preview.height, preview.suggested_crop)
        with st.form("new_case_form"):
            patient_id = st.text_input(
                "Patient ID (stored only as its keyed pseudonym)",
                value=suggested_patient_id(store, preview, settings),
                key=f"new_case_patient_{digest}",
            )
            c1, c2 = st.columns(2)
            organ = c1.selectbox("Organ", ORGANS, key="new_case_organ")
            side = c2.selectbox("Side", SIDES, key="new_case_side", format_func=lambda s: s or "-")
            notes = st.text_area("Notes", key="new_case_notes", height=80, max_chars=MAX_NOTES)
            create = st.form_submit_button("Create case and review", type="primary")
    with image_col:
        frame_of = f"frame {preview.frame + 1} of {preview.n_frames}, {preview.width}x{preview.height} px"
        show_crop(preview.pixels, crop, plain(f"{preview.name}: {frame_of}"))
    if create:
        try:
            case_id = create_upload_case(
                store, preview, data, crop=crop, organ=organ, user=user["username"], side=side,
                patient_id=patient_id.strip(), notes=notes,
            )  # fmt: skip
        except Exception as exc:  # store / crop errors carry their own explanation
            show_error("The case could not be created", exc, "Fix the crop or metadata and try again.")
        else:
            open_review(case_id)


def sample_tab() -> None:
    samples = list_samples(settings.samples_dir)
    if not samples:
        st.info(f"No bundled samples in {settings.samples_dir}. Create them with `usegan phantom` (see README).")
        return
    sample = st.selectbox(
        "Sample case (simulated phantom)", samples, format_func=lambda s: s.title, key="new_case_sample"
    )
    st.image(str(sample.folder / "bmode.png"), caption="B-mode of the sample", width=320)
    if st.button("Open as a new case", type="primary", key="new_case_open_sample"):
        try:
            case_id = create_sample_case(store, sample, user["username"])
        except Exception as exc:
            show_error("The sample could not be opened", exc, "Check that the sample folder is complete.")
        else:
            open_review(case_id)


def correct_tab() -> None:
    """Re-crop an unread case from its original file, or withdraw a case created by mistake."""
    if flash := st.session_state.pop("new_case_fix_flash", None):
        st.success(flash)
    case_ids = correctable_cases(store)
    opened = st.session_state.get("review_case_id")  # the case last opened in review, when still correctable
    index = case_ids.index(opened) if opened in case_ids else None
    case_id = st.selectbox(
        "Case (not withdrawn, no signed reading)", case_ids, index=index, key="new_case_fix_case",
        placeholder="choose a case",
    )  # fmt: skip
    if case_id is not None:
        correct_case(case_id)
    withdrawn = withdrawn_cases(store)
    with st.expander(f"Withdrawn cases ({len(withdrawn)} shown, newest first)", expanded=False):
        st.caption("Kept in the archive and the audit log with every file; hidden from the worklist.")
        st.dataframe(withdrawn, hide_index=True, width="stretch")


CLEAR_REASONS = "new_case_clear_reasons"  # session key: the case a re-crop or withdrawal was made for


def reason_keys(case_id: str) -> tuple[str, str]:
    """Session keys of the re-crop and withdrawal reasons typed for ``case_id`` (per case: a reason kept after a
    refusal must not be offered for another case)."""
    return f"new_case_recrop_reason_{case_id}", f"new_case_withdraw_reason_{case_id}"


def correct_case(case_id: str) -> None:
    done = st.session_state.pop(CLEAR_REASONS, None)
    if done is not None:  # set before the fields exist; keyed_widget makes sure the browser shows it
        for key in reason_keys(done):
            assign_widget_value(key, "")
    recrop_reason_key, withdraw_reason_key = reason_keys(case_id)
    try:
        view = open_for_recrop(store, case_id, settings)
    except (ImageLoadError, ValueError, StoreError) as exc:
        show_error(f"Case {case_id} cannot be re-cropped", exc, "Withdraw it if it was created by mistake.")
        view = None
    image_col, control_col = st.columns([3, 2])
    if view is not None:
        # the image the reader saw these controls on (the previous run): a re-crop made elsewhere since is refused
        fix_shown = f"new_case_fix_shown_{case_id}"
        shown_sha = st.session_state.get(fix_shown, view.bmode_sha)
        st.session_state[fix_shown] = view.bmode_sha
        with control_col:
            st.markdown("**Image area** (blue = now; adjust the orange box)")
            image = view.image
            start, key = view.crop, f"new_case_fix_{case_id}_{view.version}"
            measured_on, framing = st.session_state.get(FRAME_SUGGESTIONS, {}).get(case_id, (None, None))
            if framing is not None and measured_on == view.bmode_sha and view.can_recrop:
                st.caption(
                    f"In review, the lesion spans {framing.fraction:.0%} of the frame: small lesions read less "
                    f"reliably than lesions framed in a box about {FRAME_FACTOR:g}x their size. Framed, a smooth "
                    "benign-looking lesion also reads hard a little more often (docs/fidelity.md): weigh the reading "
                    "with the B-mode."
                )
                if st.toggle("Frame the lesion", key=f"{key}_framed"):
                    start, key = framed_crop(view, framing.shape, CropBox(*framing.box)), f"{key}_framed"
            crop = crop_controls(key, image.width, image.height, start)
            # the typed reason is kept when the store refuses (a stale image, a crop that changes nothing...) and
            # cleared once the re-crop is made
            with st.form(f"new_case_recrop_{case_id}"):
                reason = keyed_widget(
                    st.text_input, "Why re-crop (audited)", max_chars=MAX_REASON, key=recrop_reason_key
                )
                if not view.can_recrop:
                    st.caption(f"This case has a {view.status} reading: withdraw it and create a new case instead.")
                recrop = st.form_submit_button("Re-crop case", disabled=not view.can_recrop)
        with image_col:
            show_crop(view.image.pixels, crop, f"Case {case_id} ({view.status}), original file", current=view.crop)
        if recrop:
            try:
                sha = recrop_case(
                    store, case_id, crop, user=user["username"], reason=reason, settings=settings,
                    expected_sha=shown_sha,
                )  # fmt: skip
            except Exception as exc:  # the store says why (a reading exists, the crop does not fit ...)
                show_error("The case could not be re-cropped", exc)
            else:
                st.session_state.get(FRAME_SUGGESTIONS, {}).pop(case_id, None)  # it measured the earlier image
                st.session_state.setdefault(SHOWN_IMAGES, {})[case_id] = sha  # made here: not "elsewhere" in review
                st.session_state[fix_shown] = sha
                st.session_state["new_case_fix_flash"] = f"Case {case_id} re-cropped; the earlier image is kept."
                st.session_state[CLEAR_REASONS] = case_id
                st.rerun()
    with control_col:
        with st.form(f"new_case_withdraw_{case_id}"):  # the reason is kept on a refusal, as above
            reason = keyed_widget(
                st.text_input, "Reason for withdrawing (audited; at least 3 characters)", max_chars=MAX_REASON,
                key=withdraw_reason_key,
            )  # fmt: skip
            withdraw = st.form_submit_button("Withdraw case")
        if st.button("Open in review", key="new_case_fix_open"):
            open_review(case_id)
    if withdraw:
        try:
            withdraw_case(store, case_id, reason, user=user["username"])
        except (ValueError, StoreError) as exc:
            show_error("The case was not withdrawn", exc)
        else:
            st.session_state["new_case_fix_flash"] = f"Case {case_id} withdrawn: kept in the archive, off the worklist."
            st.session_state[CLEAR_REASONS] = case_id
            st.rerun()


# The file-uploading and re-crop tabs run only while open (on_change="rerun"): one file uploader on the page at a
# time and no decoding for a hidden tab. The bundled-sample tab is light and always there.
upload, sample, real, correct = st.tabs(
    ["Upload an image", "Bundled sample", "With its real elastogram", "Re-crop or withdraw a case"],
    key="new_case_tab",
    on_change="rerun",
)
with sample:
    sample_tab()
if upload.open:
    with upload:
        upload_tab()
if real.open:
    with real:
        real_elastogram_tab(store, settings, user)
if correct.open:
    with correct:
        correct_tab()
