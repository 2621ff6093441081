"""New case: upload a PNG/JPEG/DICOM (frame picker, adjustable crop) or open a bundled sample."""

import hashlib

import streamlit as st

from pages._common import get_store, open_review, require_role, show_error
from usegan.imageio import ImageLoadError
from usegan.screencrop import CropBox, InvalidCropError
from usegan.services.intake import (
    create_sample_case,
    create_upload_case,
    crop_mask,
    list_samples,
    read_upload,
    suggested_patient_id,
)
from usegan.services.templates import ORGANS, SIDES
from usegan.settings import get_settings
from usegan.store.limits import MAX_NOTES
from usegan.ui.overlay import outline

user = require_role("new_case")
store = get_store()
settings = get_settings()
st.title("New case")
upload_tab, sample_tab = st.tabs(["Upload an image", "Bundled sample"])

with upload_tab:
    upload = st.file_uploader(
        "B-mode image: PNG, JPEG or DICOM (multi-frame allowed)",
        type=["png", "jpg", "jpeg", "dcm", "dicom"],
        key="new_case_upload",
        max_upload_size=settings.max_upload_mb,
    )
    if upload is None:
        st.info("Choose a file, or open a bundled sample in the other tab.")
    else:
        data = upload.getvalue()
        frame = int(st.session_state.get("new_case_frame", 1)) - 1  # the slider counts frames from 1, as readers do
        try:
            preview = read_upload(data, upload.name, frame=frame, max_pixels=settings.max_image_pixels)
        except (ImageLoadError, ValueError) as exc:
            show_error(f"Cannot read {upload.name}", None, f"{exc}. Upload a PNG, JPEG or DICOM B-mode image.")
            st.stop()
        if preview.n_frames > 1:
            st.slider("Frame", 1, preview.n_frames, key="new_case_frame", help="Multi-frame DICOM: pick one")
        image_col, form_col = st.columns([3, 2])
        with form_col, st.form("new_case_form"):
            st.markdown(f"**Image area** (suggested: confidence {preview.crop_confidence:.0%}; adjust if needed)")
            box = preview.suggested_crop
            digest = hashlib.sha256(data).hexdigest()[:12]  # new defaults for a new file or frame
            c1, c2, c3, c4 = st.columns(4)
            x = c1.number_input("x", 0, preview.width - 1, box.x, key=f"new_case_x_{digest}_{frame}")
            y = c2.number_input("y", 0, preview.height - 1, box.y, key=f"new_case_y_{digest}_{frame}")
            w = c3.number_input("width", 1, preview.width, box.w, key=f"new_case_w_{digest}_{frame}")
            h = c4.number_input("height", 1, preview.height, box.h, key=f"new_case_h_{digest}_{frame}")
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
        crop = CropBox(int(x), int(y), int(w), int(h))
        with image_col:
            try:
                shown = outline(
                    preview.pixels,
                    {"crop": crop_mask(preview.height, preview.width, crop)},
                    {"crop": "#ff9900"},
                    width=3,
                )
                st.image(
                    shown,
                    caption=f"{preview.name}: frame {preview.frame + 1} of {preview.n_frames}, "
                    f"{preview.width}x{preview.height} px; orange = image area kept",
                    width="stretch",
                )
            except InvalidCropError as exc:
                st.warning(str(exc))
        if create:
            try:
                case_id = create_upload_case(
                    store,
                    preview,
                    data,
                    crop=crop,
                    organ=organ,
                    user=user["username"],
                    side=side,
                    patient_id=patient_id.strip(),
                    notes=notes,
                )
            except Exception as exc:  # store / crop errors carry their own explanation
                show_error("The case could not be created", exc, "Fix the crop or metadata and try again.")
            else:
                open_review(case_id)

with sample_tab:
    samples = list_samples(settings.samples_dir)
    if not samples:
        st.info(f"No bundled samples in {settings.samples_dir}. Create them with `usegan phantom` (see README).")
    else:
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
